"""Unified limits: registered limits and project limits, through the CLI,
openstacksdk and raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, unique


@pytest.fixture
def service(admin: Any) -> Iterator[Any]:
    svc = admin.identity.create_service(type=unique("quota"), name=unique("svc"))
    yield svc
    admin.identity.delete_service(svc.id, ignore_missing=True)


def test_cli_registered_limit_and_limit(cloud: Cloud, admin: Any, service: Any) -> None:
    res = unique("cores")
    reg = cloud.cli_json("registered", "limit", "create", "--service", service.id,
                         "--default-limit", "10", res)
    assert reg["default_limit"] == 10 and reg["resource_name"] == res
    lim = cloud.cli_json("limit", "create", "--project", "admin", "--service", service.id,
                         "--resource-limit", "20", res)
    assert lim["resource_limit"] == 20
    assert lim["project_id"] == admin.current_project_id
    shown = cloud.cli_json("limit", "show", lim["id"])
    assert shown["resource_limit"] == 20
    listed = cloud.cli_json("limit", "list", "--service", service.id)
    assert [x["ID"] for x in listed] == [lim["id"]]
    cloud.cli("limit", "delete", lim["id"])
    cloud.cli("registered", "limit", "delete", reg["id"])
    assert cloud.cli_json("registered", "limit", "list", "--service", service.id) == []


def test_sdk_registered_limits_and_limits(admin: Any, service: Any) -> None:
    res = unique("ram")
    reg = admin.identity.create_registered_limit(service_id=service.id, resource_name=res,
                                                 default_limit=5, description="d")
    try:
        assert admin.identity.get_registered_limit(reg.id).default_limit == 5
        upd = admin.identity.update_registered_limit(reg.id, default_limit=6)
        assert upd.default_limit == 6
        assert reg.id in {r.id for r in admin.identity.registered_limits(service_id=service.id)}
        lim = admin.identity.create_limit(service_id=service.id, resource_name=res,
                                          resource_limit=7,
                                          project_id=admin.current_project_id)
        assert admin.identity.update_limit(lim.id, resource_limit=8).resource_limit == 8
        assert lim.id in {x.id for x in admin.identity.limits(resource_name=res)}
        admin.identity.delete_limit(lim.id)
    finally:
        admin.identity.delete_registered_limit(reg.id)


def test_create_takes_and_returns_a_list(admin_api: Api, service: Any) -> None:
    a, b = unique("a"), unique("b")
    r = admin_api.call("POST", "/registered_limits", {"registered_limits": [
        {"service_id": service.id, "resource_name": a, "default_limit": 1},
        {"service_id": service.id, "resource_name": b, "default_limit": 2,
         "region_id": "RegionOne"}]})
    assert r.status_code == 201, r.text
    made = r.json()["registered_limits"]
    assert [m["resource_name"] for m in made] == [a, b]
    assert made[0]["region_id"] is None and made[1]["region_id"] == "RegionOne"
    assert made[0]["links"]["self"].endswith(f"/v3/registered_limits/{made[0]['id']}")
    model = admin_api.call("GET", "/limits/model").json()["model"]
    assert model["name"] == "flat" and model["description"]


def test_errors(admin_api: Api, admin: Any, service: Any) -> None:
    res = unique("res")
    base = {"service_id": service.id, "resource_name": res, "default_limit": 3}
    bad = [
        {"registered_limits": []},
        {"registered_limits": {}},
        {"registered_limits": [{**base, "bogus": 1}]},
        {"registered_limits": [{**base, "default_limit": "3"}]},
        {"registered_limits": [{**base, "default_limit": -2}]},
        {"registered_limits": [{"service_id": service.id, "resource_name": res}]},
        {"registered_limits": [{**base, "service_id": "nope"}]},
        {"registered_limits": [{**base, "region_id": "no-such-region"}]},
        {"something": []},
    ]
    for body in bad:
        r = admin_api.call("POST", "/registered_limits", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == 400
    # Nothing half-made: a valid first item with an invalid second is not stored.
    r = admin_api.call("POST", "/registered_limits", {"registered_limits": [
        base, {**base, "resource_name": unique("x"), "service_id": "nope"}]})
    assert r.status_code == 400
    assert admin_api.call("GET", f"/registered_limits?service_id={service.id}"
                          ).json()["registered_limits"] == []
    pid = admin.current_project_id
    limit = {"service_id": service.id, "resource_name": res, "resource_limit": 4,
             "project_id": pid}
    r = admin_api.call("POST", "/limits", {"limits": [limit]})
    assert r.status_code == 403, r.text  # no registered limit yet
    reg = admin_api.call("POST", "/registered_limits", {"registered_limits": [base]})
    assert reg.status_code == 201
    reg_id = reg.json()["registered_limits"][0]["id"]
    assert admin_api.call("POST", "/registered_limits",
                          {"registered_limits": [base]}).status_code == 409
    for body in ({**limit, "project_id": "nope"}, {**limit, "domain_id": "default"},
                 {k: v for k, v in limit.items() if k != "project_id"}):
        r = admin_api.call("POST", "/limits", {"limits": [body]})
        assert r.status_code == 400, (body, r.text)
    made = admin_api.call("POST", "/limits", {"limits": [limit]})
    assert made.status_code == 201
    lim_id = made.json()["limits"][0]["id"]
    assert admin_api.call("POST", "/limits", {"limits": [limit]}).status_code == 409
    r = admin_api.call("PATCH", f"/limits/{lim_id}", {"limit": {"service_id": "x"}})
    assert r.status_code == 400
    # A registered limit with limits under it can be neither changed nor deleted.
    r = admin_api.call("PATCH", f"/registered_limits/{reg_id}",
                       {"registered_limit": {"default_limit": 9}})
    assert r.status_code == 403
    assert admin_api.call("DELETE", f"/registered_limits/{reg_id}").status_code == 403
    assert admin_api.call("DELETE", f"/limits/{lim_id}").status_code == 204
    assert admin_api.call("GET", f"/limits/{lim_id}").status_code == 404
    assert admin_api.call("DELETE", f"/registered_limits/{reg_id}").status_code == 204
    assert admin_api.call("GET", f"/registered_limits/{reg_id}").status_code == 404


def test_member_reads_own_project_limits_only(admin_api: Api, member_factory: Any,
                                              service: Any, admin: Any) -> None:
    m = member_factory()
    res = unique("res")
    admin_api.call("POST", "/registered_limits", {"registered_limits": [
        {"service_id": service.id, "resource_name": res, "default_limit": 1}]})
    mine = admin_api.call("POST", "/limits", {"limits": [
        {"service_id": service.id, "resource_name": res, "resource_limit": 2,
         "project_id": m.project_id}]}).json()["limits"][0]
    theirs = admin_api.call("POST", "/limits", {"limits": [
        {"service_id": service.id, "resource_name": res, "resource_limit": 3,
         "project_id": admin.current_project_id}]}).json()["limits"][0]
    listed = admin_api.call("GET", "/limits", token=m.token).json()["limits"]
    assert [x["id"] for x in listed] == [mine["id"]]
    assert admin_api.call("GET", f"/limits/{mine['id']}", token=m.token).status_code == 200
    r = admin_api.call("GET", f"/limits/{theirs['id']}", token=m.token)
    assert r.status_code == 403 and r.json()["error"]["code"] == 403
    for method, path, body in (
            ("POST", "/limits", {"limits": [{"service_id": service.id, "resource_name": res,
                                             "resource_limit": 9,
                                             "project_id": m.project_id}]}),
            ("PATCH", f"/limits/{mine['id']}", {"limit": {"resource_limit": 99}}),
            ("DELETE", f"/limits/{mine['id']}", None),
            ("POST", "/registered_limits", {"registered_limits": [
                {"service_id": service.id, "resource_name": unique("r"),
                 "default_limit": 1}]})):
        r = admin_api.call(method, path, body, token=m.token)
        assert r.status_code == 403, (method, path, r.text)
    assert admin_api.call("GET", "/registered_limits", token=m.token).status_code == 200
    for lim in (mine, theirs):
        admin_api.call("DELETE", f"/limits/{lim['id']}")
