"""``/v2.0/address-scopes``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.api.owner import requested_project, required
from nubo.network.service import address_scopes

router = Router()
TARGET = "service/network/address_scope"
UPDATABLE = ("name", "shared")
READ_ONLY = ("id", "ip_version", "project_id", "tenant_id")
CREATABLE = (*UPDATABLE, "ip_version", "project_id", "tenant_id")


def _check(body: dict[str, Any], *, create: bool) -> None:
    if not create:
        b.forbid_update(body, READ_ONLY, "address_scope")
    b.only(body, CREATABLE if create else UPDATABLE)
    b.string(body, "name")
    shared = b.boolean(body, "shared")
    if shared is not b.MISSING:
        body["shared"] = shared
    if create:
        required(body, "ip_version")
        body["ip_version"] = b.integer(body, "ip_version")
        if body["ip_version"] not in (4, 6):
            raise b.invalid("ip_version", f"{body['ip_version']} is not in [4, 6]")


def _target(scope: dict[str, Any]) -> dict[str, Any]:
    return {"id": scope["id"], "project_id": scope["project_id"],
            "tenant_id": scope["project_id"], "shared": scope["shared"]}


@router.get("/v2.0/address-scopes")
async def list_address_scopes(req: ApiRequest) -> Reply:
    req.authorize("get_address_scope", {"project_id": req.ctx.project_id})
    query = q.list_query(req)
    found, more = await address_scopes.list_address_scopes(req.rt, req.ctx, query)
    return q.page(req, "address_scopes", found, more, query)


@router.get("/v2.0/address-scopes/{scope_id}")
async def show_address_scope(req: ApiRequest) -> Reply:
    scope = await address_scopes.get_address_scope(req.rt, req.ctx, req.params["scope_id"])
    req.authorize("get_address_scope", _target(scope))
    return {"address_scope": q.project(scope, q.fields(req))}


@router.post("/v2.0/address-scopes", status=201, target=TARGET)
async def create_address_scope(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "address_scope")
    _check(body, create=True)
    project_id = requested_project(req, body)
    target = {"project_id": project_id, "tenant_id": project_id,
              "shared": bool(body.get("shared"))}
    req.authorize("create_address_scope", target)
    q.authorize_attributes(req, "create", "address_scope", body, target)
    return {"address_scope": await address_scopes.create_address_scope(req.rt, req.ctx, body)}


@router.put("/v2.0/address-scopes/{scope_id}", target=TARGET)
async def update_address_scope(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "address_scope")
    _check(body, create=False)
    current = await address_scopes.get_address_scope(req.rt, req.ctx, req.params["scope_id"])
    target = _target(current)
    req.authorize("update_address_scope", target)
    q.authorize_attributes(req, "update", "address_scope", body, target)
    scope = await address_scopes.update_address_scope(req.rt, req.ctx, current["id"], body)
    return {"address_scope": scope}


@router.delete("/v2.0/address-scopes/{scope_id}", status=204, target=TARGET)
async def delete_address_scope(req: ApiRequest) -> Reply:
    current = await address_scopes.get_address_scope(req.rt, req.ctx, req.params["scope_id"])
    req.authorize("delete_address_scope", _target(current))
    await address_scopes.delete_address_scope(req.rt, req.ctx, current["id"])
    return empty()
