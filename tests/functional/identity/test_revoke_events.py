"""GET /v3/OS-REVOKE/events over raw HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.functional.identity.conftest import Api, password_token


def test_revoked_token_is_listed_and_since_filters(admin_api: Api, member_factory: Any) -> None:
    m = member_factory()
    before = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    tok = password_token(admin_api.cloud, m.name, m.password)
    audit_id = tok.json()["token"]["audit_ids"][0]
    r = admin_api.call("DELETE", "/auth/tokens",
                       headers={"X-Subject-Token": tok.headers["X-Subject-Token"]})
    assert r.status_code == 204
    events = admin_api.call("GET", f"/OS-REVOKE/events?since={before}").json()["events"]
    match = [e for e in events if e.get("audit_id") == audit_id]
    assert match and match[0]["issued_before"].endswith("Z")
    future = "2999-01-01T00:00:00Z"
    assert admin_api.call("GET", f"/OS-REVOKE/events?since={future}").json()["events"] == []
    bad = admin_api.call("GET", "/OS-REVOKE/events?since=yesterday")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400


def test_member_refused(admin_api: Api, member_factory: Any) -> None:
    m = member_factory()
    r = admin_api.call("GET", "/OS-REVOKE/events", token=m.token)
    assert r.status_code == 403 and r.json()["error"]["code"] == 403
