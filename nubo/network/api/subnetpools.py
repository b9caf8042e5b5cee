"""``/v2.0/subnetpools`` and its ``add_prefixes`` / ``remove_prefixes`` actions."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.api.owner import requested_project, required
from nubo.network.service import subnetpools

router = Router()
TARGET = "service/network/subnetpool"
PREFIXLENS = ("default_prefixlen", "min_prefixlen", "max_prefixlen")
UPDATABLE = ("name", "prefixes", *PREFIXLENS, "default_quota", "is_default",
             "address_scope_id", "description")
READ_ONLY = ("id", "ip_version", "shared", "project_id", "tenant_id", "tags")
CREATABLE = (*UPDATABLE, "shared", "project_id", "tenant_id", "tags")


def _check(body: dict[str, Any], *, create: bool) -> None:
    if not create:
        b.forbid_update(body, READ_ONLY, "subnetpool")
    b.only(body, CREATABLE if create else UPDATABLE)
    if create:
        required(body, "name", "prefixes")
    if b.string(body, "name") == "":
        raise b.invalid("name", "'' Blank strings are not permitted")
    for key in (*PREFIXLENS, "default_quota"):
        value = b.integer(body, key, minimum=0, nullable=key == "default_quota")
        if value is not b.MISSING:
            body[key] = value
    for key in ("shared", "is_default"):
        value = b.boolean(body, key)
        if value is not b.MISSING:
            body[key] = value
    b.uuid_value(body, "address_scope_id", nullable=True)
    b.string_list(body, "tags")


def _target(pool: dict[str, Any]) -> dict[str, Any]:
    return {"id": pool["id"], "project_id": pool["project_id"],
            "tenant_id": pool["project_id"], "shared": pool["shared"],
            "is_default": pool["is_default"]}


@router.get("/v2.0/subnetpools")
async def list_subnetpools(req: ApiRequest) -> Reply:
    req.authorize("get_subnetpool", {"project_id": req.ctx.project_id})
    query = q.list_query(req)
    found, more = await subnetpools.list_subnetpools(req.rt, req.ctx, query)
    return q.page(req, "subnetpools", found, more, query)


@router.get("/v2.0/subnetpools/{pool_id}")
async def show_subnetpool(req: ApiRequest) -> Reply:
    pool = await subnetpools.get_subnetpool(req.rt, req.ctx, req.params["pool_id"])
    req.authorize("get_subnetpool", _target(pool))
    return {"subnetpool": q.project(pool, q.fields(req))}


@router.post("/v2.0/subnetpools", status=201, target=TARGET)
async def create_subnetpool(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "subnetpool")
    _check(body, create=True)
    project_id = requested_project(req, body)
    target = {"project_id": project_id, "tenant_id": project_id,
              "shared": bool(body.get("shared")), "is_default": bool(body.get("is_default"))}
    req.authorize("create_subnetpool", target)
    q.authorize_attributes(req, "create", "subnetpool", body, target)
    return {"subnetpool": await subnetpools.create_subnetpool(req.rt, req.ctx, body)}


@router.put("/v2.0/subnetpools/{pool_id}", target=TARGET)
async def update_subnetpool(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "subnetpool")
    _check(body, create=False)
    current = await subnetpools.get_subnetpool(req.rt, req.ctx, req.params["pool_id"])
    target = _target(current)
    req.authorize("update_subnetpool", target)
    q.authorize_attributes(req, "update", "subnetpool", body, target)
    pool = await subnetpools.update_subnetpool(req.rt, req.ctx, current["id"], body,
                                               if_match=q.if_match(req))
    return {"subnetpool": pool}


@router.delete("/v2.0/subnetpools/{pool_id}", status=204, target=TARGET)
async def delete_subnetpool(req: ApiRequest) -> Reply:
    current = await subnetpools.get_subnetpool(req.rt, req.ctx, req.params["pool_id"])
    req.authorize("delete_subnetpool", _target(current))
    await subnetpools.delete_subnetpool(req.rt, req.ctx, current["id"],
                                        if_match=q.if_match(req))
    return empty()


async def _prefixes_body(req: ApiRequest) -> list[Any]:
    """``{"prefixes": [...]}``: a non-empty list (neutron's message otherwise)."""
    body = await req.json()
    prefixes = body.get("prefixes") if isinstance(body, dict) else None
    if not prefixes or not isinstance(prefixes, list):
        raise BadRequest("Request body contains invalid data", type="HTTPBadRequest")
    return prefixes


@router.put("/v2.0/subnetpools/{pool_id}/add_prefixes", target=TARGET)
async def add_prefixes(req: ApiRequest) -> Reply:
    prefixes = await _prefixes_body(req)
    current = await subnetpools.get_subnetpool(req.rt, req.ctx, req.params["pool_id"])
    req.authorize("add_prefixes", _target(current))
    return {"prefixes": await subnetpools.add_prefixes(req.rt, req.ctx, current["id"],
                                                       prefixes)}


@router.put("/v2.0/subnetpools/{pool_id}/remove_prefixes", target=TARGET)
async def remove_prefixes(req: ApiRequest) -> Reply:
    prefixes = await _prefixes_body(req)
    current = await subnetpools.get_subnetpool(req.rt, req.ctx, req.params["pool_id"])
    req.authorize("remove_prefixes", _target(current))
    return {"prefixes": await subnetpools.remove_prefixes(req.rt, req.ctx, current["id"],
                                                          prefixes)}
