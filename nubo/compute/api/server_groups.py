"""``/v2.1/os-server-groups``."""

from __future__ import annotations

from typing import Any

from nubo.compute.api import paging
from nubo.compute.api import validation as v
from nubo.compute.service import quotas, server_groups
from nubo.compute.service.server_groups import ServerGroup
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, Forbidden

router = Router()
GROUP = "service/compute/server_group"
HARD = ("affinity", "anti-affinity")


def view(req: ApiRequest, g: ServerGroup) -> dict[str, Any]:
    out: dict[str, Any] = {"id": g.id, "name": g.name}
    if req.at_least("2.64"):
        out.update(policy=g.policy, rules=g.rules)
    else:
        out.update(policies=[g.policy], metadata={})
    out["members"] = list(g.members)
    if req.at_least("2.13"):
        out.update(project_id=g.project_id, user_id=g.user_id)
    return out


def _target(req: ApiRequest, project_id: str | None = None) -> dict[str, Any]:
    return {"project_id": project_id or req.ctx.project_id, "user_id": req.ctx.user_id}


def _policies(req: ApiRequest) -> tuple[str, ...]:
    return server_groups.POLICIES if req.at_least("2.15") else HARD


def _parse(req: ApiRequest, body: dict[str, Any]) -> tuple[str, str, dict[str, int]]:
    modern = req.at_least("2.64")
    v.only(body, ("name", "policy", "rules") if modern else ("name", "policies"),
           "server_group")
    required = ("name", "policy") if modern else ("name", "policies")
    for key in required:
        if key not in body:
            raise BadRequest(f"Invalid input for field/attribute server_group. "
                             f"'{key}' is a required property")
    name = v.string("name", body["name"]) or ""
    if modern:
        policy = body["policy"]
    else:
        policies = body["policies"]
        if not isinstance(policies, list) or len(policies) != 1:
            raise v.invalid("policies", policies, "exactly one policy is required")
        policy = policies[0]
    if policy not in _policies(req):
        raise v.invalid("policy", policy, f"is not one of {list(_policies(req))}")
    rules = body.get("rules", {}) if modern else {}
    if not isinstance(rules, dict):
        raise v.invalid("rules", rules, "is not of type 'object'")
    v.only(rules, ("max_server_per_host",), "rules")
    if rules and policy != "anti-affinity":
        raise BadRequest("Only anti-affinity policy supports rules.")
    parsed = {k: v.integer(k, val, 1) for k, val in rules.items()}
    return name, policy, parsed


@router.post("/v2.1/os-server-groups", target=GROUP)
async def create_server_group(req: ApiRequest) -> Reply:
    body = await req.json_object("server_group")
    req.authorize("os_compute_api:os-server-groups:create", _target(req))
    name, policy, rules = _parse(req, body)
    try:
        group = await server_groups.create_server_group(req.rt, req.ctx, name=name,
                                                        policy=policy, rules=rules)
    except quotas.OverQuota:
        raise Forbidden("Quota exceeded, too many server groups.") from None
    return {"server_group": view(req, group)}


@router.get("/v2.1/os-server-groups")
async def list_server_groups(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-server-groups:index", _target(req))
    everyone = "all_projects" in req.query and req.allowed(
        "os_compute_api:os-server-groups:index:all_projects", _target(req))
    page = paging.limit(req)
    found = await server_groups.list_server_groups(
        req.rt, None if everyone else (req.ctx.project_id or ""), limit=page,
        offset=paging.offset(req))
    return {"server_groups": [view(req, g) for g in found]}


@router.get("/v2.1/os-server-groups/{group_id}")
async def show_server_group(req: ApiRequest) -> Reply:
    group = await server_groups.get_server_group(req.rt, None, req.params["group_id"])
    req.authorize("os_compute_api:os-server-groups:show", _target(req, group.project_id))
    return {"server_group": view(req, group)}


@router.delete("/v2.1/os-server-groups/{group_id}", status=204, target=GROUP)
async def delete_server_group(req: ApiRequest) -> Reply:
    group = await server_groups.get_server_group(req.rt, None, req.params["group_id"])
    req.authorize("os_compute_api:os-server-groups:delete", _target(req, group.project_id))
    await server_groups.delete_server_group(req.rt, req.ctx, group.id)
    return None
