"""Networking: the Neutron v2.0 API (networks, subnets, ports, security groups,
routers, floating IPs) and, on hosts, the agents that realise it."""

from __future__ import annotations

from nubo.core.runtime import Runtime
from nubo.core.service import ServiceSpec


def _api():  # type: ignore[no-untyped-def]
    from nubo.network.api import service_app

    return service_app()


async def _start(rt: Runtime) -> None:
    from nubo.network import workers

    await workers.start(rt)


async def _stop(rt: Runtime) -> None:
    from nubo.network import workers

    await workers.stop(rt)


def spec() -> ServiceSpec:
    from nubo.network.policies import DEFAULTS

    return ServiceSpec(
        name="network", catalog_type="network", catalog_name="neutron",
        endpoint_path="/network", api=_api, policy_defaults=DEFAULTS,
        start=_start, stop=_stop,
    )
