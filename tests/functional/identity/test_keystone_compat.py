"""Keystone behaviours the real clients and Tempest's identity tests rely on, where
nubo once differed: status codes, legacy attributes and role-inference rules."""

from __future__ import annotations

from typing import Any

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, unique


def test_admin_lists_domains(admin_api: Api) -> None:
    r = admin_api.call("GET", "/domains")
    assert r.status_code == 200, r.text
    assert "default" in {d["id"] for d in r.json()["domains"]}


def test_domain_scoped_token_lists_only_its_domain(cloud: Cloud, admin_api: Api) -> None:
    other = admin_api.call("POST", "/domains", {"domain": {"name": unique("d")}}).json()["domain"]
    try:
        r = admin_api.call("POST", "/auth/tokens", {"auth": {
            "identity": {"methods": ["token"], "token": {"id": admin_api.token}},
            "scope": {"domain": {"id": "default"}}}}, token="")
        assert r.status_code == 201, r.text
        listed = admin_api.call("GET", "/domains", token=r.headers["X-Subject-Token"])
        assert listed.status_code == 200, listed.text
        assert [d["id"] for d in listed.json()["domains"]] == ["default"]
    finally:
        admin_api.call("PATCH", f"/domains/{other['id']}", {"domain": {"enabled": False}})
        admin_api.call("DELETE", f"/domains/{other['id']}")


def test_endpoint_legacy_region_is_created(admin_api: Api) -> None:
    service = admin_api.call("POST", "/services", {"service": {
        "type": unique("type"), "name": unique("svc")}}).json()["service"]
    region = unique("region")
    try:
        r = admin_api.call("POST", "/endpoints", {"endpoint": {
            "service_id": service["id"], "interface": "public", "url": "http://x.example/",
            "region": region}})
        assert r.status_code == 201, r.text
        assert r.json()["endpoint"]["region_id"] == region
        assert admin_api.call("GET", f"/regions/{region}").status_code == 200
        # an explicit region_id must still name an existing region
        bad = admin_api.call("POST", "/endpoints", {"endpoint": {
            "service_id": service["id"], "interface": "public", "url": "http://x.example/",
            "region_id": unique("nowhere")}})
        assert bad.status_code == 400
        moved = unique("region")
        r2 = admin_api.call("PATCH", f"/endpoints/{r.json()['endpoint']['id']}",
                            {"endpoint": {"region": moved}})
        assert r2.status_code == 200, r2.text
        assert r2.json()["endpoint"]["region_id"] == moved
        assert admin_api.call("GET", f"/regions/{moved}").status_code == 200
    finally:
        admin_api.call("DELETE", f"/services/{service['id']}")
        admin_api.call("DELETE", f"/regions/{region}")
        admin_api.call("DELETE", f"/regions/{moved}")


def test_user_and_group_in_unknown_domain_are_404(admin_api: Api) -> None:
    nowhere = "0" * 32
    r = admin_api.call("POST", "/users", {"user": {"name": unique("u"), "domain_id": nowhere}})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == 404
    g = admin_api.call("POST", "/groups", {"group": {"name": unique("g"), "domain_id": nowhere}})
    assert g.status_code == 404, g.text


def test_domain_role_may_imply_global_but_not_the_reverse(admin_api: Api) -> None:
    domain = admin_api.call("POST", "/domains", {"domain": {"name": unique("d")}}).json()["domain"]
    made: list[str] = []

    def role(domain_id: str | None) -> str:
        body: dict[str, Any] = {"name": unique("r")}
        if domain_id:
            body["domain_id"] = domain_id
        rid: str = admin_api.call("POST", "/roles", {"role": body}).json()["role"]["id"]
        made.append(rid)
        return rid

    try:
        d1, d2, g = role(domain["id"]), role(domain["id"]), role(None)
        assert admin_api.call("PUT", f"/roles/{d1}/implies/{d2}").status_code == 201
        assert admin_api.call("PUT", f"/roles/{d1}/implies/{g}").status_code == 201
        r = admin_api.call("PUT", f"/roles/{g}/implies/{d1}")
        assert r.status_code == 403, r.text
    finally:
        for rid in made:
            admin_api.call("DELETE", f"/roles/{rid}")
        admin_api.call("PATCH", f"/domains/{domain['id']}", {"domain": {"enabled": False}})
        admin_api.call("DELETE", f"/domains/{domain['id']}")


def test_token_method_with_revoked_token_is_404(admin_api: Api, member_factory: Any) -> None:
    m = member_factory()
    r = admin_api.call("POST", f"/users/{m.user_id}/password", {"user": {
        "original_password": m.password, "password": m.password + "-new"}}, token="")
    assert r.status_code == 204, r.text
    again = admin_api.call("POST", "/auth/tokens", {"auth": {
        "identity": {"methods": ["token"], "token": {"id": m.token}}}}, token="")
    assert again.status_code == 404, again.text
    assert again.json()["error"]["code"] == 404
