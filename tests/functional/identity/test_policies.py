"""Legacy /v3/policies and OS-ENDPOINT-POLICY, through the CLI, openstacksdk and
raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, unique


@pytest.fixture
def endpoint(admin: Any) -> Iterator[Any]:
    svc = admin.identity.create_service(type=unique("svc"), name=unique("svc"))
    ep = admin.identity.create_endpoint(service_id=svc.id, interface="public",
                                        url="http://example.test/x", region_id="RegionOne")
    yield ep
    admin.identity.delete_endpoint(ep.id, ignore_missing=True)
    admin.identity.delete_service(svc.id, ignore_missing=True)


def test_cli_policy_crud(cloud: Cloud, tmp_path: Path) -> None:
    blob = tmp_path / "policy.json"
    blob.write_text('{"compute:get": ""}')
    made = cloud.cli_json("policy", "create", "--type", "application/json", str(blob))
    assert made["type"] == "application/json"
    shown = cloud.cli_json("policy", "show", made["id"])
    assert shown["rules"] == '{"compute:get": ""}'  # the CLI shows the blob as rules
    cloud.cli("policy", "set", "--type", "text/plain", made["id"])
    assert cloud.cli_json("policy", "show", made["id"])["type"] == "text/plain"
    assert made["id"] in {p["ID"] for p in cloud.cli_json("policy", "list")}
    cloud.cli("policy", "delete", made["id"])
    assert made["id"] not in {p["ID"] for p in cloud.cli_json("policy", "list")}


def test_sdk_policy(admin: Any) -> None:
    policy = admin.identity.create_policy(type="application/json", blob="{}")
    try:
        assert admin.identity.get_policy(policy.id).blob == "{}"
        assert admin.identity.update_policy(policy.id, blob='{"a": 1}').blob == '{"a": 1}'
        assert policy.id in {p.id for p in admin.identity.policies()}
    finally:
        admin.identity.delete_policy(policy.id)
    assert admin.identity.find_policy(policy.id) is None


def test_endpoint_policy_associations(admin_api: Api, endpoint: Any) -> None:
    def make() -> str:
        r = admin_api.call("POST", "/policies", {"policy": {"type": "t", "blob": "{}"}})
        assert r.status_code == 201
        return str(r.json()["policy"]["id"])

    by_service, by_region, by_endpoint = make(), make(), make()
    svc, ep = endpoint.service_id, endpoint.id
    effective = f"/endpoints/{ep}/OS-ENDPOINT-POLICY/policy"
    assert admin_api.call("GET", effective).status_code == 404
    s_path = f"/policies/{by_service}/OS-ENDPOINT-POLICY/services/{svc}"
    assert admin_api.call("HEAD", s_path).status_code == 404
    assert admin_api.call("PUT", s_path).status_code == 204
    assert admin_api.call("HEAD", s_path).status_code == 204
    assert admin_api.call("GET", effective).json()["policy"]["id"] == by_service
    r_path = f"/policies/{by_region}/OS-ENDPOINT-POLICY/services/{svc}/regions/RegionOne"
    assert admin_api.call("PUT", r_path).status_code == 204
    assert admin_api.call("GET", r_path).status_code == 204
    assert admin_api.call("GET", effective).json()["policy"]["id"] == by_region
    e_path = f"/policies/{by_endpoint}/OS-ENDPOINT-POLICY/endpoints/{ep}"
    assert admin_api.call("PUT", e_path).status_code == 204
    assert admin_api.call("GET", effective).json()["policy"]["id"] == by_endpoint
    listed = admin_api.call("GET", f"/policies/{by_service}/OS-ENDPOINT-POLICY/endpoints")
    assert [e["id"] for e in listed.json()["endpoints"]] == [ep]
    assert admin_api.call("DELETE", e_path).status_code == 204
    assert admin_api.call("HEAD", e_path).status_code == 404
    assert admin_api.call("GET", effective).json()["policy"]["id"] == by_region
    # Errors: unknown policy, endpoint, service or region.
    assert admin_api.call("PUT", f"/policies/nope/OS-ENDPOINT-POLICY/endpoints/{ep}"
                          ).status_code == 404
    assert admin_api.call("PUT", f"/policies/{by_endpoint}/OS-ENDPOINT-POLICY/endpoints/nope"
                          ).status_code == 404
    assert admin_api.call("PUT", f"/policies/{by_region}/OS-ENDPOINT-POLICY/services/{svc}"
                          "/regions/nope").status_code == 404
    for pid in (by_service, by_region, by_endpoint):
        assert admin_api.call("DELETE", f"/policies/{pid}").status_code == 204
    assert admin_api.call("GET", effective).status_code == 404


def test_bad_input(admin_api: Api) -> None:
    for body in ({"policy": {"blob": "{}"}}, {"policy": {"type": "t"}},
                 {"policy": {"type": 1, "blob": "{}"}}, {"policy": "x"}, {"nope": {}}):
        r = admin_api.call("POST", "/policies", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == 400
    assert admin_api.call("GET", "/policies/nope").status_code == 404
    made = admin_api.call("POST", "/policies", {"policy": {"type": "t", "blob": "{}"}})
    pid = made.json()["policy"]["id"]
    assert admin_api.call("PATCH", f"/policies/{pid}", {"policy": {}}).status_code == 400
    assert admin_api.call("DELETE", f"/policies/{pid}").status_code == 204


def test_member_refused(admin_api: Api, member_factory: Any, endpoint: Any) -> None:
    m = member_factory()
    made = admin_api.call("POST", "/policies", {"policy": {"type": "t", "blob": "{}"}})
    pid = made.json()["policy"]["id"]
    try:
        for method, path, body in (
                ("POST", "/policies", {"policy": {"type": "t", "blob": "{}"}}),
                ("GET", "/policies", None),
                ("GET", f"/policies/{pid}", None),
                ("PUT", f"/policies/{pid}/OS-ENDPOINT-POLICY/endpoints/{endpoint.id}", None),
                ("GET", f"/endpoints/{endpoint.id}/OS-ENDPOINT-POLICY/policy", None)):
            r = admin_api.call(method, path, body, token=m.token)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"]["code"] == 403
    finally:
        admin_api.call("DELETE", f"/policies/{pid}")
