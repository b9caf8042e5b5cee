"""What a running process holds: settings, database, bus, policy, audit.

Built once by the launcher (``nubo.cli``) and handed to every service's API and
workers. Services reach each other's operations through ``services`` (in the
all-in-one shape these are the other services' ``service`` modules).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nubo.core.auth.context import RequestContext
from nubo.core.config import Settings
from nubo.core.db.engine import Database

if TYPE_CHECKING:
    from nubo.core.audit import AuditLog
    from nubo.core.auth.policy import PolicyEngine
    from nubo.core.bus.base import Bus

TokenValidator = Callable[[str, str], Awaitable[RequestContext]]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    policy: PolicyEngine
    audit: AuditLog
    # set by the identity service: validates X-Auth-Token locally (token, request id)
    validate_token: TokenValidator | None = None
    # per-service state kept for the life of the process (caches, catalogs)
    state: dict[str, Any] = field(default_factory=dict)
