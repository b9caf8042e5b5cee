"""Domain-specific configuration over raw HTTP (neither openstacksdk nor the CLI
manage it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.identity.conftest import Api, unique


@pytest.fixture
def domain(admin: Any) -> Iterator[Any]:
    d = admin.identity.create_domain(name=unique("d"))
    yield d
    admin.identity.update_domain(d.id, enabled=False)
    admin.identity.delete_domain(d.id, ignore_missing=True)


CONFIG = {"identity": {"driver": "ldap"},
          "ldap": {"url": "ldap://example.test", "user": "cn=admin", "password": "s3cret"}}


def test_config_lifecycle(admin_api: Api, domain: Any) -> None:
    base = f"/domains/{domain.id}/config"
    assert admin_api.call("GET", base).status_code == 404
    r = admin_api.call("PUT", base, {"config": CONFIG})
    assert r.status_code == 201, r.text
    shown = r.json()["config"]
    assert shown == {"identity": {"driver": "ldap"},
                     "ldap": {"url": "ldap://example.test", "user": "cn=admin"}}
    # stored only: without domain_configurations_from_database the domain stays in SQL
    users = admin_api.call("GET", f"/users?domain_id={domain.id}")
    assert users.status_code == 200 and users.json()["users"] == []
    assert admin_api.call("GET", base).json()["config"] == shown
    assert admin_api.call("GET", f"{base}/ldap").json()["config"] == {"ldap": shown["ldap"]}
    assert admin_api.call("GET", f"{base}/ldap/url").json()["config"] == {
        "url": "ldap://example.test"}
    assert admin_api.call("GET", f"{base}/ldap/password").status_code == 404
    r = admin_api.call("PATCH", f"{base}/ldap/url", {"config": {"url": "ldap://other"}})
    assert r.status_code == 200 and r.json()["config"]["ldap"]["url"] == "ldap://other"
    r = admin_api.call("PATCH", f"{base}/ldap", {"config": {"ldap": {"suffix": "dc=x"}}})
    assert r.status_code == 200 and r.json()["config"]["ldap"]["suffix"] == "dc=x"
    r = admin_api.call("PATCH", base, {"config": {"identity": {"list_limit": 5}}})
    assert r.json()["config"]["identity"] == {"driver": "ldap", "list_limit": 5}
    # Replacing the whole config answers 200.
    assert admin_api.call("PUT", base, {"config": CONFIG}).status_code == 200
    assert admin_api.call("DELETE", f"{base}/ldap/user").status_code == 204
    assert admin_api.call("GET", f"{base}/ldap/user").status_code == 404
    assert admin_api.call("DELETE", f"{base}/ldap/user").status_code == 404
    assert admin_api.call("DELETE", f"{base}/identity").status_code == 204
    assert "identity" not in admin_api.call("GET", base).json()["config"]
    assert admin_api.call("DELETE", base).status_code == 204
    assert admin_api.call("GET", base).status_code == 404


def test_bad_input(admin_api: Api, domain: Any) -> None:
    base = f"/domains/{domain.id}/config"
    for body in ({"config": {}}, {"config": {"nova": {"x": 1}}},
                 {"config": {"ldap": {"bogus": 1}}}, {"config": {"ldap": "x"}},
                 {"config": "x"}, {"other": {}}):
        r = admin_api.call("PUT", base, body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == 400
    assert admin_api.call("GET", "/domains/nope/config").status_code == 404
    assert admin_api.call("PUT", base, {"config": CONFIG}).status_code == 201
    # A group in the path must be the only group in the body.
    r = admin_api.call("PATCH", f"{base}/ldap", {"config": {"identity": {"driver": "sql"}}})
    assert r.status_code == 400
    assert admin_api.call("GET", f"{base}/nova").status_code == 400
    assert admin_api.call("GET", f"{base}/ldap/bogus").status_code == 400
    assert admin_api.call("DELETE", base).status_code == 204


def test_default_config(admin_api: Api) -> None:
    r = admin_api.call("GET", "/domains/config/default")
    assert r.status_code == 200
    config = r.json()["config"]
    assert config["identity"]["driver"] == "sql" and "password" not in config["ldap"]
    assert admin_api.call("GET", "/domains/config/ldap/default").json()["config"]["ldap"][
        "user_objectclass"] == "inetOrgPerson"
    assert admin_api.call("GET", "/domains/config/ldap/url/default").json() == {
        "config": {"url": "ldap://localhost"}}
    assert admin_api.call("GET", "/domains/config/ldap/password/default").status_code == 400


def test_member_refused(admin_api: Api, member_factory: Any, domain: Any) -> None:
    m = member_factory()
    for method, path, body in (("PUT", f"/domains/{domain.id}/config", {"config": CONFIG}),
                               ("GET", f"/domains/{domain.id}/config", None),
                               ("GET", "/domains/config/default", None)):
        r = admin_api.call(method, path, body, token=m.token)
        assert r.status_code == 403 and r.json()["error"]["code"] == 403
