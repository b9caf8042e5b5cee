"""The project a create request is for: ``project_id`` (or the older ``tenant_id``)
from the body, else the caller's. Only those who may act for other projects (admins)
may name another one: neutron-lib's ``_validate_privileges``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubo.core.api.routing import ApiRequest
from nubo.core.errors import BadRequest
from nubo.network.service import standard


def requested_project(req: ApiRequest, body: Mapping[str, Any]) -> str:
    project = standard.owner(req.ctx, body)
    if project != req.ctx.project_id and not standard.is_admin(req.rt, req.ctx):
        raise BadRequest("Specifying 'project_id' other than the authenticated project in "
                         "request is not allowed for the current user.",
                         type="HTTPBadRequest")
    return project


def required(body: Mapping[str, Any], *keys: str) -> None:
    """Attributes a create must give (Neutron's message for the first one missing)."""
    for key in keys:
        if key not in body:
            raise BadRequest(f"Failed to parse request. Required attribute '{key}' not "
                             "specified", type="HTTPBadRequest")
