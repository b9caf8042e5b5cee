"""``/v2.0/quotas`` (the ``quotas``, ``quota_details`` and ``quota-check-limit``
extensions): a project reads its own quota; admins read and set everyone's."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, Forbidden, NotImplementedYet
from nubo.network.api import bodies as b
from nubo.network.service import quota_limits, standard
from nubo.network.service.quotas import RESOURCES

router = Router()
TARGET = "service/network/quota"
MAX_LIMIT = 2**31 - 1


def _admin_required(req: ApiRequest, reason: str) -> None:
    if not standard.is_admin(req.rt, req.ctx):
        raise Forbidden(f"User does not have admin privileges: {reason}.",
                        type="AdminRequired")


def _may_read(req: ApiRequest, project_id: str) -> None:
    """Its own quota needs no rule; another project's does (``get_quota``)."""
    if project_id != req.ctx.project_id:
        req.authorize("get_quota", {"project_id": req.ctx.project_id})


def _limit(resource: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for operation: '{value}' is not an integer.",
                         type="InvalidInput") from None
    if number < -1:
        raise b.invalid(resource, f"'{number}' is too small - must be at least '-1'")
    if number > MAX_LIMIT:
        raise b.invalid(resource, f"'{number}' is too large - must be no larger than "
                        f"'{MAX_LIMIT}'")
    return number


def parse_limits(body: dict[str, Any]) -> tuple[dict[str, int], bool]:
    """The limits a PUT sets and whether it is forced (``check_limit`` is accepted:
    limits are always checked against usage unless forced)."""
    force = b.boolean(body, "force", default=False)
    b.boolean(body, "check_limit", default=False)
    limits = {k: v for k, v in body.items() if k not in ("force", "check_limit")}
    b.only(limits, RESOURCES)
    return {k: _limit(k, v) for k, v in limits.items()}, bool(force)


@router.get("/v2.0/quotas")
async def list_quotas(req: ApiRequest) -> Reply:
    _admin_required(req, "Only admin can view or configure quota")
    return {"quotas": await quota_limits.non_default(req.rt)}


@router.post("/v2.0/quotas", target=TARGET)
async def create_quota(req: ApiRequest) -> Reply:
    raise NotImplementedYet("POST requests are not supported on this resource.",
                            type="HTTPNotImplemented")


@router.get("/v2.0/quotas/tenant")
async def show_own_tenant(req: ApiRequest) -> Reply:
    return {"tenant": {"tenant_id": req.ctx.project_id}}


@router.get("/v2.0/quotas/project")
async def show_own_project(req: ApiRequest) -> Reply:
    return {"project": {"project_id": req.ctx.project_id}}


@router.get("/v2.0/quotas/{project_id}")
async def show_quota(req: ApiRequest) -> Reply:
    project_id = req.params["project_id"]
    _may_read(req, project_id)
    return {"quota": await quota_limits.project_limits(req.rt, project_id)}


@router.get("/v2.0/quotas/{project_id}/default")
async def show_default_quota(req: ApiRequest) -> Reply:
    _may_read(req, req.params["project_id"])
    return {"quota": quota_limits.defaults(req.rt.settings.network)}


@router.get("/v2.0/quotas/{project_id}/details")
async def show_quota_details(req: ApiRequest) -> Reply:
    project_id = req.params["project_id"]
    if project_id != req.ctx.project_id:
        _admin_required(req, "Only admin is authorized to access quotas for another project")
    return {"quota": await quota_limits.project_details(req.rt, project_id)}


@router.put("/v2.0/quotas/{project_id}", target=TARGET)
async def update_quota(req: ApiRequest) -> Reply:
    req.authorize("update_quota", {"project_id": req.ctx.project_id})
    body = await b.resource_body(req, "quota")
    limits, force = parse_limits(body)
    found = await quota_limits.update_limits(req.rt, req.params["project_id"], limits,
                                             force=force)
    return {"quota": found}


@router.delete("/v2.0/quotas/{project_id}", status=204, target=TARGET)
async def delete_quota(req: ApiRequest) -> Reply:
    req.authorize("delete_quota", {"project_id": req.ctx.project_id})
    await quota_limits.reset_limits(req.rt, req.params["project_id"])
    return empty()
