"""OS-TRUST trusts through openstacksdk and raw HTTP, and trust-scoped tokens."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import requests

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, password_token


def _trust_token(cloud: Cloud, member: Any, trust_id: str) -> requests.Response:
    return password_token(cloud, member.name, member.password,
                          {"OS-TRUST:trust": {"id": trust_id}})


def test_sdk_crud_and_filters(admin: Any, member_factory: Any) -> None:
    trustee = member_factory()
    me = admin.current_user_id
    trust = admin.identity.create_trust(
        trustor_user_id=me, trustee_user_id=trustee.user_id,
        project_id=admin.current_project_id, is_impersonation=False,
        roles=[{"name": "member"}])
    try:
        assert trust.trustor_user_id == me and trust.trustee_user_id == trustee.user_id
        assert [r["name"] for r in trust.roles] == ["member"]
        assert admin.identity.get_trust(trust.id).project_id == admin.current_project_id
        assert trust.id in {t.id for t in admin.identity.trusts(trustor_user_id=me)}
        assert trust.id in {t.id for t in admin.identity.trusts(
            trustee_user_id=trustee.user_id)}
    finally:
        admin.identity.delete_trust(trust.id)
    assert trust.id not in {t.id for t in admin.identity.trusts(trustor_user_id=me)}


def _create(api: Api, trustor: Any, trustee: Any, **extra: Any) -> requests.Response:
    body = {"trustor_user_id": trustor.user_id, "trustee_user_id": trustee.user_id,
            "project_id": trustor.project_id, "impersonation": False,
            "roles": [{"name": "member"}], **extra}
    return api.call("POST", "/OS-TRUST/trusts", {"trust": body}, token=trustor.token)


def test_trust_scoped_token_and_uses(cloud: Cloud, admin_api: Api,
                                     member_factory: Any) -> None:
    trustor, trustee = member_factory(), member_factory()
    r = _create(admin_api, trustor, trustee, remaining_uses=1)
    assert r.status_code == 201, r.text
    trust = r.json()["trust"]
    assert trust["roles_links"]["self"].endswith(f"/OS-TRUST/trusts/{trust['id']}/roles")
    assert trust["links"]["self"].endswith(f"/OS-TRUST/trusts/{trust['id']}")
    roles = admin_api.call("GET", f"/OS-TRUST/trusts/{trust['id']}/roles", token=trustee.token)
    assert roles.status_code == 200 and [x["name"] for x in roles.json()["roles"]] == ["member"]
    role_id = roles.json()["roles"][0]["id"]
    assert admin_api.call("HEAD", f"/OS-TRUST/trusts/{trust['id']}/roles/{role_id}",
                          token=trustee.token).status_code == 200
    assert _trust_token(cloud, trustor, trust["id"]).status_code == 401  # not the trustee
    tok = _trust_token(cloud, trustee, trust["id"])
    assert tok.status_code == 201, tok.text
    body = tok.json()["token"]
    assert body["user"]["id"] == trustee.user_id
    assert body["project"]["id"] == trustor.project_id
    assert {x["name"] for x in body["roles"]} == {"member", "reader"}  # member implies reader
    assert body["OS-TRUST:trust"] == {
        "id": trust["id"], "impersonation": False, "trustor_user": {"id": trustor.user_id},
        "trustee_user": {"id": trustee.user_id}}
    assert _trust_token(cloud, trustee, trust["id"]).status_code == 401  # no uses left
    # deleting the trust revokes the token made from it
    subject = tok.headers["X-Subject-Token"]
    ok = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": subject})
    assert ok.status_code == 200, ok.text
    assert admin_api.call("DELETE", f"/OS-TRUST/trusts/{trust['id']}",
                          token=trustor.token).status_code == 204
    gone = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": subject})
    assert gone.status_code == 404


def test_impersonation_token_is_the_trustors(cloud: Cloud, admin_api: Api,
                                             member_factory: Any) -> None:
    trustor, trustee = member_factory(), member_factory()
    trust = _create(admin_api, trustor, trustee, impersonation=True).json()["trust"]
    tok = _trust_token(cloud, trustee, trust["id"])
    assert tok.status_code == 201, tok.text
    body = tok.json()["token"]
    assert body["user"]["id"] == trustor.user_id
    assert body["OS-TRUST:trust"]["impersonation"] is True
    again = requests.post(f"{cloud.auth_url}/v3/auth/tokens", json={"auth": {"identity": {
        "methods": ["token"], "token": {"id": tok.headers["X-Subject-Token"]}}}}, timeout=30)
    assert again.status_code == 403


def test_refusals(cloud: Cloud, admin_api: Api, member_factory: Any) -> None:
    trustor, trustee, other = member_factory(), member_factory(), member_factory()
    # only for oneself, only roles one holds, only in the future
    r = _create(admin_api, other, trustee, trustor_user_id=trustor.user_id)
    assert r.status_code == 403
    assert _create(admin_api, trustor, trustee, roles=[{"name": "admin"}]).status_code == 403
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert _create(admin_api, trustor, trustee, expires_at=past).status_code == 400
    trust = _create(admin_api, trustor, trustee).json()["trust"]
    path = f"/OS-TRUST/trusts/{trust['id']}"
    assert admin_api.call("DELETE", path, token=other.token).status_code == 403
    assert admin_api.call("GET", path, token=other.token).status_code == 403
    assert admin_api.call("DELETE", path, token=trustee.token).status_code == 403
    listed = admin_api.call("GET", f"/OS-TRUST/trusts?trustor_user_id={trustor.user_id}",
                            token=other.token)
    assert listed.status_code == 403
    assert admin_api.call("DELETE", path, token=trustor.token).status_code == 204
    assert admin_api.call("GET", path).status_code == 404
    assert _trust_token(cloud, trustee, trust["id"]).status_code == 401


def test_expired_trust_refuses_tokens(cloud: Cloud, admin_api: Api,
                                      member_factory: Any) -> None:
    trustor, trustee = member_factory(), member_factory()
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).isoformat()
    trust = _create(admin_api, trustor, trustee, expires_at=soon).json()["trust"]
    tok = _trust_token(cloud, trustee, trust["id"])
    assert tok.status_code == 201, tok.text
    assert tok.json()["token"]["expires_at"] <= trust["expires_at"]
    time.sleep(2.5)
    assert _trust_token(cloud, trustee, trust["id"]).status_code == 401
