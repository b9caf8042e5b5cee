"""Trust redelegation (allow_redelegation, redelegation_count, redelegated_trust_id)
through raw HTTP and openstacksdk, with Keystone's refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import openstack.connection
import openstack.exceptions
import pytest
import requests

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, password_token

MAX = 3  # the default [identity] max_redelegation_count


def _later(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def _post(api: Api, token: str, trustor_id: str, trustee_id: str, project_id: str,
          **extra: Any) -> requests.Response:
    body = {"trustor_user_id": trustor_id, "trustee_user_id": trustee_id,
            "project_id": project_id, "impersonation": True,
            "roles": [{"name": "member"}], **extra}
    return api.call("POST", "/OS-TRUST/trusts", {"trust": body}, token=token)


def _trust_token(cloud: Cloud, user: Any, trust_id: str) -> str:
    r = password_token(cloud, user.name, user.password, {"OS-TRUST:trust": {"id": trust_id}})
    assert r.status_code == 201, r.text
    return str(r.headers["X-Subject-Token"])


def _root(api: Api, trustor: Any, trustee: Any, **extra: Any) -> dict[str, Any]:
    r = _post(api, trustor.token, trustor.user_id, trustee.user_id, trustor.project_id,
              allow_redelegation=True, **extra)
    assert r.status_code == 201, r.text
    trust: dict[str, Any] = r.json()["trust"]
    return trust


def test_chain_counts_down_to_its_end(cloud: Cloud, admin_api: Api,
                                      member_factory: Any) -> None:
    trustor, trustee = member_factory(), member_factory()
    root = _root(admin_api, trustor, trustee, expires_at=_later(2))
    assert root["redelegation_count"] == MAX and root["allow_redelegation"] is True
    assert root["redelegated_trust_id"] is None
    parent, chain = root, [root]
    for left in range(MAX - 1, -1, -1):
        token = _trust_token(cloud, trustee, parent["id"])
        # impersonating: the token's user, hence the new trust's trustor, is the trustor
        r = _post(admin_api, token, trustor.user_id, trustee.user_id, trustor.project_id,
                  allow_redelegation=True)
        assert r.status_code == 201, r.text
        child = r.json()["trust"]
        assert child["redelegated_trust_id"] == parent["id"]
        assert child["redelegation_count"] == left
        assert child["expires_at"] == root["expires_at"]  # inherited from the chain
        parent = child
        chain.append(child)
    # the last trust of the chain (count 0) gives tokens but cannot be redelegated
    last = _trust_token(cloud, trustee, parent["id"])
    r = _post(admin_api, last, trustor.user_id, trustee.user_id, trustor.project_id)
    assert r.status_code == 403, r.text
    assert "redelegation depth" in r.json()["error"]["message"]
    check = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": last})
    assert check.status_code == 200
    assert check.json()["token"]["OS-TRUST:trust"]["id"] == parent["id"]
    # deleting the root deletes every trust redelegated from it and their tokens
    assert admin_api.call("DELETE", f"/OS-TRUST/trusts/{root['id']}",
                          token=trustor.token).status_code == 204
    for trust in chain:
        assert admin_api.call("GET", f"/OS-TRUST/trusts/{trust['id']}").status_code == 404
    gone = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": last})
    assert gone.status_code == 404


def test_deleting_a_middle_trust_keeps_its_parent(cloud: Cloud, admin_api: Api,
                                                  member_factory: Any) -> None:
    trustor, trustee = member_factory(), member_factory()
    root = _root(admin_api, trustor, trustee)
    token = _trust_token(cloud, trustee, root["id"])
    r = _post(admin_api, token, trustor.user_id, trustee.user_id, trustor.project_id,
              allow_redelegation=True)
    assert r.status_code == 201, r.text
    child = r.json()["trust"]
    child_token = _trust_token(cloud, trustee, child["id"])
    assert admin_api.call("DELETE", f"/OS-TRUST/trusts/{child['id']}",
                          token=trustor.token).status_code == 204
    assert admin_api.call("GET", f"/OS-TRUST/trusts/{root['id']}").status_code == 200
    ok = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": token})
    assert ok.status_code == 200
    gone = admin_api.call("GET", "/auth/tokens", headers={"X-Subject-Token": child_token})
    assert gone.status_code == 404


def test_refusals(cloud: Cloud, admin: Any, admin_api: Api, member_factory: Any) -> None:
    trustor, trustee = member_factory(), member_factory()
    base = (trustor.user_id, trustee.user_id, trustor.project_id)
    # the first trust: no count above the maximum, no uses with redelegation
    r = _post(admin_api, trustor.token, *base, allow_redelegation=True,
              redelegation_count=MAX + 1)
    assert r.status_code == 403, r.text
    r = _post(admin_api, trustor.token, *base, allow_redelegation=True, remaining_uses=2)
    assert r.status_code == 400, r.text
    for bad in ({"allow_redelegation": "yes"}, {"redelegation_count": -1},
                {"allow_redelegation": True, "redelegation_count": "2"}):
        assert _post(admin_api, trustor.token, *base, **bad).status_code == 400, bad
    # without allow_redelegation a trust cannot be redelegated
    plain = _post(admin_api, trustor.token, *base).json()["trust"]
    assert plain["redelegation_count"] == 0 and plain["allow_redelegation"] is False
    r = _post(admin_api, _trust_token(cloud, trustee, plain["id"]), *base)
    assert r.status_code == 403, r.text
    # a role the trustor holds (reader, implied by member) but the parent does not carry
    only_member = _root(admin_api, trustor, trustee)
    r = _post(admin_api, _trust_token(cloud, trustee, only_member["id"]), *base,
              roles=[{"name": "reader"}])
    assert r.status_code == 403, r.text
    assert "not in redelegated trust" in r.json()["error"]["message"]
    # a second role held by the trustor, delegated in the root but not in the child
    reader = admin.identity.find_role("reader")
    root = _root(admin_api, trustor, trustee, expires_at=_later(1),
                 roles=[{"name": "member"}, {"id": reader.id}])
    token = _trust_token(cloud, trustee, root["id"])
    refused: list[dict[str, Any]] = [
        {"expires_at": _later(2)},                      # outlives its parent
        {"remaining_uses": 1},                          # limited uses
        {"redelegation_count": 1, "allow_redelegation": True},  # not the parent's - 1
        {"roles": [{"name": "admin"}]},                 # a role the trustor lacks
    ]
    for extra in refused:
        r = _post(admin_api, token, *base, **extra)
        assert r.status_code == 403, (extra, r.text)
    r = _post(admin_api, token, *base, allow_redelegation=True, remaining_uses=1)
    assert r.status_code == 400, r.text
    # the trustor is the token's user; another project is refused
    r = _post(admin_api, token, trustee.user_id, trustee.user_id, trustor.project_id)
    assert r.status_code == 403, r.text
    other = member_factory()
    admin.identity.assign_project_role_to_user(other.project_id, trustor.user_id,
                                               admin.identity.find_role("member").id)
    r = _post(admin_api, token, trustor.user_id, trustee.user_id, other.project_id)
    assert r.status_code == 403, r.text
    # a subset of the roles, within the expiry: accepted
    r = _post(admin_api, token, *base, roles=[{"id": reader.id}], expires_at=_later(0.5))
    assert r.status_code == 201, r.text
    assert [x["id"] for x in r.json()["trust"]["roles"]] == [reader.id]


def test_no_impersonation_from_a_non_impersonating_trust(
        cloud: Cloud, admin: Any, admin_api: Api, member_factory: Any) -> None:
    trustor = member_factory()
    # the trustee holds member on the trustor's project too, so it may be a trustor
    trustee = member_factory(project_id=trustor.project_id)
    third = member_factory()
    base = (trustee.user_id, third.user_id, trustor.project_id)
    root = _root(admin_api, trustor, trustee, impersonation=False)
    token = _trust_token(cloud, trustee, root["id"])
    r = _post(admin_api, token, *base, impersonation=True)
    assert r.status_code == 403, r.text
    assert "Impersonation is not allowed" in r.json()["error"]["message"]
    r = _post(admin_api, token, *base, impersonation=False)
    assert r.status_code == 201, r.text
    child = r.json()["trust"]
    assert child["trustor_user_id"] == trustee.user_id
    assert child["redelegated_trust_id"] == root["id"]
    # the third user's token carries the roles the original trustor still holds
    body = admin_api.call("GET", "/auth/tokens", headers={
        "X-Subject-Token": _trust_token(cloud, third, child["id"])}).json()["token"]
    assert body["user"]["id"] == third.user_id
    assert {x["name"] for x in body["roles"]} == {"member", "reader"}
    admin.identity.unassign_project_role_from_user(
        trustor.project_id, trustor.user_id, admin.identity.find_role("member").id)
    r = password_token(cloud, third.name, third.password,
                       {"OS-TRUST:trust": {"id": child["id"]}})
    assert r.status_code in (401, 403), r.text


def test_sdk_redelegation(cloud: Cloud, admin_api: Api, member_factory: Any) -> None:
    trustor, trustee = member_factory(), member_factory()
    mine: Any = openstack.connection.Connection(session=cloud.session(
        username=trustor.name, password=trustor.password, user_domain_id="default",
        project_id=trustor.project_id))
    root = mine.identity.create_trust(
        trustor_user_id=trustor.user_id, trustee_user_id=trustee.user_id,
        project_id=trustor.project_id, is_impersonation=True, allow_redelegation=True,
        redelegation_count=2, roles=[{"name": "member"}])
    assert root.allow_redelegation is True and root.redelegation_count == 2
    theirs: Any = openstack.connection.Connection(session=cloud.session(
        username=trustee.name, password=trustee.password, user_domain_id="default",
        trust_id=root.id))
    child = theirs.identity.create_trust(
        trustor_user_id=trustor.user_id, trustee_user_id=trustee.user_id,
        project_id=trustor.project_id, is_impersonation=True, allow_redelegation=True,
        roles=[{"name": "member"}])
    assert child.redelegated_trust_id == root.id and child.redelegation_count == 1
    mine.identity.delete_trust(root.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        mine.identity.get_trust(child.id)


def test_restricted_application_credentials_do_not_manage_trusts(
        cloud: Cloud, admin_api: Api, member_factory: Any) -> None:
    trustor, trustee = member_factory(), member_factory()
    path = f"/users/{trustor.user_id}/application_credentials"
    tokens = {}
    for unrestricted in (False, True):
        r = admin_api.call("POST", path, {"application_credential": {
            "name": f"ac-{unrestricted}", "unrestricted": unrestricted}}, token=trustor.token)
        assert r.status_code == 201, r.text
        cred = r.json()["application_credential"]
        tok = requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
            "identity": {"methods": ["application_credential"], "application_credential": {
                "id": cred["id"], "secret": cred["secret"]}}}})
        assert tok.status_code == 201, tok.text
        tokens[unrestricted] = tok.headers["X-Subject-Token"]
    base = (trustor.user_id, trustee.user_id, trustor.project_id)
    r = _post(admin_api, tokens[False], *base)
    assert r.status_code == 403 and "application_credential" in r.text, r.text
    r = _post(admin_api, tokens[True], *base)
    assert r.status_code == 201, r.text
    trust_path = f"/OS-TRUST/trusts/{r.json()['trust']['id']}"
    assert admin_api.call("DELETE", trust_path, token=tokens[False]).status_code == 403
    assert admin_api.call("DELETE", trust_path, token=tokens[True]).status_code == 204
    # the same line for application credentials themselves
    for unrestricted, status in ((False, 403), (True, 201)):
        r = admin_api.call("POST", path, {"application_credential": {
            "name": f"child-{unrestricted}"}}, token=tokens[unrestricted])
        assert r.status_code == status, r.text
