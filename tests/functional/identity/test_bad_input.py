"""Bad input gets a 4xx with Keystone's error body and leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.identity.conftest import Api, unique


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == status and err["message"] and err["title"]
    return err  # type: ignore[no-any-return]


def test_malformed_json(admin_api: Api) -> None:
    _error(admin_api.call("POST", "/users", data=b'{"user": {"name": '), 400)


@pytest.mark.parametrize("body", [
    [], {"user": "x"}, {"user": {"name": 5}}, {"user": {"name": ""}},
    {"user": {"name": "x", "enabled": "yes"}}, {"usr": {"name": "x"}},
    {"user": {"name": "x", "options": {"bogus": True}}},
])
def test_invalid_user_bodies(admin_api: Api, body: Any) -> None:
    _error(admin_api.call("POST", "/users", body), 400)


def test_body_over_limit_is_413(admin_api: Api) -> None:
    big = {"user": {"name": unique("u"), "description": "x" * 200_000}}
    _error(admin_api.call("POST", "/users", big), 413)


def test_unicode_names_round_trip(admin_api: Api) -> None:
    name = "ユーザー-" + unique("ü")
    r = admin_api.call("POST", "/users", {"user": {"name": name}})
    assert r.status_code == 201
    assert admin_api.call("GET", f"/users/{r.json()['user']['id']}").json()["user"]["name"] == name


def test_nothing_half_made_on_bad_project(admin_api: Api) -> None:
    name = unique("p")
    _error(admin_api.call("POST", "/projects", {"project": {
        "name": name, "parent_id": "does-not-exist"}}), 400)
    _error(admin_api.call("POST", "/projects", {"project": {"name": name,
                                                            "tags": ["bad/tag"]}}), 400)
    assert admin_api.call("GET", f"/projects?name={name}").json()["projects"] == []


def test_unknown_things_are_404(admin_api: Api) -> None:
    _error(admin_api.call("GET", "/users/nope"), 404)
    _error(admin_api.call("GET", "/no-such-collection"), 404)
    _error(admin_api.call("PUT", "/projects/nope/users/nope/roles/nope"), 404)


def test_wrong_method_is_405(admin_api: Api) -> None:
    _error(admin_api.call("PUT", "/users"), 405)


def test_bad_auth_requests(admin_api: Api) -> None:
    _error(admin_api.call("POST", "/auth/tokens", {"auth": {}}, token=""), 400)
    _error(admin_api.call("POST", "/auth/tokens", {"auth": {"identity": {
        "methods": ["kerberos"], "kerberos": {}}}}, token=""), 401)
    _error(admin_api.call("POST", "/auth/tokens", {"auth": {"identity": {
        "methods": ["password"], "password": {"user": {"name": "admin",
                                                       "password": "x"}}}}}, token=""), 400)


def test_bad_endpoint_interface(admin_api: Api) -> None:
    svc = admin_api.call("POST", "/services", {"service": {"type": "x"}}).json()["service"]
    _error(admin_api.call("POST", "/endpoints", {"endpoint": {
        "service_id": svc["id"], "interface": "sideways", "url": "http://x"}}), 400)
    _error(admin_api.call("POST", "/endpoints", {"endpoint": {
        "service_id": svc["id"], "interface": "public", "url": "not a url"}}), 400)
    admin_api.call("DELETE", f"/services/{svc['id']}")
