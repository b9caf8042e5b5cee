"""RBAC and isolation: who may do what, by role and scope."""

from __future__ import annotations

from typing import Any

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, password_token, unique


def test_member_cannot_create_users_or_see_other_projects(admin_api: Api,
                                                         member_factory: Any) -> None:
    a = member_factory()
    b = member_factory()
    r = admin_api.call("POST", "/users", {"user": {"name": unique("u")}}, token=a.token)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == 403
    r = admin_api.call("GET", f"/role_assignments?scope.project.id={b.project_id}",
                       token=a.token)
    assert r.status_code == 403
    assert admin_api.call("GET", f"/projects/{b.project_id}", token=a.token).status_code == 403
    assert admin_api.call("GET", f"/projects/{a.project_id}", token=a.token).status_code == 200
    assert admin_api.call("GET", f"/users/{b.user_id}", token=a.token).status_code == 403
    assert admin_api.call("GET", f"/users/{a.user_id}", token=a.token).status_code == 200


def test_reader_cannot_write(admin_api: Api, member_factory: Any) -> None:
    r = member_factory("reader")
    for method, path, body in (
            ("POST", "/projects", {"project": {"name": unique("p")}}),
            ("POST", "/roles", {"role": {"name": unique("r")}}),
            ("PATCH", f"/projects/{r.project_id}", {"project": {"description": "x"}}),
            ("POST", "/domains", {"domain": {"name": unique("d")}})):
        assert admin_api.call(method, path, body, token=r.token).status_code == 403, path


def test_system_reader_reads_everything_writes_nothing(cloud: Cloud, admin: Any,
                                                       admin_api: Api) -> None:
    user = admin.identity.create_user(name=unique("sys"), password="pw")
    role = admin.identity.find_role("reader")
    assert admin_api.call("PUT", f"/system/users/{user.id}/roles/{role.id}").status_code == 204
    tok = password_token(cloud, user.name, "pw", {"system": {"all": True}})
    assert tok.status_code == 201
    token = tok.headers["X-Subject-Token"]
    assert admin_api.call("GET", "/users", token=token).status_code == 200
    assert admin_api.call("GET", "/role_assignments", token=token).status_code == 200
    assert admin_api.call("POST", "/users", {"user": {"name": unique("u")}},
                          token=token).status_code == 403
    admin.identity.delete_user(user)


def test_domain_admin_is_confined_to_its_domain(cloud: Cloud, admin_api: Api) -> None:
    d1 = admin_api.call("POST", "/domains", {"domain": {"name": unique("d")}}).json()["domain"]
    d2 = admin_api.call("POST", "/domains", {"domain": {"name": unique("d")}}).json()["domain"]
    name = unique("dadmin")
    user = admin_api.call("POST", "/users", {"user": {
        "name": name, "password": "pw", "domain_id": d1["id"]}}).json()["user"]
    admin_role = admin_api.call("GET", "/roles?name=admin").json()["roles"][0]
    admin_api.call("PUT", f"/domains/{d1['id']}/users/{user['id']}/roles/{admin_role['id']}")
    tok = password_token(cloud, name, "pw", {"domain": {"id": d1["id"]}}, domain=d1["id"])
    assert tok.status_code == 201, tok.text
    token = tok.headers["X-Subject-Token"]
    ok = admin_api.call("POST", "/users", {"user": {"name": unique("u"),
                                                    "domain_id": d1["id"]}}, token=token)
    assert ok.status_code == 201, ok.text
    denied = admin_api.call("POST", "/users", {"user": {"name": unique("u"),
                                                        "domain_id": d2["id"]}}, token=token)
    assert denied.status_code == 403
    listed = admin_api.call("GET", "/users", token=token).json()["users"]
    assert {u["domain_id"] for u in listed} == {d1["id"]}
    assert admin_api.call("GET", f"/users?domain_id={d2['id']}", token=token).status_code == 403
    for d in (d1, d2):
        admin_api.call("PATCH", f"/domains/{d['id']}", {"domain": {"enabled": False}})
        admin_api.call("DELETE", f"/domains/{d['id']}")


def test_policy_covers_every_identity_route() -> None:
    """Every identity endpoint names a rule that exists in the defaults. Rules whose
    names are put together (``nubo.identity.api.crud``) are checked as the routes are
    made, so importing the API is part of the test."""
    import ast
    import pathlib

    from nubo.identity.api import service_app
    from nubo.identity.policies import DEFAULTS

    assert service_app().routers

    api = pathlib.Path(__file__).resolve().parents[3] / "nubo" / "identity" / "api"
    used: set[str] = set()
    for path in api.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.startswith("identity:") \
                    and not node.value.endswith(("_", ":")):  # f-string parts
                used.add(node.value)
    missing = sorted(r for r in used if r not in DEFAULTS)
    assert not missing, missing


def test_domain_manager_grants_within_its_domain(cloud: Cloud, admin_api: Api) -> None:
    d1 = admin_api.call("POST", "/domains", {"domain": {"name": unique("d")}}).json()["domain"]
    p1 = admin_api.call("POST", "/projects", {"project": {
        "name": unique("p"), "domain_id": d1["id"]}}).json()["project"]
    p0 = admin_api.call("POST", "/projects", {"project": {"name": unique("p")}}).json()["project"]
    roles = {r["name"]: r["id"] for r in admin_api.call("GET", "/roles").json()["roles"]}
    mgr = admin_api.call("POST", "/users", {"user": {
        "name": unique("mgr"), "password": "pw", "domain_id": d1["id"]}}).json()["user"]
    worker = admin_api.call("POST", "/users", {"user": {
        "name": unique("w"), "domain_id": d1["id"]}}).json()["user"]
    admin_api.call("PUT", f"/domains/{d1['id']}/users/{mgr['id']}/roles/{roles['manager']}")
    tok = password_token(cloud, mgr["name"], "pw", {"domain": {"id": d1["id"]}},
                         domain=d1["id"]).headers["X-Subject-Token"]
    grant = f"/projects/{p1['id']}/users/{worker['id']}/roles/{roles['member']}"
    assert admin_api.call("PUT", grant, token=tok).status_code == 204
    # not admin, and not on a project of another domain
    assert admin_api.call("PUT", f"/projects/{p1['id']}/users/{worker['id']}/roles/"
                                 f"{roles['admin']}", token=tok).status_code == 403
    assert admin_api.call("PUT", f"/projects/{p0['id']}/users/{worker['id']}/roles/"
                                 f"{roles['member']}", token=tok).status_code == 403
    # the domain's assignments are visible to it, and only those
    seen = admin_api.call("GET", "/role_assignments", token=tok)
    assert seen.status_code == 200, seen.text
    targets = {next(iter(a["scope"].values()))["id"] for a in seen.json()["role_assignments"]}
    assert targets == {d1["id"], p1["id"]}
    admin_api.call("DELETE", f"/projects/{p0['id']}")
    admin_api.call("PATCH", f"/domains/{d1['id']}", {"domain": {"enabled": False}})
    admin_api.call("DELETE", f"/domains/{d1['id']}")
