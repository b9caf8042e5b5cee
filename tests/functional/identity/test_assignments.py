"""GET /v3/role_assignments with its filters (scope.project.id with include_subtree,
scope.domain.id, scope.system, role.id, group.id, user.id, effective), and grants on
the system, through openstacksdk, the openstack CLI and raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, password_token, unique


@dataclass
class Tree:
    parent: Any
    child: Any
    domain: Any
    user: Any
    group: Any
    roles: dict[str, Any]


@pytest.fixture
def tree(admin: Any) -> Iterator[Tree]:
    """A domain holding a parent project with a child, a user, and a group with the
    user in it; grants: reader to the user on the parent, member to the group on the
    child, manager to the user on the domain."""
    domain = admin.identity.create_domain(name=unique("d"))
    parent = admin.identity.create_project(name=unique("p"), domain_id=domain.id)
    child = admin.identity.create_project(name=unique("c"), parent_id=parent.id)
    user = admin.identity.create_user(name=unique("u"), password="pw", domain_id=domain.id)
    group = admin.identity.create_group(name=unique("g"), domain_id=domain.id)
    admin.identity.add_user_to_group(user, group)
    roles = {n: admin.identity.find_role(n) for n in ("reader", "member", "manager", "admin")}
    admin.identity.assign_project_role_to_user(parent, user, roles["reader"])
    admin.identity.assign_project_role_to_group(child, group, roles["member"])
    admin.identity.assign_domain_role_to_user(domain, user, roles["manager"])
    yield Tree(parent, child, domain, user, group, roles)
    admin.identity.delete_user(user)
    admin.identity.delete_group(group)
    admin.identity.delete_project(child)
    admin.identity.delete_project(parent)
    admin.identity.update_domain(domain, enabled=False)
    admin.identity.delete_domain(domain)


def _listed(api: Api, query: str) -> set[tuple[str, str, str]]:
    """(actor id, target id, role id) of each assignment the query lists."""
    r = api.call("GET", f"/role_assignments?{query}")
    assert r.status_code == 200, r.text
    out = set()
    for a in r.json()["role_assignments"]:
        actor = a.get("user") or a.get("group")
        scope = a["scope"]
        target = (scope.get("project") or scope.get("domain") or {"id": "system"})["id"]
        out.add((actor["id"], target, a["role"]["id"]))
    return out


def test_scope_filters_and_subtree(admin_api: Api, tree: Tree) -> None:
    t, r = tree, tree.roles
    assert _listed(admin_api, f"scope.project.id={t.parent.id}") == {
        (t.user.id, t.parent.id, r["reader"].id)}
    assert _listed(admin_api, f"scope.project.id={t.parent.id}&include_subtree=true") == {
        (t.user.id, t.parent.id, r["reader"].id), (t.group.id, t.child.id, r["member"].id)}
    assert _listed(admin_api, f"scope.domain.id={t.domain.id}") == {
        (t.user.id, t.domain.id, r["manager"].id)}
    assert _listed(admin_api, f"group.id={t.group.id}") == {
        (t.group.id, t.child.id, r["member"].id)}
    by_role = _listed(admin_api, f"role.id={r['member'].id}&scope.project.id={t.child.id}")
    assert by_role == {(t.group.id, t.child.id, r["member"].id)}
    # include_subtree needs a project; two scopes at once are refused
    assert admin_api.call("GET", "/role_assignments?include_subtree=true").status_code == 400
    assert admin_api.call("GET", f"/role_assignments?scope.project.id={t.parent.id}"
                                 f"&scope.domain.id={t.domain.id}").status_code == 400


def test_effective_expands_groups_and_implied_roles(admin_api: Api, tree: Tree) -> None:
    t, r = tree, tree.roles
    got = _listed(admin_api, f"user.id={t.user.id}&effective")
    assert (t.user.id, t.child.id, r["member"].id) in got  # through the group
    assert (t.user.id, t.child.id, r["reader"].id) in got  # member implies reader
    assert (t.user.id, t.domain.id, r["member"].id) in got  # manager implies member
    assert not any(actor == t.group.id for actor, _, _ in got)
    assert admin_api.call("GET", f"/role_assignments?group.id={t.group.id}&effective"
                          ).status_code == 400


def test_system_grants(cloud: Cloud, admin_api: Api, tree: Tree) -> None:
    t, r = tree, tree.roles
    path = f"/system/users/{t.user.id}/roles/{r['reader'].id}"
    assert admin_api.call("PUT", path).status_code == 204
    assert admin_api.call("HEAD", path).status_code == 204
    assert _listed(admin_api, "scope.system=all") >= {(t.user.id, "system", r["reader"].id)}
    listed = admin_api.call("GET", f"/system/users/{t.user.id}/roles").json()["roles"]
    assert [x["id"] for x in listed] == [r["reader"].id]
    system = password_token(cloud, t.user.name, "pw", {"system": {"all": True}},
                            domain=t.domain.id)
    assert system.status_code == 201, system.text
    assert {x["name"] for x in system.json()["token"]["roles"]} == {"reader"}
    group_path = f"/system/groups/{t.group.id}/roles/{r['member'].id}"
    assert admin_api.call("PUT", group_path).status_code == 204
    again = password_token(cloud, t.user.name, "pw", {"system": {"all": True}},
                           domain=t.domain.id)
    assert {x["name"] for x in again.json()["token"]["roles"]} == {"reader", "member"}
    assert admin_api.call("DELETE", path).status_code == 204
    assert admin_api.call("DELETE", group_path).status_code == 204
    assert admin_api.call("HEAD", path).status_code == 404
    assert password_token(cloud, t.user.name, "pw", {"system": {"all": True}},
                          domain=t.domain.id).status_code == 401


def test_cli_role_assignment_list(cloud: Cloud, tree: Tree) -> None:
    t = tree
    rows = cloud.cli_json("role", "assignment", "list", "--user", t.user.id, "--effective",
                          "--names")
    pairs = {(a["Role"], a["Project"]) for a in rows if a["Project"]}
    child = f"{t.child.name}@{t.domain.name}"
    assert {("member", child), ("reader", child)} <= pairs
    cloud.cli("role", "add", "--system", "all", "--user", t.user.id, "reader")
    system = cloud.cli_json("role", "assignment", "list", "--system", "all", "--user",
                            t.user.id, "--names")
    assert [(a["Role"], a["System"]) for a in system] == [("reader", "all")]
    cloud.cli("role", "remove", "--system", "all", "--user", t.user.id, "reader")
    assert cloud.cli_json("role", "assignment", "list", "--system", "all", "--user",
                          t.user.id) == []
