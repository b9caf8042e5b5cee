"""``/v3/registered_limits``, ``/v3/limits`` and ``/v3/limits/model``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound
from nubo.identity.api import links
from nubo.identity.service import limits, resource

router = Router()
REGISTERED_LIMIT = "service/identity/registered_limit"
LIMIT = "service/identity/limit"


async def _list_body(req: ApiRequest, key: str) -> Any:
    body = await req.json()
    if not isinstance(body, dict) or key not in body:
        raise BadRequest(f"'{key}' is a required property.")
    return body[key]


# ---------------------------------------------------------------- registered limits


@router.post("/v3/registered_limits", status=201, target=REGISTERED_LIMIT)
async def create_registered_limits(req: ApiRequest) -> Reply:
    items = await _list_body(req, "registered_limits")
    req.authorize("identity:create_registered_limits")
    made = await limits.create_registered_limits(req.rt, items)
    return {"registered_limits": [links.entity(req, "registered_limits", r) for r in made]}


@router.get("/v3/registered_limits")
async def list_registered_limits(req: ApiRequest) -> Reply:
    req.authorize("identity:list_registered_limits")
    found = await limits.list_registered_limits(req.rt, links.filters(req))
    return links.collection(req, "registered_limits", "registered_limits", found)


@router.get("/v3/registered_limits/{limit_id}")
async def get_registered_limit(req: ApiRequest) -> Reply:
    req.authorize("identity:get_registered_limit")
    found = await limits.get_registered_limit(req.rt, req.params["limit_id"])
    return {"registered_limit": links.entity(req, "registered_limits", found)}


@router.patch("/v3/registered_limits/{limit_id}", target=REGISTERED_LIMIT)
async def update_registered_limit(req: ApiRequest) -> Reply:
    body = await req.json_object("registered_limit")
    req.authorize("identity:update_registered_limit")
    found = await limits.update_registered_limit(req.rt, req.params["limit_id"], body)
    return {"registered_limit": links.entity(req, "registered_limits", found)}


@router.delete("/v3/registered_limits/{limit_id}", status=204, target=REGISTERED_LIMIT)
async def delete_registered_limit(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_registered_limit")
    await limits.delete_registered_limit(req.rt, req.params["limit_id"])
    return None


# ---------------------------------------------------------------- limits


@router.get("/v3/limits/model")
async def get_limit_model(req: ApiRequest) -> Reply:
    req.authorize("identity:get_limit_model")
    return {"model": dict(limits.MODEL)}


@router.post("/v3/limits", status=201, target=LIMIT)
async def create_limits(req: ApiRequest) -> Reply:
    items = await _list_body(req, "limits")
    req.authorize("identity:create_limits")
    made = await limits.create_limits(req.rt, items)
    return {"limits": [links.entity(req, "limits", r) for r in made]}


@router.get("/v3/limits")
async def list_limits(req: ApiRequest) -> Reply:
    """As Keystone: a project token sees its project's limits, a domain token its
    domain's and its projects', a system token all."""
    req.authorize("identity:list_limits")
    f = links.filters(req)
    ctx = req.ctx
    domain_scope = None
    if not ctx.system_scope:
        if ctx.project_id:
            if f.get("project_id", ctx.project_id) != ctx.project_id:
                return links.collection(req, "limits", "limits", [])
            f["project_id"] = ctx.project_id
        elif ctx.domain_id:
            domain_scope = ctx.domain_id
    found = await limits.list_limits(req.rt, f, domain_scope=domain_scope)
    return links.collection(req, "limits", "limits", found)


async def _limit_target(req: ApiRequest, limit: dict[str, Any]) -> dict[str, Any]:
    target: dict[str, Any] = dict(limit)
    try:
        if limit["project_id"]:
            target["project"] = await resource.get_project(req.rt, limit["project_id"])
        elif limit["domain_id"]:
            target["domain"] = await resource.get_domain(req.rt, limit["domain_id"])
    except NotFound:
        pass
    return {"target": {"limit": target}}


@router.get("/v3/limits/{limit_id}")
async def get_limit(req: ApiRequest) -> Reply:
    found = await limits.get_limit(req.rt, req.params["limit_id"])
    req.authorize("identity:get_limit", await _limit_target(req, found))
    return {"limit": links.entity(req, "limits", found)}


@router.patch("/v3/limits/{limit_id}", target=LIMIT)
async def update_limit(req: ApiRequest) -> Reply:
    body = await req.json_object("limit")
    req.authorize("identity:update_limit")
    found = await limits.update_limit(req.rt, req.params["limit_id"], body)
    return {"limit": links.entity(req, "limits", found)}


@router.delete("/v3/limits/{limit_id}", status=204, target=LIMIT)
async def delete_limit(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_limit")
    await limits.delete_limit(req.rt, req.params["limit_id"])
    return None
