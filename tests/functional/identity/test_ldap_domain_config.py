"""LDAP configured through the domain-config API (``/v3/domains/{id}/config`` with
``identity.driver = ldap``) takes effect at once, on a nubo started with
``domain_configurations_from_database``."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cloud import Cloud, free_port
from tests.conftest import test_env as shared_env
from tests.ldap_server import LdapServer, options

pytestmark = pytest.mark.ldap


@pytest.fixture(scope="module")
def cloud_db(ldap_server: LdapServer) -> Iterator[Cloud]:
    with tempfile.TemporaryDirectory(prefix="nubo-test-ldapdb-") as tmp:
        state = Path(tmp) / "state"
        state.mkdir()
        (state / "nubo.toml").write_text(
            "[identity]\ndomain_configurations_from_database = true\n")
        cloud = Cloud(state, free_port(), f"sqlite:///{tmp}/nubo.db", env=shared_env())
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()


def _call(cloud: Cloud, token: str, method: str, path: str, body: Any = None
          ) -> requests.Response:
    return requests.request(method, f"{cloud.auth_url}/v3{path}", json=body, timeout=30,
                            headers={"X-Auth-Token": token})


def _login(cloud: Cloud, name: str, password: str, domain_id: str,
           scope: dict[str, Any] | None = None) -> requests.Response:
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "password": password, "domain": {"id": domain_id}}}}}
    if scope:
        auth["scope"] = scope
    return requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": auth})


def _users(cloud: Cloud, token: str, domain_id: str) -> set[str]:
    r = _call(cloud, token, "GET", f"/users?domain_id={domain_id}")
    assert r.status_code == 200, r.text
    return {u["name"] for u in r.json()["users"]}


def test_domain_config_switches_a_domain_to_ldap_and_back(
        cloud_db: Cloud, ldap_server: LdapServer) -> None:
    cloud = cloud_db
    admin = _login(cloud, "admin", cloud.admin_password, "default",
                   {"project": {"name": "admin", "domain": {"id": "default"}}})
    token = admin.headers["X-Subject-Token"]
    r = _call(cloud, token, "POST", "/domains", {"domain": {"name": f"d-{uuid.uuid4().hex[:6]}"}})
    domain_id = r.json()["domain"]["id"]
    assert _users(cloud, token, domain_id) == set()
    config = {"identity": {"driver": "ldap"}, "ldap": options(ldap_server.url)}
    # a member of a project may not configure a domain
    demo = _call(cloud, token, "GET", "/projects?name=demo").json()["projects"][0]
    other = _call(cloud, token, "POST", "/users", {"user": {
        "name": f"m-{uuid.uuid4().hex[:6]}", "password": "pw-1"}}).json()["user"]
    member = _call(cloud, token, "GET", "/roles?name=member").json()["roles"][0]
    assert _call(cloud, token, "PUT", f"/projects/{demo['id']}/users/{other['id']}/roles/"
                 f"{member['id']}").status_code == 204
    member_token = _login(cloud, other["name"], "pw-1", "default", {
        "project": {"id": demo["id"]}}).headers["X-Subject-Token"]
    assert _call(cloud, member_token, "PUT", f"/domains/{domain_id}/config",
                 {"config": config}).status_code == 403
    r = _call(cloud, token, "PUT", f"/domains/{domain_id}/config", {"config": config})
    assert r.status_code == 201, r.text
    assert "password" not in r.json()["config"]["ldap"]
    # at once: the directory's users, their passwords, and the read-only refusal
    assert _users(cloud, token, domain_id) == {"alice", "bob", "carol"}
    assert _login(cloud, "alice", "alice-pw-1", domain_id).status_code == 201
    made = _call(cloud, token, "POST", "/users", {"user": {"name": "dave",
                                                           "domain_id": domain_id}})
    assert made.status_code == 403 and "read-only" in made.text
    # an update narrows the directory search; a badly typed option is refused
    r = _call(cloud, token, "PATCH", f"/domains/{domain_id}/config/ldap",
              {"config": {"ldap": {"user_filter": "(sn=alice)"}}})
    assert r.status_code == 200, r.text
    assert _users(cloud, token, domain_id) == {"alice"}
    r = _call(cloud, token, "PATCH", f"/domains/{domain_id}/config/ldap",
              {"config": {"ldap": {"page_size": "many"}}})
    assert r.status_code == 400, r.text
    assert _users(cloud, token, domain_id) == {"alice"}
    # deleted: back to SQL, where the domain has no users
    assert _call(cloud, token, "DELETE",
                 f"/domains/{domain_id}/config").status_code == 204
    assert _users(cloud, token, domain_id) == set()
    assert _login(cloud, "alice", "alice-pw-1", domain_id).status_code == 401



def test_deleting_the_domain_drops_its_ldap_configuration(
        cloud_db: Cloud, ldap_server: LdapServer) -> None:
    cloud = cloud_db
    token = _login(cloud, "admin", cloud.admin_password, "default", {"project": {
        "name": "admin", "domain": {"id": "default"}}}).headers["X-Subject-Token"]
    made = _call(cloud, token, "POST", "/domains", {"domain": {
        "name": f"sql-{uuid.uuid4().hex[:6]}"}}).json()["domain"]
    stranger = _call(cloud, token, "POST", "/users", {"user": {
        "name": f"s-{uuid.uuid4().hex[:6]}", "domain_id": made["id"]}}).json()["user"]
    corp = _call(cloud, token, "POST", "/domains", {"domain": {
        "name": f"corp-{uuid.uuid4().hex[:6]}"}}).json()["domain"]
    config = {"identity": {"driver": "ldap"}, "ldap": options(ldap_server.url)}
    assert _call(cloud, token, "PUT", f"/domains/{corp['id']}/config",
                 {"config": config}).status_code == 201

    def unfiltered() -> set[str]:
        r = _call(cloud, token, "GET", "/users")
        assert r.status_code == 200, r.text
        return {u["name"] for u in r.json()["users"]}

    # an LDAP domain exists: an unfiltered list covers the token's project's domain
    assert stranger["name"] not in unfiltered()
    assert _call(cloud, token, "PATCH", f"/domains/{corp['id']}",
                 {"domain": {"enabled": False}}).status_code == 200
    assert _call(cloud, token, "DELETE", f"/domains/{corp['id']}").status_code == 204
    # none is left: every domain again
    assert stranger["name"] in unfiltered()
