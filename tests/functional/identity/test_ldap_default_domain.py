"""An LDAP default domain keeps its directory ids as public ids, as Keystone does with
``[identity_mapping] backward_compatible_ids`` (on by default); with it off, the ids
are hashed like any other LDAP domain's. The bootstrap's admin, in SQL, still works."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cloud import Cloud, free_port
from tests.conftest import test_env as shared_env
from tests.ldap_server import LdapServer, options, toml_table

pytestmark = pytest.mark.ldap


@pytest.fixture(scope="module", params=[True, False], ids=["directory-ids", "hashed-ids"])
def default_ldap(request: pytest.FixtureRequest, ldap_server: LdapServer
                 ) -> Iterator[tuple[Cloud, bool]]:
    keep = bool(request.param)
    with tempfile.TemporaryDirectory(prefix="nubo-test-ldap-default-") as tmp:
        state = Path(tmp) / "state"
        state.mkdir()
        (state / "nubo.toml").write_text(toml_table("default", options(ldap_server.url)))
        env = {**shared_env(), "NUBO_IDENTITY__BACKWARD_COMPATIBLE_IDS": str(keep).lower()}
        cloud = Cloud(state, free_port(), f"sqlite:///{tmp}/nubo.db", env=env)
        try:
            cloud.start()
            yield cloud, keep
        finally:
            cloud.stop()


def _call(cloud: Cloud, method: str, path: str, token: str, body: Any = None
          ) -> requests.Response:
    return requests.request(method, f"{cloud.auth_url}/v3{path}", json=body, timeout=30,
                            headers={"X-Auth-Token": token})


def _token(cloud: Cloud, user: dict[str, Any], password: str, scope: Any) -> requests.Response:
    return requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            **user, "password": password}}}, "scope": scope}})


def test_ids_of_an_ldap_default_domain(default_ldap: tuple[Cloud, bool]) -> None:
    cloud, keep = default_ldap
    admin = _token(cloud, {"name": "admin", "domain": {"id": "default"}}, cloud.admin_password,
                   {"project": {"name": "admin", "domain": {"id": "default"}}})
    assert admin.status_code == 201, admin.text  # SQL's admin in the LDAP default domain
    token = admin.headers["X-Subject-Token"]
    # a directory id resolves before anything listed it, as in Keystone
    bob = _call(cloud, "GET", "/users/u-bob", token)
    if keep:
        assert bob.status_code == 200, bob.text
        assert (bob.json()["user"]["name"], bob.json()["user"]["domain_id"]) == ("bob",
                                                                                "default")
        assert _call(cloud, "GET", "/groups/g-ops", token).json()["group"]["name"] == "operators"
    else:
        assert bob.status_code == 404
    assert _call(cloud, "GET", "/users/u-nobody", token).status_code == 404
    users = {u["name"]: u["id"] for u in _call(
        cloud, "GET", "/users?domain_id=default", token).json()["users"]}
    groups = {g["name"]: g["id"] for g in _call(
        cloud, "GET", "/groups?domain_id=default", token).json()["groups"]}
    assert set(users) == {"alice", "bob", "carol"}
    if keep:
        assert users == {"alice": "u-alice", "bob": "u-bob", "carol": "u-carol"}
        assert groups == {"developers": "g-devs", "operators": "g-ops"}
    else:
        assert all(len(i) == 64 and not i.startswith(("u-", "g-"))
                   for i in [*users.values(), *groups.values()])
    # grants on those ids reach tokens, directly and through the group
    project = _call(cloud, "POST", "/projects", token, {"project": {"name": "ldap-default-p"}})
    pid = project.json()["project"]["id"]
    roles = {r["name"]: r["id"] for r in _call(cloud, "GET", "/roles", token).json()["roles"]}
    assert _call(cloud, "PUT", f"/projects/{pid}/groups/{groups['developers']}/roles/"
                               f"{roles['member']}", token).status_code == 204
    alice = _token(cloud, {"name": "alice", "domain": {"id": "default"}}, "alice-pw-1",
                   {"project": {"id": pid}})
    assert alice.status_code == 201, alice.text
    assert alice.json()["token"]["user"]["id"] == users["alice"]
    assert "member" in {r["name"] for r in alice.json()["token"]["roles"]}
    by_id = _token(cloud, {"id": users["alice"]}, "alice-pw-1", {"project": {"id": pid}})
    assert by_id.status_code == 201, by_id.text
    named = _call(cloud, "GET", f"/role_assignments?scope.project.id={pid}&include_names",
                  token).json()["role_assignments"]
    assert [a["group"] for a in named] == [{"id": groups["developers"], "name": "developers",
                                            "domain": {"id": "default", "name": "Default"}}]
