"""A domain whose users and groups live in LDAP: a live nubo configured through
``<state dir>/nubo.toml`` against a seeded slapd, driven by openstacksdk."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
import pytest
import requests
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from tests.cloud import Cloud, free_port
from tests.conftest import test_env as shared_env
from tests.ldap_server import LdapServer, options, toml_table

pytestmark = pytest.mark.ldap


@pytest.fixture(scope="module")
def ldap_cloud(ldap_server: LdapServer) -> Iterator[tuple[Cloud, str]]:
    """A nubo (SQLite) whose domain ``<id>`` is configured to read LDAP; the domain
    itself is created by the admin in the tests, with that id."""
    domain_id = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="nubo-test-ldap-") as tmp:
        state = Path(tmp) / "state"
        state.mkdir()
        (state / "nubo.toml").write_text(toml_table(domain_id, options(ldap_server.url)))
        cloud = Cloud(state, free_port(), f"sqlite:///{tmp}/nubo.db", env=shared_env())
        try:
            cloud.start()
            yield cloud, domain_id
        finally:
            cloud.stop()


@pytest.fixture(scope="module")
def corp(ldap_cloud: tuple[Cloud, str]) -> dict[str, Any]:
    cloud, domain_id = ldap_cloud
    admin = cloud.connect()
    domain = admin.identity.create_domain(id=domain_id, name="corp-ldap")
    assert domain.id == domain_id
    project = admin.identity.create_project(name="corp-project", domain_id=domain_id)
    return {"cloud": cloud, "admin": admin, "domain": domain, "project": project}


def _user(admin: Any, domain_id: str, name: str) -> Any:
    found = list(admin.identity.users(domain_id=domain_id, name=name))
    assert len(found) == 1, found
    return found[0]


def test_users_of_the_domain_come_from_ldap(corp: dict[str, Any]) -> None:
    admin, domain = corp["admin"], corp["domain"]
    users = {u.name: u for u in admin.identity.users(domain_id=domain.id)}
    assert set(users) == {"alice", "bob", "carol"}
    assert users["alice"].email == "alice@nubo.test"
    assert users["alice"].is_enabled and not users["carol"].is_enabled
    assert all(u.domain_id == domain.id and len(u.id) == 64 for u in users.values())
    assert [u.name for u in admin.identity.users(domain_id=domain.id, name="bob")] == ["bob"]
    again = admin.identity.get_user(users["alice"].id)
    assert (again.name, again.domain_id) == ("alice", domain.id)
    # the SQL domains are untouched
    assert "alice" not in {u.name for u in admin.identity.users(domain_id="default")}


def test_groups_and_membership_come_from_ldap(corp: dict[str, Any]) -> None:
    admin, domain = corp["admin"], corp["domain"]
    groups = {g.name: g for g in admin.identity.groups(domain_id=domain.id)}
    assert set(groups) == {"developers", "operators"}
    assert groups["developers"].description == "People who write code"
    members = {u.name for u in admin.identity.group_users(groups["developers"])}
    assert members == {"alice", "bob"}
    bob = _user(admin, domain.id, "bob")
    assert {g.name for g in admin.identity.user_groups(bob)} == {"developers", "operators"}
    assert admin.identity.check_user_in_group(bob, groups["operators"])
    alice = _user(admin, domain.id, "alice")
    assert not admin.identity.check_user_in_group(alice, groups["operators"])


def test_ldap_user_gets_a_project_scoped_token(corp: dict[str, Any]) -> None:
    cloud, admin, domain, project = corp["cloud"], corp["admin"], corp["domain"], corp["project"]
    alice = _user(admin, domain.id, "alice")
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, alice, member)
    assert admin.identity.validate_user_has_project_role(project, alice, member)

    conn = openstack.connect(
        auth_url=cloud.auth_url, username="alice", password="alice-pw-1",
        user_domain_id=domain.id, project_id=project.id, project_domain_id=domain.id)
    token = conn.session.get_token()
    body = requests.get(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, headers={
        "X-Auth-Token": token, "X-Subject-Token": token}).json()["token"]
    assert body["user"]["id"] == alice.id and body["user"]["domain"]["id"] == domain.id
    assert body["project"]["id"] == project.id
    assert "member" in {r["name"] for r in body["roles"]}
    # the LDAP user reads its own groups with its own token
    mine = {g.name for g in conn.identity.user_groups(alice.id)}
    assert mine == {"developers"}

    # by public id too, and the grant shows in role assignments
    by_id = requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "id": alice.id, "password": "alice-pw-1"}}},
        "scope": {"project": {"id": project.id}}}})
    assert by_id.status_code == 201, by_id.text
    grants = list(admin.identity.role_assignments(user_id=alice.id))
    assert [(g.scope["project"]["id"], g.role["id"]) for g in grants] == [(project.id, member.id)]

    with pytest.raises(ks_exc.Unauthorized):
        openstack.connect(auth_url=cloud.auth_url, username="alice", password="wrong",
                          user_domain_id=domain.id, project_id=project.id,
                          project_domain_id=domain.id).session.get_token()


def test_disabled_ldap_user_cannot_authenticate(corp: dict[str, Any]) -> None:
    cloud, domain = corp["cloud"], corp["domain"]
    r = requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "carol", "password": "carol-pw-3", "domain": {"id": domain.id}}}}}})
    assert r.status_code == 401, r.text


def test_writes_to_the_ldap_domain_are_refused(corp: dict[str, Any]) -> None:
    admin, domain = corp["admin"], corp["domain"]
    with pytest.raises(sdk_exc.ForbiddenException, match="read-only"):
        admin.identity.create_user(name="dave", domain_id=domain.id, password="x")
    with pytest.raises(sdk_exc.ForbiddenException, match="read-only"):
        admin.identity.create_group(name="new", domain_id=domain.id)
    bob = _user(admin, domain.id, "bob")
    with pytest.raises(sdk_exc.ForbiddenException, match="read-only"):
        admin.identity.update_user(bob, description="changed")
    with pytest.raises(sdk_exc.ForbiddenException, match="read-only"):
        admin.identity.delete_user(bob)
    devs = next(g for g in admin.identity.groups(domain_id=domain.id) if g.name == "developers")
    with pytest.raises(sdk_exc.ForbiddenException, match="read-only"):
        admin.identity.remove_user_from_group(bob, devs)
    with pytest.raises(sdk_exc.ForbiddenException, match="read-only"):
        admin.identity.delete_group(devs)
    # still there, unchanged
    assert admin.identity.get_user(bob.id).description == "LDAP user bob"


def test_roles_granted_to_an_ldap_group_reach_its_members(corp: dict[str, Any]) -> None:
    cloud, admin, domain = corp["cloud"], corp["admin"], corp["domain"]
    project = admin.identity.create_project(name="ops-project", domain_id=domain.id)
    ops = next(g for g in admin.identity.groups(domain_id=domain.id) if g.name == "operators")
    reader = admin.identity.find_role("reader")
    admin.identity.assign_project_role_to_group(project, ops, reader)

    def token(user: str, password: str) -> requests.Response:
        return requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "password": password, "domain": {"id": domain.id}}}},
            "scope": {"project": {"id": project.id}}}})

    bob = token("bob", "bob-pw-2")  # bob is in operators
    assert bob.status_code == 201, bob.text
    assert "reader" in {r["name"] for r in bob.json()["token"]["roles"]}
    projects = requests.get(f"{cloud.auth_url}/v3/auth/projects", timeout=30, headers={
        "X-Auth-Token": bob.headers["X-Subject-Token"]}).json()["projects"]
    assert project.id in {p["id"] for p in projects}
    assert token("alice", "alice-pw-1").status_code == 401  # alice is not


def _token(cloud: Cloud, auth: dict[str, Any]) -> str:
    r = requests.post(f"{cloud.auth_url}/v3/auth/tokens", json={"auth": auth}, timeout=30)
    assert r.status_code == 201, r.text
    return str(r.headers["X-Subject-Token"])


def _admin_token(cloud: Cloud, scope: dict[str, Any]) -> str:
    return _token(cloud, {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": cloud.admin_password}}},
        "scope": scope})


def _names(cloud: Cloud, token: str, what: str) -> set[str]:
    r = requests.get(f"{cloud.auth_url}/v3/{what}", headers={"X-Auth-Token": token},
                     timeout=30)
    assert r.status_code == 200, r.text
    return {x["name"] for x in r.json()[what]}


def test_unfiltered_lists_cover_the_token_scopes_domain(corp: dict[str, Any]) -> None:
    cloud, admin, domain = corp["cloud"], corp["admin"], corp["domain"]
    me = admin.identity.find_user("admin", domain_id="default")
    role = admin.identity.find_role("admin")
    admin.identity.assign_domain_role_to_user(domain, me, role)
    admin.identity.assign_project_role_to_user(corp["project"], me, role)
    ldap_users, ldap_groups = {"alice", "bob", "carol"}, {"developers", "operators"}
    for scope in ({"domain": {"id": domain.id}}, {"project": {"id": corp["project"].id}}):
        token = _admin_token(cloud, scope)
        assert _names(cloud, token, "users") == ldap_users, scope
        assert _names(cloud, token, "groups") == ldap_groups, scope
    # a domain-scoped token lists its own domain only
    token = _admin_token(cloud, {"domain": {"id": domain.id}})
    for what in ("users", "groups"):
        r = requests.get(f"{cloud.auth_url}/v3/{what}?domain_id=default", timeout=30,
                         headers={"X-Auth-Token": token})
        assert r.status_code == 403, (what, r.text)
    # a project of a SQL domain: that domain's users (Keystone with domain-specific
    # drivers); the system scope: the SQL domains
    other = admin.identity.create_domain(name=f"sql-{uuid.uuid4().hex[:6]}")
    stranger = admin.identity.create_user(name=f"s-{uuid.uuid4().hex[:6]}",
                                          domain_id=other.id, password="x")
    in_default = _names(cloud, _admin_token(cloud, {"project": {
        "name": "admin", "domain": {"id": "default"}}}), "users")
    assert "admin" in in_default and stranger.name not in in_default
    assert not in_default & ldap_users
    system = _names(cloud, _admin_token(cloud, {"system": {"all": True}}), "users")
    assert {"admin", stranger.name} <= system and not system & ldap_users


def test_role_assignments_name_ldap_actors(corp: dict[str, Any]) -> None:
    cloud, admin, domain = corp["cloud"], corp["admin"], corp["domain"]
    project = admin.identity.create_project(name=f"named-{uuid.uuid4().hex[:6]}",
                                            domain_id=domain.id)
    reader = admin.identity.find_role("reader")
    carol = _user(admin, domain.id, "carol")
    devs = next(g for g in admin.identity.groups(domain_id=domain.id) if g.name == "developers")
    admin.identity.assign_project_role_to_user(project, carol, reader)
    admin.identity.assign_project_role_to_group(project, devs, reader)
    token = _admin_token(cloud, {"system": {"all": True}})
    r = requests.get(f"{cloud.auth_url}/v3/role_assignments", timeout=30, headers={
        "X-Auth-Token": token}, params={"scope.project.id": project.id, "include_names": "1"})
    assert r.status_code == 200, r.text
    named = {("user" if "user" in a else "group"): a.get("user") or a.get("group")
             for a in r.json()["role_assignments"]}
    corp_ref = {"id": domain.id, "name": "corp-ldap"}
    assert named["user"] == {"id": carol.id, "name": "carol", "domain": corp_ref}
    assert named["group"] == {"id": devs.id, "name": "developers", "domain": corp_ref}


def test_ldap_user_application_credentials(corp: dict[str, Any]) -> None:
    cloud, admin, domain, project = corp["cloud"], corp["admin"], corp["domain"], corp["project"]
    bob = _user(admin, domain.id, "bob")
    admin.identity.assign_project_role_to_user(project, bob, admin.identity.find_role("member"))
    conn = openstack.connect(
        auth_url=cloud.auth_url, username="bob", password="bob-pw-2",
        user_domain_id=domain.id, project_id=project.id, project_domain_id=domain.id)
    cred = conn.identity.create_application_credential(bob.id, name="ci", secret="s3cret")
    assert cred.project_id == project.id
    assert [c.name for c in conn.identity.application_credentials(bob.id)] == ["ci"]
    by_id = _token(cloud, {"identity": {"methods": ["application_credential"],
                                        "application_credential": {"id": cred.id,
                                                                   "secret": "s3cret"}}})
    by_name = _token(cloud, {"identity": {"methods": ["application_credential"],
                                          "application_credential": {
                                              "name": "ci", "secret": "s3cret", "user": {
                                                  "name": "bob", "domain": {"id": domain.id}}}}})
    for tok in (by_id, by_name):
        body = requests.get(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, headers={
            "X-Auth-Token": tok, "X-Subject-Token": tok}).json()["token"]
        assert body["user"]["id"] == bob.id and body["project"]["id"] == project.id
        assert body["application_credential"]["id"] == cred.id
    bad = requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["application_credential"],
                     "application_credential": {"id": cred.id, "secret": "wrong"}}}})
    assert bad.status_code == 401
    # another LDAP user cannot make one for bob
    alice = openstack.connect(
        auth_url=cloud.auth_url, username="alice", password="alice-pw-1",
        user_domain_id=domain.id, project_id=project.id, project_domain_id=domain.id)
    with pytest.raises(sdk_exc.ForbiddenException):
        alice.identity.create_application_credential(bob.id, name="theirs")
    conn.identity.delete_application_credential(bob.id, cred.id)
    assert list(conn.identity.application_credentials(bob.id)) == []


def test_directory_connections_are_reused(corp: dict[str, Any],
                                          ldap_server: LdapServer) -> None:
    """Searches and password checks borrow pooled connections (Keystone's use_pool and
    use_auth_pool, on by default) instead of opening one each."""
    cloud, admin, domain = corp["cloud"], corp["admin"], corp["domain"]

    def password(user: str, secret: str) -> int:
        return requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "password": secret, "domain": {"id": domain.id}}}},
            "scope": "unscoped"}}).status_code

    assert password("bob", "bob-pw-2") == 201  # both pools hold a connection now
    before = ldap_server.connections_opened()
    for _ in range(8):
        assert {u.name for u in admin.identity.users(domain_id=domain.id)} == {
            "alice", "bob", "carol"}
        assert password("bob", "bob-pw-2") == 201
        assert password("bob", "wrong") == 401
    opened = ldap_server.connections_opened() - before - 1  # less the counter's own query
    # 8 lists and 16 password checks, each a search and most a bind: with no pool that
    # is some 40 connections; a pooled connection the server dropped may be replaced
    assert opened <= 2, opened


def test_trusts_count_roles_held_through_a_directory_group(corp: dict[str, Any]) -> None:
    """An LDAP trustor may delegate a role it holds only through a directory group, to
    an LDAP trustee, and the trust's tokens carry it."""
    cloud, admin, domain = corp["cloud"], corp["admin"], corp["domain"]
    project = admin.identity.create_project(name=f"trust-{uuid.uuid4().hex[:6]}",
                                            domain_id=domain.id)
    devs = next(g for g in admin.identity.groups(domain_id=domain.id) if g.name == "developers")
    admin.identity.assign_project_role_to_group(project, devs, admin.identity.find_role("member"))
    alice, bob = _user(admin, domain.id, "alice"), _user(admin, domain.id, "bob")

    def token(user: str, secret: str, scope: dict[str, Any]) -> str:
        return _token(cloud, {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": secret, "domain": {"id": domain.id}}}}, "scope": scope})

    alice_token = token("alice", "alice-pw-1", {"project": {"id": project.id}})
    # her projects include the one she reaches only through the group
    mine = requests.get(f"{cloud.auth_url}/v3/users/{alice.id}/projects", timeout=30,
                        headers={"X-Auth-Token": alice_token})
    assert project.id in {p["id"] for p in mine.json()["projects"]}, mine.text
    r = requests.post(f"{cloud.auth_url}/v3/OS-TRUST/trusts", timeout=30,
                      headers={"X-Auth-Token": alice_token}, json={"trust": {
                          "trustor_user_id": alice.id, "trustee_user_id": bob.id,
                          "project_id": project.id, "impersonation": False,
                          "roles": [{"name": "member"}]}})
    assert r.status_code == 201, r.text
    trust = r.json()["trust"]
    assert {x["name"] for x in trust["roles"]} == {"member"}
    bob_token = token("bob", "bob-pw-2", "unscoped")  # type: ignore[arg-type]
    scoped = requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": bob_token}},
        "scope": {"OS-TRUST:trust": {"id": trust["id"]}}}})
    assert scoped.status_code == 201, scoped.text
    body = scoped.json()["token"]
    assert body["user"]["id"] == bob.id and body["project"]["id"] == project.id
    assert {x["name"] for x in body["roles"]} >= {"member", "reader"}
    # a role alice holds neither directly nor through a group is still refused
    refused = requests.post(f"{cloud.auth_url}/v3/OS-TRUST/trusts", timeout=30,
                            headers={"X-Auth-Token": alice_token}, json={"trust": {
                                "trustor_user_id": alice.id, "trustee_user_id": bob.id,
                                "project_id": project.id, "impersonation": False,
                                "roles": [{"name": "admin"}]}})
    assert refused.status_code in (403, 404), refused.text


