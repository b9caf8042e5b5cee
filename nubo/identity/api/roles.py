"""``/v3/roles``, implied roles, grants and ``/v3/role_assignments``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import links
from nubo.identity.service import assignments, resource, roles
from nubo.identity.service.assignments import Assignment, Grant

router = Router()
ROLE = "service/identity/role"
ASSIGNMENT = "service/identity/role_assignment"


# ---------------------------------------------------------------- roles


def _rule(base: str, domain_specific: bool) -> str:
    return base.replace("_role", "_domain_role") if domain_specific else base


@router.post("/v3/roles", status=201, target=ROLE)
async def create_role(req: ApiRequest) -> Reply:
    body = await req.json_object("role")
    req.authorize(_rule("identity:create_role", bool(body.get("domain_id"))),
                  {"target": {"role": body}})
    return {"role": links.entity(req, "roles", await roles.create_role(req.rt, body))}


@router.get("/v3/roles")
async def list_roles(req: ApiRequest) -> Reply:
    f = links.filters(req)
    req.authorize(_rule("identity:list_roles", bool(f.get("domain_id"))),
                  {"target": {"role": {"domain_id": f.get("domain_id")}}})
    return links.collection(req, "roles", "roles", await roles.list_roles(req.rt, f))


async def _role(req: ApiRequest, base: str) -> dict[str, Any]:
    role = await roles.get_role(req.rt, req.params["role_id"])
    req.authorize(_rule(base, bool(role["domain_id"])), {"target": {"role": role}})
    return role


@router.get("/v3/roles/{role_id}")
async def get_role(req: ApiRequest) -> Reply:
    return {"role": links.entity(req, "roles", await _role(req, "identity:get_role"))}


@router.patch("/v3/roles/{role_id}", target=ROLE)
async def update_role(req: ApiRequest) -> Reply:
    body = await req.json_object("role")
    await _role(req, "identity:update_role")
    role = await roles.update_role(req.rt, req.params["role_id"], body)
    return {"role": links.entity(req, "roles", role)}


@router.delete("/v3/roles/{role_id}", status=204, target=ROLE)
async def delete_role(req: ApiRequest) -> Reply:
    await _role(req, "identity:delete_role")
    await roles.delete_role(req.rt, req.params["role_id"])
    return None


# ---------------------------------------------------------------- implied roles


def _inference(req: ApiRequest, inf: dict[str, Any]) -> dict[str, Any]:
    def role_link(r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "links": {"self": f"{links.base(req)}/roles/{r['id']}"}}

    implies = inf["implies"]
    return {"prior_role": role_link(inf["prior_role"]),
            "implies": [role_link(r) for r in implies] if isinstance(implies, list)
            else role_link(implies)}


def _inference_self(req: ApiRequest) -> dict[str, str]:
    p = req.params
    return {"self": f"{links.base(req)}/roles/{p['prior_id']}/implies/{p['implied_id']}"}


@router.put("/v3/roles/{prior_id}/implies/{implied_id}", status=201, target=ROLE)
async def create_implied_role(req: ApiRequest) -> Reply:
    req.authorize("identity:create_implied_role")
    inf = await roles.create_implied_role(req.rt, req.params["prior_id"],
                                          req.params["implied_id"])
    body = {"role_inference": _inference(req, inf), "links": _inference_self(req)}
    return JSONResponse(body, status_code=201)


@router.get("/v3/roles/{prior_id}/implies/{implied_id}")
async def get_implied_role(req: ApiRequest) -> Reply:
    req.authorize("identity:get_implied_role")
    inf = await roles.get_implied_role(req.rt, req.params["prior_id"], req.params["implied_id"])
    return {"role_inference": _inference(req, inf), "links": _inference_self(req)}


@router.head("/v3/roles/{prior_id}/implies/{implied_id}")
async def check_implied_role(req: ApiRequest) -> Reply:
    req.authorize("identity:check_implied_role")
    await roles.get_implied_role(req.rt, req.params["prior_id"], req.params["implied_id"])
    return JSONResponse(None, status_code=204)


@router.delete("/v3/roles/{prior_id}/implies/{implied_id}", status=204, target=ROLE)
async def delete_implied_role(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_implied_role")
    await roles.delete_implied_role(req.rt, req.params["prior_id"], req.params["implied_id"])
    return None


@router.get("/v3/roles/{prior_id}/implies")
async def list_implied_roles(req: ApiRequest) -> Reply:
    req.authorize("identity:list_implied_roles")
    inf = await roles.list_implied_roles(req.rt, req.params["prior_id"])
    return {"role_inference": _inference(req, inf[0]),
            "links": {"self": f"{links.base(req)}/roles/{req.params['prior_id']}/implies"}}


@router.get("/v3/role_inferences")
async def list_role_inference_rules(req: ApiRequest) -> Reply:
    req.authorize("identity:list_role_inference_rules")
    infs = await roles.list_implied_roles(req.rt, None)
    return {"role_inferences": [_inference(req, i) for i in infs],
            "links": {"self": f"{links.base(req)}/role_inferences"}}


# ---------------------------------------------------------------- grants

GRANT_PATHS = {
    # path prefix, target kind, target param, actor kind, inherited
    "/v3/projects/{target_id}/users/{actor_id}/roles": ("project", "user", False),
    "/v3/projects/{target_id}/groups/{actor_id}/roles": ("project", "group", False),
    "/v3/domains/{target_id}/users/{actor_id}/roles": ("domain", "user", False),
    "/v3/domains/{target_id}/groups/{actor_id}/roles": ("domain", "group", False),
    "/v3/system/users/{actor_id}/roles": ("system", "user", False),
    "/v3/system/groups/{actor_id}/roles": ("system", "group", False),
    "/v3/OS-INHERIT/domains/{target_id}/users/{actor_id}/roles": ("domain", "user", True),
    "/v3/OS-INHERIT/domains/{target_id}/groups/{actor_id}/roles": ("domain", "group", True),
    "/v3/OS-INHERIT/projects/{target_id}/users/{actor_id}/roles": ("project", "user", True),
    "/v3/OS-INHERIT/projects/{target_id}/groups/{actor_id}/roles": ("project", "group", True),
}


def _grant_rule(action: str, target_kind: str) -> str:
    if target_kind == "system":
        return {"create": "identity:create_system_grant_for_user",
                "check": "identity:check_system_grant_for_user",
                "revoke": "identity:revoke_system_grant_for_user",
                "list": "identity:list_system_grants_for_user"}[action]
    return {"create": "identity:create_grant", "check": "identity:check_grant",
            "revoke": "identity:revoke_grant", "list": "identity:list_grants"}[action]


def _system_rule(rule: str, actor: str) -> str:
    return rule.replace("_for_user", "_for_group") if actor == "group" else rule


def _register_grants(prefix: str, target_kind: str, actor: str, inherited: bool) -> None:
    suffix = "/inherited_to_projects" if inherited else ""

    def grant(req: ApiRequest) -> Grant:
        target = req.params.get("target_id", assignments.SYSTEM)
        return Grant(actor, req.params["actor_id"], target_kind, target,
                     req.params["role_id"], inherited)

    async def authorize(req: ApiRequest, action: str, role_id: str | None) -> None:
        rule = _system_rule(_grant_rule(action, target_kind), actor)
        target = await assignments.grant_target(
            req.rt, actor, req.params["actor_id"], target_kind, req.params.get("target_id"),
            role_id)
        req.authorize(rule, {"target": target})

    async def put(req: ApiRequest) -> Reply:
        await authorize(req, "create", req.params["role_id"])
        await assignments.create_grant(req.rt, grant(req))
        return None

    async def check(req: ApiRequest) -> Reply:
        await authorize(req, "check", req.params["role_id"])
        await assignments.check_grant(req.rt, grant(req))
        return None

    async def remove(req: ApiRequest) -> Reply:
        await authorize(req, "revoke", req.params["role_id"])
        await assignments.delete_grant(req.rt, grant(req))
        return None

    async def list_(req: ApiRequest) -> Reply:
        await authorize(req, "list", None)
        found = await assignments.list_grants(
            req.rt, actor, req.params["actor_id"], target_kind,
            req.params.get("target_id", assignments.SYSTEM), inherited)
        return links.collection(req, "roles", "roles", found)

    one = f"{prefix}/{{role_id}}{suffix}"
    router.put(one, status=204, target=ASSIGNMENT)(put)
    router.get(one, status=204)(check)
    router.delete(one, status=204, target=ASSIGNMENT)(remove)
    router.get(f"{prefix}{suffix}")(list_)


for _prefix, (_tk, _actor, _inh) in GRANT_PATHS.items():
    _register_grants(_prefix, _tk, _actor, _inh)


# ---------------------------------------------------------------- role_assignments


@router.get("/v3/role_assignments")
async def list_role_assignments(req: ApiRequest) -> Reply:
    q = links.filters(req)
    target: dict[str, Any] = {}
    domain_id = req.ctx.domain_id
    if "include_subtree" in q and "scope.project.id" in q:
        async with req.rt.db.read() as conn:
            project = await resource.get_row(conn, q["scope.project.id"])
        target["project"] = {"id": q["scope.project.id"]}
        domain_id = project["domain_id"] if project else None
        rule = "identity:list_role_assignments_for_tree"
    else:
        rule = "identity:list_role_assignments"
    target["domain_id"] = domain_id
    req.authorize(rule, {"target": target})
    found = await assignments.list_role_assignments(req.rt, q)
    if req.ctx.domain_id and not req.allowed(rule, {"target": {"domain_id": None}}):
        # a domain reader sees the assignments on its domain and its projects only
        found = await assignments.within_domain(req.rt, found, req.ctx.domain_id)
    names = await assignments.names(req.rt, found) if "include_names" in q and q[
        "include_names"] not in ("0", "false", "False") else None
    body = [_render_assignment(req, a, names) for a in found]
    return {"role_assignments": body, "links": {
        "self": f"{req.rt.settings.public_url}{req.path}"
                + (f"?{req.query_string}" if req.query_string else ""),
        "previous": None, "next": None}}


def _render_assignment(req: ApiRequest, a: Assignment, names: dict[str, Any] | None
                       ) -> dict[str, Any]:
    def ref(entity_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": entity_id}
        if names is not None and entity_id in names:
            out["name"] = names[entity_id]["name"]
            if names[entity_id]["domain"] is not None:
                out["domain"] = names[entity_id]["domain"]
        return out

    base = links.base(req)
    scope: dict[str, Any]
    if a.target_kind == "system":
        scope = {"system": {"all": True}}
    else:
        scope = {a.target_kind: ref(a.target_id)}
    if a.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    actor_kind = "groups" if a.via_group else f"{a.actor_kind}s"
    actor_id = a.via_group or a.actor_id
    role_id = a.prior_role or a.role_id
    src_kind, src_id = a.source_target or (a.target_kind, a.target_id)
    target_path = "system" if src_kind == "system" else f"{src_kind}s/{src_id}"
    link = f"{base}/{target_path}/{actor_kind}/{actor_id}/roles/{role_id}"
    if a.inherited or a.source_target:
        link = f"{base}/OS-INHERIT/{link[len(base) + 1:]}/inherited_to_projects"
    out: dict[str, Any] = {"role": ref(a.role_id), "scope": scope,
                           a.actor_kind: ref(a.actor_id), "links": {"assignment": link}}
    if a.via_group:
        out["links"]["membership"] = f"{base}/groups/{a.via_group}/users/{a.actor_id}"
    if a.prior_role:
        out["links"]["prior_role"] = f"{base}/roles/{a.prior_role}"
    return out
