"""Tokens: every method and scope, validation, revocation, through the real
clients and raw HTTP."""

from __future__ import annotations

from typing import Any

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, password_token, unique


def test_cli_token_issue_is_project_scoped(cloud: Cloud) -> None:
    token = cloud.cli_json("token", "issue")
    assert token["id"].startswith("gAAAAA")
    assert token["project_id"] and token["user_id"]


def test_password_token_body(cloud: Cloud) -> None:
    r = password_token(cloud, "admin", cloud.admin_password,
                       {"project": {"name": "admin", "domain": {"name": "Default"}}})
    assert r.status_code == 201
    assert r.headers["X-Subject-Token"]
    assert r.headers["x-openstack-request-id"].startswith("req-")
    tok = r.json()["token"]
    assert tok["methods"] == ["password"]
    assert tok["project"]["name"] == "admin"
    assert tok["project"]["domain"] == {"id": "default", "name": "Default"}
    assert {r["name"] for r in tok["roles"]} >= {"admin", "member", "reader"}
    assert tok["expires_at"].endswith("Z") and tok["issued_at"].endswith("Z")
    assert len(tok["audit_ids"]) == 1
    types = {s["type"] for s in tok["catalog"]}
    assert "identity" in types
    assert tok["is_domain"] is False


def test_unscoped_domain_and_system_scopes(cloud: Cloud) -> None:
    pw = cloud.admin_password
    unscoped = password_token(cloud, "admin", pw).json()["token"]
    assert "project" not in unscoped and "roles" not in unscoped and "catalog" not in unscoped
    domain = password_token(cloud, "admin", pw, {"domain": {"id": "default"}}).json()["token"]
    assert domain["domain"] == {"id": "default", "name": "Default"}
    system = password_token(cloud, "admin", pw, {"system": {"all": True}}).json()["token"]
    assert system["system"] == {"all": True}
    assert "admin" in {r["name"] for r in system["roles"]}


