"""Every mutating request leaves a CADF record with its request id."""

from __future__ import annotations

import json
import time

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, unique


def _records(cloud: Cloud) -> list[dict[str, object]]:
    lines = (cloud.state_dir / "audit.log").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_mutations_are_audited(cloud: Cloud, admin_api: Api) -> None:
    r = admin_api.call("POST", "/users", {"user": {"name": unique("audited")}})
    assert r.status_code == 201
    rid = r.headers["x-openstack-request-id"]
    user_id = r.json()["user"]["id"]
    denied = admin_api.call("POST", "/users", {"user": {"name": 7}})
    assert denied.status_code == 400
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        by_rid = {rec["request_id"]: rec for rec in _records(cloud)}
        if rid in by_rid and denied.headers["x-openstack-request-id"] in by_rid:
            break
        time.sleep(0.05)
    rec = by_rid[rid]
    assert rec["typeURI"] == "http://schemas.dmtf.org/cloud/audit/1.0/event"
    assert rec["action"] == "create" and rec["outcome"] == "success"
    assert rec["target"] == {"typeURI": "service/identity/user", "id": user_id}
    assert rec["initiator"]["id"]  # type: ignore[index]
    failed = by_rid[denied.headers["x-openstack-request-id"]]
    assert failed["outcome"] == "failure"
    # reads are not audited
    g = admin_api.call("GET", "/users")
    assert g.headers["x-openstack-request-id"] not in {x["request_id"] for x in _records(cloud)}
