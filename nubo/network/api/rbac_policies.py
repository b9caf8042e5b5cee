"""``/v2.0/rbac-policies`` (the ``rbac-policies`` extension and its object types)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import rbac, rbac_policies

router = Router()
TARGET = "service/network/rbac-policy"
REQUIRED = ("object_type", "object_id", "action", "target_tenant")
CREATABLE = (*REQUIRED, "tenant_id", "project_id")


def _invalid(reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for operation: {reason}.", type="InvalidInput")


def _target_project(body: dict[str, Any]) -> None:
    value = body["target_tenant"]
    if value != rbac.EVERYONE and not b.is_uuid(value):
        raise _invalid(f"'{value}' is not a valid target project ID; expected a UUID or "
                       "'*'")


def _check_create(body: dict[str, Any]) -> None:
    b.only(body, CREATABLE)
    for key in REQUIRED:
        if key not in body:
            raise BadRequest(f"Failed to parse request. Required attribute '{key}' not "
                             "specified", type="HTTPBadRequest")
    kind = body["object_type"]
    normal = kind.strip().lower() if isinstance(kind, str) else kind
    if normal not in rbac.KINDS:
        raise _invalid(f"'{kind}' is not a valid RBAC object type")
    body["object_type"] = normal
    b.uuid_value(body, "object_id")
    b.string(body, "action")
    b.string(body, "project_id")
    b.string(body, "tenant_id")
    _target_project(body)


def _target(policy: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": policy["project_id"], "tenant_id": policy["project_id"],
            "target_tenant": policy["target_tenant"]}


@router.get("/v2.0/rbac-policies")
async def list_policies(req: ApiRequest) -> Reply:
    query = q.list_query(req)
    found, more = await rbac_policies.list_policies(req.rt, req.ctx, query)
    items = [p for p in found if req.allowed("get_rbac_policy", _target(p))]
    return q.page(req, "rbac_policies", items, more, query)


@router.get("/v2.0/rbac-policies/{policy_id}")
async def show_policy(req: ApiRequest) -> Reply:
    policy = await rbac_policies.get_policy(req.rt, req.ctx, req.params["policy_id"])
    req.authorize("get_rbac_policy", _target(policy))
    return {"rbac_policy": q.project(policy, q.fields(req))}


@router.post("/v2.0/rbac-policies", status=201, target=TARGET)
async def create_policy(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "rbac_policy")
    _check_create(body)
    project_id = body.get("project_id", body.get("tenant_id", req.ctx.project_id))
    target = {"project_id": project_id, "tenant_id": project_id,
              "target_tenant": body["target_tenant"]}
    req.authorize("create_rbac_policy", target)
    q.authorize_attributes(req, "create", "rbac_policy", body, target)
    return {"rbac_policy": await rbac_policies.create_policy(req.rt, req.ctx, body)}


@router.put("/v2.0/rbac-policies/{policy_id}", target=TARGET)
async def update_policy(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "rbac_policy")
    b.forbid_update(body, ("object_type", "object_id", "action", "tenant_id", "project_id"),
                    "rbac_policy")
    b.only(body, ("target_tenant",))
    current = await rbac_policies.get_policy(req.rt, req.ctx, req.params["policy_id"])
    req.authorize("update_rbac_policy", _target(current))
    if "target_tenant" not in body:
        return {"rbac_policy": current}
    _target_project(body)
    target = {**_target(current), "target_tenant": body["target_tenant"]}
    q.authorize_attributes(req, "update", "rbac_policy", body, target)
    return {"rbac_policy": await rbac_policies.update_policy(req.rt, req.ctx, current["id"],
                                                            body)}


@router.delete("/v2.0/rbac-policies/{policy_id}", status=204, target=TARGET)
async def delete_policy(req: ApiRequest) -> Reply:
    current = await rbac_policies.get_policy(req.rt, req.ctx, req.params["policy_id"])
    req.authorize("delete_rbac_policy", _target(current))
    await rbac_policies.delete_policy(req.rt, req.ctx, current["id"])
    return empty()