def test_pooled_connections_survive_a_directory_restart(corp: dict[str, Any],
                                                        ldap_server: LdapServer) -> None:
    """Connections a restarted server dropped are replaced on the next call: the
    request that finds them dead succeeds on a fresh one."""
    cloud, admin, domain = corp["cloud"], corp["admin"], corp["domain"]
    assert len(list(admin.identity.users(domain_id=domain.id))) == 3
    ldap_server.restart()
    assert len(list(admin.identity.users(domain_id=domain.id))) == 3
    r = requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "alice", "password": "alice-pw-1", "domain": {"id": domain.id}}}},
        "scope": "unscoped"}})
    assert r.status_code == 201, r.text


def test_effective_assignments_expand_directory_groups(corp: dict[str, Any]) -> None:
    """``effective`` lists what tokens carry: a directory group's grant shows for each
    of its members, named with the group it came through."""
    cloud, admin, domain = corp["cloud"], corp["admin"], corp["domain"]
    project = admin.identity.create_project(name=f"eff-{uuid.uuid4().hex[:6]}",
                                            domain_id=domain.id)
    ops = next(g for g in admin.identity.groups(domain_id=domain.id) if g.name == "operators")
    reader = admin.identity.find_role("reader")
    admin.identity.assign_project_role_to_group(project, ops, reader)
    bob, alice = _user(admin, domain.id, "bob"), _user(admin, domain.id, "alice")
    token = _admin_token(cloud, {"system": {"all": True}})
    r = requests.get(f"{cloud.auth_url}/v3/role_assignments", timeout=30, headers={
        "X-Auth-Token": token}, params={"scope.project.id": project.id, "effective": "1"})
    assert r.status_code == 200, r.text
    got = {(a["user"]["id"], a["role"]["id"], a["links"].get("membership", "").rsplit("/", 3)[-3])
           for a in r.json()["role_assignments"]}
    assert got == {(bob.id, reader.id, ops.id)}
    mine = requests.get(f"{cloud.auth_url}/v3/role_assignments", timeout=30, headers={
        "X-Auth-Token": token}, params={"user.id": alice.id, "effective": "1",
                                        "scope.project.id": project.id})
    assert mine.json()["role_assignments"] == []