def test_token_method_rescopes_and_keeps_expiry(cloud: Cloud, admin_api: Api) -> None:
    first = password_token(cloud, "admin", cloud.admin_password)
    t1 = first.headers["X-Subject-Token"]
    r = admin_api.call("POST", "/auth/tokens", {"auth": {
        "identity": {"methods": ["token"], "token": {"id": t1}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}, token="")
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    assert set(tok["methods"]) == {"token", "password"}
    assert tok["expires_at"] == first.json()["token"]["expires_at"]
    assert tok["audit_ids"][1] == first.json()["token"]["audit_ids"][0]


def test_validate_check_and_revoke(cloud: Cloud, admin_api: Api, member_factory: Any) -> None:
    m = member_factory()
    got = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": m.token})
    assert got.status_code == 200
    assert got.json()["token"]["user"]["id"] == m.user_id
    assert got.headers["X-Subject-Token"] == m.token
    nocat = admin_api.call("GET", "/auth/tokens?nocatalog",
                           headers={"X-Subject-Token": m.token})
    assert "catalog" not in nocat.json()["token"]
    head = admin_api.call("HEAD", "/auth/tokens", headers={"X-Subject-Token": m.token})
    assert head.status_code == 200 and not head.content
    # the member may validate its own token, not the admin's
    own = admin_api.call("GET", "/auth/tokens", token=m.token,
                         headers={"X-Subject-Token": m.token})
    assert own.status_code == 200
    other = admin_api.call("GET", "/auth/tokens", token=m.token,
                           headers={"X-Subject-Token": admin_api.token})
    assert other.status_code == 403
    assert other.json()["error"]["code"] == 403
    # revoke: refused at once, for validation and for use
    assert admin_api.call("DELETE", "/auth/tokens",
                          headers={"X-Subject-Token": m.token}).status_code == 204
    gone = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": m.token})
    assert gone.status_code == 404
    assert admin_api.call("GET", f"/users/{m.user_id}", token=m.token).status_code == 401


def test_bad_credentials_are_401_with_keystone_body(cloud: Cloud) -> None:
    r = password_token(cloud, "admin", "wrong")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == 401
    assert r.headers["WWW-Authenticate"].startswith("Keystone uri=")
    assert password_token(cloud, unique("nobody"), "x").status_code == 401


def test_invalid_and_missing_tokens(admin_api: Api) -> None:
    assert admin_api.call("GET", "/users", token="").status_code == 401
    assert admin_api.call("GET", "/users", token="gAAAAAnot-a-token").status_code == 401
    r = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": "garbage"})
    assert r.status_code == 404


def test_no_access_to_unassigned_project(cloud: Cloud, member_factory: Any, admin: Any) -> None:
    m = member_factory()
    other = admin.identity.create_project(name=unique("p"), domain_id="default")
    try:
        r = password_token(cloud, m.name, m.password, {"project": {"id": other.id}})
        assert r.status_code == 401
    finally:
        admin.identity.delete_project(other.id)


def test_disabled_user_and_password_change_revoke_tokens(
        cloud: Cloud, admin_api: Api, member_factory: Any) -> None:
    m = member_factory()
    assert admin_api.call("GET", "/auth/projects", token=m.token).status_code == 200
    r = admin_api.call("POST", f"/users/{m.user_id}/password", {"user": {
        "original_password": m.password, "password": m.password + "-new"}}, token="")
    assert r.status_code == 204, r.text
    assert admin_api.call("GET", "/auth/projects", token=m.token).status_code == 401
    fresh = password_token(cloud, m.name, m.password + "-new", {"project": {"id": m.project_id}})
    assert fresh.status_code == 201
    t2 = fresh.headers["X-Subject-Token"]
    admin_api.call("PATCH", f"/users/{m.user_id}", {"user": {"enabled": False}})
    assert admin_api.call("GET", "/auth/projects", token=t2).status_code == 401
    assert password_token(cloud, m.name, m.password + "-new").status_code == 401


def test_role_removal_revokes_project_token(admin_api: Api, member_factory: Any,
                                            admin: Any) -> None:
    m = member_factory()
    role = admin.identity.find_role("member")
    admin.identity.unassign_project_role_from_user(m.project_id, m.user_id, role.id)
    assert admin_api.call("GET", "/auth/catalog", token=m.token).status_code == 401


def test_auth_catalog_projects_domains_system(cloud: Cloud, admin_api: Api) -> None:
    cat = admin_api.call("GET", "/auth/catalog").json()
    assert any(s["type"] == "identity" for s in cat["catalog"])
    projects = admin_api.call("GET", "/auth/projects").json()["projects"]
    assert "admin" in {p["name"] for p in projects}
    domains = admin_api.call("GET", "/auth/domains").json()["domains"]
    assert [d["id"] for d in domains] == ["default"]
    assert admin_api.call("GET", "/auth/system").json()["system"] == [{"all": True}]


def test_application_credential_round_trip(cloud: Cloud, member_factory: Any,
                                           admin_api: Api) -> None:
    m = member_factory()
    r = admin_api.call("POST", f"/users/{m.user_id}/application_credentials", {
        "application_credential": {"name": unique("ac"), "roles": [{"name": "reader"}]}},
        token=m.token)
    assert r.status_code == 201, r.text
    cred = r.json()["application_credential"]
    assert cred["secret"] and [x["name"] for x in cred["roles"]] == ["reader"]
    tok = admin_api.call("POST", "/auth/tokens", {"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"id": cred["id"], "secret": cred["secret"]}}}}, token="")
    assert tok.status_code == 201, tok.text
    body = tok.json()["token"]
    assert body["project"]["id"] == m.project_id
    assert [x["name"] for x in body["roles"]] == ["reader"]
    assert body["application_credential"]["restricted"] is True
    app_token = tok.headers["X-Subject-Token"]
    # a restricted application credential cannot make another one
    again = admin_api.call("POST", f"/users/{m.user_id}/application_credentials", {
        "application_credential": {"name": unique("ac")}}, token=app_token)
    assert again.status_code == 403
    wrong = admin_api.call("POST", "/auth/tokens", {"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"id": cred["id"], "secret": "nope"}}}}, token="")
    assert wrong.status_code == 401
    assert admin_api.call("DELETE", f"/users/{m.user_id}/application_credentials/{cred['id']}",
                          token=m.token).status_code == 204
    assert admin_api.call("GET", "/auth/catalog", token=app_token).status_code == 401


def test_sdk_application_credentials(cloud: Cloud) -> None:
    demo = cloud.connect("nubo")
    user_id = demo.current_user_id
    cred = demo.identity.create_application_credential(user_id, name=unique("ac"))
    assert cred.secret
    listed = [c.id for c in demo.identity.application_credentials(user_id)]
    assert cred.id in listed
    demo.identity.delete_application_credential(user_id, cred.id)
    assert cred.id not in [c.id for c in demo.identity.application_credentials(user_id)]
