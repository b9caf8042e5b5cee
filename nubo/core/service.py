"""How a service plugs into a process: its API, policy rules, catalog entry,
and what it starts and stops alongside the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from nubo.core.api.routing import ServiceApp
from nubo.core.runtime import Runtime


async def _nothing(rt: Runtime) -> None:
    return None


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    catalog_type: str
    catalog_name: str
    # path under the public URL, DevStack style: "/identity", "/compute/v2.1"
    endpoint_path: str
    api: Callable[[], ServiceApp]
    policy_defaults: Mapping[str, str] = field(default_factory=dict)
    start: Callable[[Runtime], Awaitable[None]] = _nothing
    stop: Callable[[Runtime], Awaitable[None]] = _nothing
