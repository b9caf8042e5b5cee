"""Keystone's security-compliance options, on in every test cloud (lockout after 3
failures for 5 s, the last 2 passwords unique), and the user options that exempt a
user from them; application credentials that expire."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, password_token, unique


def _change(api: Api, user_id: str, old: str, new: str) -> Any:
    return api.call("POST", f"/users/{user_id}/password", {"user": {
        "original_password": old, "password": new}}, token="")


def test_lockout_and_its_exemption(cloud: Cloud, admin_api: Api) -> None:
    plain, exempt = unique("lock"), unique("nolock")
    for name, options in ((plain, {}), (exempt, {"ignore_lockout_failure_attempts": True})):
        r = admin_api.call("POST", "/users", {"user": {"name": name, "password": "right-1",
                                                       "options": options}})
        assert r.status_code == 201, r.text
        assert r.json()["user"]["options"] == options
    for name in (plain, exempt):
        for _ in range(3):
            assert password_token(cloud, name, "wrong").status_code == 401
    locked = password_token(cloud, plain, "right-1")
    assert locked.status_code == 401 and "locked" in locked.json()["error"]["message"]
    assert password_token(cloud, exempt, "right-1").status_code == 201
    time.sleep(5.5)  # lockout_duration
    assert password_token(cloud, plain, "right-1").status_code == 201


def test_password_history_and_lock_password(admin_api: Api) -> None:
    name = unique("hist")
    user = admin_api.call("POST", "/users", {"user": {"name": name, "password": "first-1"}}
                          ).json()["user"]
    assert _change(admin_api, user["id"], "first-1", "second-2").status_code == 204
    reused = _change(admin_api, user["id"], "second-2", "first-1")
    assert reused.status_code == 400 and "previous password" in reused.json()["error"]["message"]
    assert _change(admin_api, user["id"], "second-2", "third-3").status_code == 204
    assert admin_api.call("PATCH", f"/users/{user['id']}", {"user": {
        "options": {"lock_password": True}}}).status_code == 200
    refused = _change(admin_api, user["id"], "third-3", "fourth-4")
    assert refused.status_code == 400
    assert admin_api.call("GET", f"/users/{user['id']}").json()["user"]["options"] == {
        "lock_password": True}
    # an administrator still resets it
    assert admin_api.call("PATCH", f"/users/{user['id']}", {"user": {
        "password": "reset-5"}}).status_code == 200


def test_application_credential_expiry(cloud: Cloud, admin_api: Api,
                                       member_factory: Any) -> None:
    m = member_factory()
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    r = admin_api.call("POST", f"/users/{m.user_id}/application_credentials", {
        "application_credential": {"name": unique("ac"), "secret": "s3cret",
                                   "expires_at": soon.strftime("%Y-%m-%dT%H:%M:%S")}},
        token=m.token)
    assert r.status_code == 201, r.text
    cred = r.json()["application_credential"]
    auth = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": cred["id"],
                                                             "secret": "s3cret"}}}}
    tok = admin_api.call("POST", "/auth/tokens", auth, token="")
    assert tok.status_code == 201, tok.text
    assert tok.json()["token"]["expires_at"][:19] <= soon.strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(3.5)
    assert admin_api.call("POST", "/auth/tokens", auth, token="").status_code == 401
    past = admin_api.call("POST", f"/users/{m.user_id}/application_credentials", {
        "application_credential": {"name": unique("ac"), "expires_at": "2000-01-01T00:00:00"}},
        token=m.token)
    assert past.status_code == 400
