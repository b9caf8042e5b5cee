"""``/v2.0/security-groups``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import Conflict
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import security_groups

router = Router()
TARGET = "service/network/security_group"
UPDATABLE = ("name", "description", "stateful")
CREATABLE = (*UPDATABLE, "tenant_id", "project_id", "tags")


def _check(body: dict[str, Any], *, create: bool) -> None:
    b.only(body, CREATABLE if create else UPDATABLE)
    name = b.string(body, "name")
    # Neutron's ``name_not_default`` validator: one ``default`` per project, made by it
    if isinstance(name, str) and name.lower() == "default":
        raise Conflict("Default security group already exists.",
                       type="SecurityGroupDefaultAlreadyExists")
    b.string(body, "description", nullable=True)
    b.string(body, "project_id")
    b.string(body, "tenant_id")
    stateful = b.boolean(body, "stateful")
    if stateful is not b.MISSING:
        body["stateful"] = stateful
    b.string_list(body, "tags")


def target(group: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": group["project_id"], "tenant_id": group["project_id"],
            "shared": group["shared"], "id": group["id"]}


@router.get("/v2.0/security-groups")
async def list_security_groups(req: ApiRequest) -> Reply:
    req.authorize("get_security_group", {"project_id": req.ctx.project_id, "shared": False})
    query = q.list_query(req)
    found, more = await security_groups.list_security_groups(req.rt, req.ctx, query)
    return q.page(req, "security_groups", found, more, query)


@router.get("/v2.0/security-groups/{security_group_id}")
async def show_security_group(req: ApiRequest) -> Reply:
    group = await security_groups.get_security_group(req.rt, req.ctx,
                                                     req.params["security_group_id"])
    req.authorize("get_security_group", target(group))
    return {"security_group": q.project(group, q.fields(req))}


@router.post("/v2.0/security-groups", status=201, target=TARGET)
async def create_security_group(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "security_group")
    _check(body, create=True)
    project_id = body.get("project_id", body.get("tenant_id", req.ctx.project_id))
    req.authorize("create_security_group", {"project_id": project_id, "tenant_id": project_id})
    group = await security_groups.create_security_group(req.rt, req.ctx, body)
    return {"security_group": group}


@router.put("/v2.0/security-groups/{security_group_id}", target=TARGET)
async def update_security_group(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "security_group")
    _check(body, create=False)
    current = await security_groups.get_security_group(req.rt, req.ctx,
                                                       req.params["security_group_id"])
    req.authorize("update_security_group", target(current))
    group = await security_groups.update_security_group(req.rt, req.ctx, current["id"], body,
                                                        if_match=q.if_match(req))
    return {"security_group": group}


@router.delete("/v2.0/security-groups/{security_group_id}", status=204, target=TARGET)
async def delete_security_group(req: ApiRequest) -> Reply:
    current = await security_groups.get_security_group(req.rt, req.ctx,
                                                       req.params["security_group_id"])
    req.authorize("delete_security_group", target(current))
    await security_groups.delete_security_group(req.rt, req.ctx, current["id"],
                                                if_match=q.if_match(req))
    return empty()
