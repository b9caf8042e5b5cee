"""``/v3/users`` and ``/v3/groups`` with membership, passwords, and a user's
projects, groups, application credentials and access rules."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity import backends
from nubo.identity.api import links
from nubo.identity.service import app_creds, assignments, groups, resource, users

router = Router()
USER = "service/identity/user"
GROUP = "service/identity/group"


def _default_domain(req: ApiRequest) -> str:
    return req.ctx.domain_id or req.ctx.project_domain_id or "default"


# ---------------------------------------------------------------- users


@router.post("/v3/users", status=201, target=USER)
async def create_user(req: ApiRequest) -> Reply:
    body = await req.json_object("user")
    body.setdefault("domain_id", _default_domain(req))
    req.authorize("identity:create_user", {"target": {"user": body}})
    user = await users.create_user(req.rt, body, _default_domain(req))
    return {"user": links.entity(req, "users", user)}


@router.get("/v3/users")
async def list_users(req: ApiRequest) -> Reply:
    f = links.filters(req)
    if req.ctx.domain_id and "domain_id" not in f:
        f["domain_id"] = req.ctx.domain_id
    req.authorize("identity:list_users", {"target": {"domain_id": f.get("domain_id")},
                                          "domain_id": f.get("domain_id")})
    _scope_list_to_domain(req, f)
    return links.collection(req, "users", "users", await users.list_users(req.rt, f))


def _scope_list_to_domain(req: ApiRequest, f: dict[str, str]) -> None:
    """With LDAP domains configured (Keystone's domain_specific_drivers_enabled), a
    user or group list without a domain_id filter covers the domain of the token's
    scope: its project's domain for a project-scoped token. A system-scoped token
    lists the SQL domains, as Keystone's default driver does."""
    if "domain_id" in f or not backends.configured(req.rt):
        return
    if req.ctx.project_id and req.ctx.project_domain_id:
        f["domain_id"] = req.ctx.project_domain_id


async def _user(req: ApiRequest, rule: str) -> dict[str, Any]:
    user = await users.get_user(req.rt, req.params["user_id"])
    req.authorize(rule, {"target": {"user": user}, "user_id": user["id"]})
    return user


@router.get("/v3/users/{user_id}")
async def get_user(req: ApiRequest) -> Reply:
    return {"user": links.entity(req, "users", await _user(req, "identity:get_user"))}


@router.patch("/v3/users/{user_id}", target=USER)
async def update_user(req: ApiRequest) -> Reply:
    body = await req.json_object("user")
    await _user(req, "identity:update_user")
    user = await users.update_user(req.rt, req.params["user_id"], body)
    return {"user": links.entity(req, "users", user)}


@router.delete("/v3/users/{user_id}", status=204, target=USER)
async def delete_user(req: ApiRequest) -> Reply:
    await _user(req, "identity:delete_user")
    await users.delete_user(req.rt, req.params["user_id"])
    return None


@router.post("/v3/users/{user_id}/password", status=204, public=True, target=USER)
async def change_password(req: ApiRequest) -> Reply:
    # Keystone lets a user whose password expired change it without a token.
    body = await req.json_object("user")
    await users.change_password(req.rt, req.params["user_id"], body.get("original_password"),
                                body.get("password"))
    return None


@router.get("/v3/users/{user_id}/groups")
async def list_groups_for_user(req: ApiRequest) -> Reply:
    await _user(req, "identity:list_groups_for_user")
    found = await groups.list_groups_for_user(req.rt, req.params["user_id"])
    return links.collection(req, "groups", "groups", found)


@router.get("/v3/users/{user_id}/projects")
async def list_user_projects(req: ApiRequest) -> Reply:
    await _user(req, "identity:list_user_projects")
    async with req.rt.db.read() as conn:
        ids = await assignments.project_ids_for_user(conn, req.params["user_id"], rt=req.rt)
    projects = [await resource.get_project(req.rt, pid) for pid in ids]
    f = links.filters(req)
    if "enabled" in f:
        want = users.enabled_filter(f["enabled"])
        projects = [p for p in projects if p["enabled"] == want]
    if "name" in f:
        projects = [p for p in projects if p["name"] == f["name"]]
    if "domain_id" in f:
        projects = [p for p in projects if p["domain_id"] == f["domain_id"]]
    return links.collection(req, "projects", "projects", projects)


# ---------------------------------------------------------------- application credentials


def _app_cred_links(req: ApiRequest, cred: dict[str, Any]) -> dict[str, Any]:
    return links.entity(req, f"users/{cred['user_id']}/application_credentials", cred)


@router.post("/v3/users/{user_id}/application_credentials", status=201,
             target="service/identity/application_credential")
async def create_application_credential(req: ApiRequest) -> Reply:
    body = await req.json_object("application_credential")
    user_id = req.params["user_id"]
    req.authorize("identity:create_application_credential", {
        "target": {"user": {"id": user_id}}, "user_id": user_id})
    cred = await app_creds.create(req.rt, req.ctx, user_id, body)
    return {"application_credential": _app_cred_links(req, cred)}


@router.get("/v3/users/{user_id}/application_credentials")
async def list_application_credentials(req: ApiRequest) -> Reply:
    user_id = req.params["user_id"]
    req.authorize("identity:list_application_credentials", {
        "target": {"user": {"id": user_id}}, "user_id": user_id})
    found = await app_creds.list_for_user(req.rt, user_id, req.query.get("name"))
    return links.collection(req, "application_credentials",
                            f"users/{user_id}/application_credentials", found)


@router.get("/v3/users/{user_id}/application_credentials/{cred_id}")
async def get_application_credential(req: ApiRequest) -> Reply:
    user_id = req.params["user_id"]
    req.authorize("identity:get_application_credential", {
        "target": {"user": {"id": user_id}, "application_credential": {"user_id": user_id}},
        "user_id": user_id})
    cred = await app_creds.get(req.rt, user_id, req.params["cred_id"])
    return {"application_credential": _app_cred_links(req, cred)}


@router.delete("/v3/users/{user_id}/application_credentials/{cred_id}", status=204,
               target="service/identity/application_credential")
async def delete_application_credential(req: ApiRequest) -> Reply:
    user_id = req.params["user_id"]
    req.authorize("identity:delete_application_credential", {
        "target": {"user": {"id": user_id}, "application_credential": {"user_id": user_id}},
        "user_id": user_id})
    await app_creds.delete_app_cred(req.rt, req.ctx, user_id, req.params["cred_id"])
    return None


@router.get("/v3/users/{user_id}/access_rules")
async def list_access_rules(req: ApiRequest) -> Reply:
    user_id = req.params["user_id"]
    req.authorize("identity:list_access_rules", {"target": {"user": {"id": user_id}},
                                                 "user_id": user_id})
    found = await app_creds.list_access_rules(req.rt, user_id)
    return links.collection(req, "access_rules", f"users/{user_id}/access_rules", found)


@router.get("/v3/users/{user_id}/access_rules/{rule_id}")
async def get_access_rule(req: ApiRequest) -> Reply:
    user_id = req.params["user_id"]
    req.authorize("identity:get_access_rule", {"target": {"user": {"id": user_id}},
                                               "user_id": user_id})
    rule = await app_creds.get_access_rule(req.rt, user_id, req.params["rule_id"])
    return {"access_rule": links.entity(req, f"users/{user_id}/access_rules", rule)}


@router.delete("/v3/users/{user_id}/access_rules/{rule_id}", status=204,
               target="service/identity/access_rule")
async def delete_access_rule(req: ApiRequest) -> Reply:
    user_id = req.params["user_id"]
    req.authorize("identity:delete_access_rule", {"target": {"user": {"id": user_id}},
                                                  "user_id": user_id})
    await app_creds.delete_access_rule(req.rt, user_id, req.params["rule_id"])
    return None


# ---------------------------------------------------------------- groups


@router.post("/v3/groups", status=201, target=GROUP)
async def create_group(req: ApiRequest) -> Reply:
    body = await req.json_object("group")
    body.setdefault("domain_id", _default_domain(req))
    req.authorize("identity:create_group", {"target": {"group": body}})
    group = await groups.create_group(req.rt, body, _default_domain(req))
    return {"group": links.entity(req, "groups", group)}


@router.get("/v3/groups")
async def list_groups(req: ApiRequest) -> Reply:
    f = links.filters(req)
    if req.ctx.domain_id and "domain_id" not in f:
        f["domain_id"] = req.ctx.domain_id
    wanted = f.get("domain_id")
    req.authorize("identity:list_groups", {
        "target": {"domain_id": wanted, "group": {"domain_id": wanted}}, "domain_id": wanted})
    _scope_list_to_domain(req, f)
    return links.collection(req, "groups", "groups", await groups.list_groups(req.rt, f))


async def _group(req: ApiRequest, rule: str) -> dict[str, Any]:
    group = await groups.get_group(req.rt, req.params["group_id"])
    req.authorize(rule, {"target": {"group": group}, "group_id": group["id"]})
    return group


@router.get("/v3/groups/{group_id}")
async def get_group(req: ApiRequest) -> Reply:
    return {"group": links.entity(req, "groups", await _group(req, "identity:get_group"))}


@router.patch("/v3/groups/{group_id}", target=GROUP)
async def update_group(req: ApiRequest) -> Reply:
    body = await req.json_object("group")
    await _group(req, "identity:update_group")
    group = await groups.update_group(req.rt, req.params["group_id"], body)
    return {"group": links.entity(req, "groups", group)}


@router.delete("/v3/groups/{group_id}", status=204, target=GROUP)
async def delete_group(req: ApiRequest) -> Reply:
    await _group(req, "identity:delete_group")
    await groups.delete_group(req.rt, req.params["group_id"])
    return None


@router.get("/v3/groups/{group_id}/users")
async def list_users_in_group(req: ApiRequest) -> Reply:
    await _group(req, "identity:list_users_in_group")
    found = await groups.list_users_in_group(req.rt, req.params["group_id"],
                                             links.filters(req))
    return links.collection(req, "users", "users", found)


async def _membership(req: ApiRequest, rule: str) -> tuple[str, str]:
    group = await groups.get_group(req.rt, req.params["group_id"])
    user = await users.get_user(req.rt, req.params["user_id"])
    req.authorize(rule, {"target": {"group": group, "user": user}})
    return group["id"], user["id"]


@router.put("/v3/groups/{group_id}/users/{user_id}", status=204, target=GROUP)
async def add_user_to_group(req: ApiRequest) -> Reply:
    await groups.add_user(req.rt, *await _membership(req, "identity:add_user_to_group"))
    return None


@router.get("/v3/groups/{group_id}/users/{user_id}", status=204)
async def check_user_in_group(req: ApiRequest) -> Reply:
    await groups.check_user(req.rt, *await _membership(req, "identity:check_user_in_group"))
    return None


@router.delete("/v3/groups/{group_id}/users/{user_id}", status=204, target=GROUP)
async def remove_user_from_group(req: ApiRequest) -> Reply:
    await groups.remove_user(req.rt,
                             *await _membership(req, "identity:remove_user_from_group"))
    return None
