"""Who is calling: the request context every handler and service function gets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    """An authenticated caller, as validated from its token.

    Exactly one scope is set: ``project_id``, ``domain_id``, ``system_scope``, or
    none (an unscoped token).
    """

    user_id: str
    user_name: str = ""
    user_domain_id: str = ""
    user_domain_name: str = ""
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    project_domain_name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None
    system_scope: str | None = None
    roles: tuple[str, ...] = ()
    role_ids: tuple[str, ...] = ()
    is_admin_project: bool = False
    auth_token: str = ""
    methods: tuple[str, ...] = ()
    audit_ids: tuple[str, ...] = ()
    issued_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    app_cred_id: str | None = None
    trust_id: str | None = None
    request_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        if self.project_id:
            return "project"
        if self.domain_id:
            return "domain"
        if self.system_scope:
            return "system"
        return "unscoped"

    def has_role(self, role: str) -> bool:
        return role.lower() in self.roles

    def to_policy_values(self) -> dict[str, Any]:
        """Credentials as the policy engine sees them (oslo.context's names)."""
        return {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "scope": self.scope,
            "roles": list(self.roles),
            "is_admin_project": self.is_admin_project,
            "token.id": self.auth_token,
        }

    def to_bus(self) -> dict[str, Any]:
        """The part of the context carried in bus envelopes."""
        return {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": list(self.roles),
            "request_id": self.request_id,
        }
