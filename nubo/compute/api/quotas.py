"""``/v2.1/os-quota-sets`` and ``/v2.1/os-quota-class-sets``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from nubo.compute import tables as t
from nubo.compute.api import validation as v
from nubo.compute.service import quotas
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest

router = Router()
QUOTA = "service/compute/quota"


def quota_keys(req: ApiRequest) -> list[str]:
    """The quotas a quota set shows at the request's microversion."""
    hidden: set[str] = set()
    if req.at_least("2.36"):
        hidden.update(quotas.NETWORK_QUOTAS)
    if req.at_least("2.57"):
        hidden.update(quotas.INJECTED_FILE_QUOTAS)
    return [k for k in quotas.DEFAULTS if k not in hidden]


def class_keys(req: ApiRequest) -> list[str]:
    """Quota class sets: server group quotas appear and network ones go at 2.50."""
    hidden: set[str] = set()
    if req.at_least("2.50"):
        hidden.update(quotas.NETWORK_QUOTAS)
    else:
        hidden.update({"server_groups", "server_group_members"})
    if req.at_least("2.57"):
        hidden.update(quotas.INJECTED_FILE_QUOTAS)
    return [k for k in quotas.DEFAULTS if k not in hidden]


def _target(req: ApiRequest, project_id: str) -> dict[str, Any]:
    return {"project_id": project_id, "user_id": req.query.get("user_id") or req.ctx.user_id}


def _pick(values: dict[str, int], keys: list[str]) -> dict[str, int]:
    return {k: values[k] for k in keys}


async def in_use(req: ApiRequest, project_id: str, user_id: str | None) -> dict[str, int]:
    async with req.rt.db.read() as conn:
        used = await quotas.usage(conn, project_id, user_id)
        keypairs = (await conn.execute(select(func.count()).select_from(t.key_pairs).where(
            t.key_pairs.c.user_id == (user_id or req.ctx.user_id)))).scalar_one()
    return {**{k: 0 for k in quotas.DEFAULTS}, **used, "key_pairs": int(keypairs)}


async def _limits(req: ApiRequest, project_id: str, user_id: str | None) -> dict[str, int]:
    async with req.rt.db.read() as conn:
        return await quotas.project_limits(conn, req.rt, project_id, user_id)


@router.get("/v2.1/os-quota-sets/{project_id}")
async def show_quota_set(req: ApiRequest) -> Reply:
    project_id = req.params["project_id"]
    req.authorize("os_compute_api:os-quota-sets:show", _target(req, project_id))
    limits = await _limits(req, project_id, req.query.get("user_id"))
    return {"quota_set": {"id": project_id, **_pick(limits, quota_keys(req))}}


@router.get("/v2.1/os-quota-sets/{project_id}/detail")
async def show_quota_set_detail(req: ApiRequest) -> Reply:
    project_id = req.params["project_id"]
    req.authorize("os_compute_api:os-quota-sets:detail", _target(req, project_id))
    user_id = req.query.get("user_id")
    limits = await _limits(req, project_id, user_id)
    used = await in_use(req, project_id, user_id)
    detail = {k: {"limit": limits[k], "in_use": used[k], "reserved": 0}
              for k in quota_keys(req)}
    return {"quota_set": {"id": project_id, **detail}}


@router.get("/v2.1/os-quota-sets/{project_id}/defaults")
async def show_quota_defaults(req: ApiRequest) -> Reply:
    project_id = req.params["project_id"]
    req.authorize("os_compute_api:os-quota-sets:defaults", _target(req, project_id))
    async with req.rt.db.read() as conn:
        limits = await quotas.class_limits(conn, req.rt)
    return {"quota_set": {"id": project_id, **_pick(limits, quota_keys(req))}}


def parse_limits(body: dict[str, Any], keys: list[str], where: str) -> dict[str, int]:
    v.only(body, keys, where)
    return {k: v.integer(k, value, -1) for k, value in body.items()}


async def _check_against_usage(req: ApiRequest, project_id: str, user_id: str | None,
                               values: dict[str, int]) -> None:
    used = await in_use(req, project_id, user_id)
    project = await _limits(req, project_id, None) if user_id else {}
    for resource, limit in values.items():
        if user_id and project.get(resource, -1) != -1 and (
                limit == -1 or limit > project[resource]):
            raise BadRequest(f"Quota limit {limit} for {resource} must be less than or equal "
                             f"to {project[resource]}.")
        if limit != -1 and limit < used.get(resource, 0):
            raise BadRequest(f"Quota limit {limit} for {resource} must be greater than or "
                             f"equal to already used and reserved {used[resource]}.")


@router.put("/v2.1/os-quota-sets/{project_id}", target=QUOTA)
async def update_quota_set(req: ApiRequest) -> Reply:
    body = dict(await req.json_object("quota_set"))
    project_id = req.params["project_id"]
    req.authorize("os_compute_api:os-quota-sets:update", _target(req, project_id))
    user_id = req.query.get("user_id")
    force = v.boolean("force", body.pop("force", False))
    values = parse_limits(body, quota_keys(req), "quota_set")
    if not force:
        await _check_against_usage(req, project_id, user_id, values)
    async with req.rt.db.transaction() as tx:
        await quotas.set_project_limits(tx, project_id, values, user_id)
    limits = await _limits(req, project_id, user_id)
    return {"quota_set": _pick(limits, quota_keys(req))}


@router.delete("/v2.1/os-quota-sets/{project_id}", status=202, target=QUOTA)
async def delete_quota_set(req: ApiRequest) -> Reply:
    project_id = req.params["project_id"]
    req.authorize("os_compute_api:os-quota-sets:delete", _target(req, project_id))
    async with req.rt.db.transaction() as tx:
        await quotas.delete_project_limits(tx, project_id, req.query.get("user_id"))
    return None


@router.get("/v2.1/os-quota-class-sets/{class_name}")
async def show_quota_class_set(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-quota-class-sets:show", {})
    class_name = req.params["class_name"]
    async with req.rt.db.read() as conn:
        limits = await quotas.class_limits(conn, req.rt, class_name)
    return {"quota_class_set": {"id": class_name, **_pick(limits, class_keys(req))}}


@router.put("/v2.1/os-quota-class-sets/{class_name}", target=QUOTA)
async def update_quota_class_set(req: ApiRequest) -> Reply:
    body = await req.json_object("quota_class_set")
    req.authorize("os_compute_api:os-quota-class-sets:update", {})
    class_name = v.string("id", req.params["class_name"]) or ""
    values = parse_limits(body, class_keys(req), "quota_class_set")
    async with req.rt.db.transaction() as tx:
        await quotas.set_class_limits(tx, class_name, values)
    async with req.rt.db.read() as conn:
        limits = await quotas.class_limits(conn, req.rt, class_name)
    return {"quota_class_set": _pick(limits, class_keys(req))}
