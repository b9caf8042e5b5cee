"""Domains, projects, users, groups, roles, grants, assignments and the catalog,
through openstacksdk and the openstack CLI."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, password_token, unique


def test_domain_lifecycle_sdk(admin: Any) -> None:
    d = admin.identity.create_domain(name=unique("d"), description="x")
    assert admin.identity.get_domain(d.id).name == d.name
    assert d.id in [x.id for x in admin.identity.domains()]
    admin.identity.update_domain(d.id, enabled=False, description="y")
    assert admin.identity.get_domain(d.id).is_enabled is False
    admin.identity.delete_domain(d.id)
    assert admin.identity.find_domain(d.id) is None


def test_enabled_domain_cannot_be_deleted(admin_api: Api) -> None:
    d = admin_api.call("POST", "/domains", {"domain": {"name": unique("d")}}).json()["domain"]
    r = admin_api.call("DELETE", f"/domains/{d['id']}")
    assert r.status_code == 403
    admin_api.call("PATCH", f"/domains/{d['id']}", {"domain": {"enabled": False}})
    assert admin_api.call("DELETE", f"/domains/{d['id']}").status_code == 204


def test_project_hierarchy_and_tags(admin: Any, admin_api: Api) -> None:
    parent = admin.identity.create_project(name=unique("p"), domain_id="default",
                                           tags=["a", "b"])
    child = admin.identity.create_project(name=unique("c"), parent_id=parent.id)
    assert child.domain_id == "default" and child.parent_id == parent.id
    assert parent.parent_id == "default"
    got = admin_api.call("GET", f"/projects/{parent.id}?subtree_as_ids").json()["project"]
    assert got["subtree"] == {child.id: None}
    up = admin_api.call("GET", f"/projects/{child.id}?parents_as_ids").json()["project"]
    assert up["parents"] == {parent.id: None}
    # not a leaf: cannot be deleted
    assert admin_api.call("DELETE", f"/projects/{parent.id}").status_code == 403
    tagged = admin_api.call("GET", "/projects?tags=a,b").json()["projects"]
    assert [p["id"] for p in tagged] == [parent.id]
    assert admin_api.call("PUT", f"/projects/{parent.id}/tags/c").status_code == 201
    assert admin_api.call("GET", f"/projects/{parent.id}/tags").json()["tags"] == ["a", "b", "c"]
    assert admin_api.call("DELETE", f"/projects/{parent.id}/tags/a").status_code == 204
    assert admin_api.call("GET", f"/projects/{parent.id}/tags/a").status_code == 404
    admin.identity.delete_project(child.id)
    admin.identity.delete_project(parent.id)


def test_project_is_domain_shows_as_domain(admin_api: Api) -> None:
    r = admin_api.call("POST", "/projects", {"project": {"name": unique("pd"),
                                                         "is_domain": True}})
    assert r.status_code == 201, r.text
    project = r.json()["project"]
    assert project["is_domain"] is True and project["domain_id"] is None
    assert admin_api.call("GET", f"/domains/{project['id']}").status_code == 200
    # listed as a project only when is_domain asks for it, as in Keystone
    plain = admin_api.call("GET", "/projects").json()["projects"]
    assert project["id"] not in {p["id"] for p in plain} and "default" not in {
        p["id"] for p in plain}
    domains = admin_api.call("GET", "/projects?is_domain=true").json()["projects"]
    assert {project["id"], "default"} <= {p["id"] for p in domains}
    admin_api.call("PATCH", f"/domains/{project['id']}", {"domain": {"enabled": False}})
    admin_api.call("DELETE", f"/domains/{project['id']}")


def test_user_crud_filters_and_extra_attributes(admin: Any, admin_api: Api) -> None:
    name = unique("u")
    user = admin.identity.create_user(name=name, password="pw1", email="u@example.org",
                                      description="d")
    assert user.email == "u@example.org"
    found = admin_api.call("GET", f"/users?name={name}").json()["users"]
    assert [u["id"] for u in found] == [user.id]
    assert "password" not in found[0]
    contains = admin_api.call("GET", f"/users?name__contains={name[2:]}").json()["users"]
    assert user.id in [u["id"] for u in contains]
    admin.identity.update_user(user, enabled=False)
    disabled = admin_api.call("GET", "/users?enabled=false").json()["users"]
    assert user.id in [u["id"] for u in disabled]
    admin.identity.delete_user(user)
    assert admin_api.call("GET", f"/users/{user.id}").status_code == 404


def test_duplicate_user_is_409(admin_api: Api) -> None:
    name = unique("u")
    assert admin_api.call("POST", "/users", {"user": {"name": name}}).status_code == 201
    r = admin_api.call("POST", "/users", {"user": {"name": name}})
    assert r.status_code == 409
    assert r.json()["error"]["title"] == "Conflict"


def test_groups_and_membership(admin: Any, cloud: Cloud) -> None:
    group = admin.identity.create_group(name=unique("g"), domain_id="default")
    user = admin.identity.create_user(name=unique("u"), password="pw")
    admin.identity.add_user_to_group(user, group)
    assert admin.identity.check_user_in_group(user, group)
    assert [u.id for u in admin.identity.group_users(group)] == [user.id]
    # a role granted to the group reaches its member's token
    project = admin.identity.create_project(name=unique("p"), domain_id="default")
    role = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_group(project, group, role)
    r = password_token(cloud, user.name, "pw", {"project": {"id": project.id}})
    assert r.status_code == 201
    assert "member" in {x["name"] for x in r.json()["token"]["roles"]}
    admin.identity.remove_user_from_group(user, group)
    assert not admin.identity.check_user_in_group(user, group)
    assert password_token(cloud, user.name, "pw",
                          {"project": {"id": project.id}}).status_code == 401
    for obj, deleter in ((group, admin.identity.delete_group), (user, admin.identity.delete_user),
                         (project, admin.identity.delete_project)):
        deleter(obj)


def test_roles_implied_and_domain_specific(admin_api: Api) -> None:
    prior = admin_api.call("POST", "/roles", {"role": {"name": unique("r")}}).json()["role"]
    implied = admin_api.call("POST", "/roles", {"role": {"name": unique("r")}}).json()["role"]
    r = admin_api.call("PUT", f"/roles/{prior['id']}/implies/{implied['id']}")
    assert r.status_code == 201
    assert r.json()["role_inference"]["implies"]["id"] == implied["id"]
    assert admin_api.call("HEAD", f"/roles/{prior['id']}/implies/{implied['id']}"
                          ).status_code == 204
    # a cycle is refused
    assert admin_api.call("PUT", f"/roles/{implied['id']}/implies/{prior['id']}"
                          ).status_code == 403
    inferences = admin_api.call("GET", "/role_inferences").json()["role_inferences"]
    priors = {i["prior_role"]["name"] for i in inferences}
    assert {"admin", "member", prior["name"]} <= priors
    dom_role = admin_api.call("POST", "/roles", {"role": {"name": unique("dr"),
                                                          "domain_id": "default"}})
    assert dom_role.status_code == 201 and dom_role.json()["role"]["domain_id"] == "default"
    listed = admin_api.call("GET", "/roles?domain_id=default").json()["roles"]
    assert [x["id"] for x in listed] == [dom_role.json()["role"]["id"]]
    assert dom_role.json()["role"]["id"] not in [
        x["id"] for x in admin_api.call("GET", "/roles").json()["roles"]]
    for role in (prior, implied, dom_role.json()["role"]):
        assert admin_api.call("DELETE", f"/roles/{role['id']}").status_code == 204


def test_role_assignments_effective_and_names(admin_api: Api, member_factory: Any) -> None:
    m = member_factory("admin")
    direct = admin_api.call("GET", f"/role_assignments?user.id={m.user_id}").json()
    assert [a["role"]["id"] for a in direct["role_assignments"]] != []
    effective = admin_api.call(
        "GET", f"/role_assignments?user.id={m.user_id}&effective&include_names").json()
    names = {a["role"]["name"] for a in effective["role_assignments"]}
    assert names == {"admin", "manager", "member", "reader"}
    scoped = [a["scope"]["project"] for a in effective["role_assignments"]]
    assert all(s["id"] == m.project_id and s["name"] for s in scoped)


def test_inherited_assignment_reaches_subprojects(admin: Any, admin_api: Api,
                                                  cloud: Cloud) -> None:
    parent = admin.identity.create_project(name=unique("p"), domain_id="default")
    child = admin.identity.create_project(name=unique("c"), parent_id=parent.id)
    user = admin.identity.create_user(name=unique("u"), password="pw")
    role = admin.identity.find_role("reader")
    r = admin_api.call("PUT", f"/OS-INHERIT/projects/{parent.id}/users/{user.id}/roles/"
                              f"{role.id}/inherited_to_projects")
    assert r.status_code == 204
    assert password_token(cloud, user.name, "pw",
                          {"project": {"id": child.id}}).status_code == 201
    assert password_token(cloud, user.name, "pw",
                          {"project": {"id": parent.id}}).status_code == 401
    eff = admin_api.call("GET", f"/role_assignments?user.id={user.id}&effective").json()
    assert [a["scope"]["project"]["id"] for a in eff["role_assignments"]] == [child.id]
    admin.identity.delete_user(user)
    admin.identity.delete_project(child)
    admin.identity.delete_project(parent)


def test_catalog_crud_sdk(admin: Any) -> None:
    region = admin.identity.create_region(id=unique("Region"), description="r")
    svc = admin.identity.create_service(name=unique("svc"), type="object-store")
    ep = admin.identity.create_endpoint(service_id=svc.id, interface="public",
                                        url="http://example.test/v1", region_id=region.id)
    assert ep.region_id == region.id
    assert ep.id in [e.id for e in admin.identity.endpoints(service_id=svc.id)]
    admin.identity.update_endpoint(ep, url="http://example.test/v2")
    assert admin.identity.get_endpoint(ep.id).url == "http://example.test/v2"
    admin.identity.delete_endpoint(ep)
    admin.identity.delete_service(svc)
    admin.identity.delete_region(region)


def test_cli_project_user_role_flow(cloud: Cloud) -> None:
    pname, uname = unique("clip"), unique("cliu")
    project = cloud.cli_json("project", "create", "--domain", "default", pname)
    assert project["name"] == pname
    user = cloud.cli_json("user", "create", "--password", "pw", "--project", pname, uname)
    assert user["default_project_id"] == project["id"]
    cloud.cli("role", "add", "--project", pname, "--user", uname, "member")
    listing = cloud.cli_json("role", "assignment", "list", "--user", uname, "--names")
    assert [a["Role"] for a in listing] == ["member"]
    users = cloud.cli_json("user", "list", "--project", pname)
    assert uname in [u["Name"] for u in users]
    cloud.cli("user", "set", "--disable", uname)
    assert cloud.cli_json("user", "show", uname)["enabled"] is False
    cloud.cli("user", "delete", uname)
    cloud.cli("project", "delete", pname)
    assert cloud.cli("project", "show", pname, check=False).returncode != 0


def test_cli_as_demo_user(cloud: Cloud) -> None:
    token = cloud.cli_json("token", "issue", cloud="nubo")
    assert token["project_id"]
    denied = cloud.cli("user", "create", "--password", "x", unique("u"), cloud="nubo",
                       check=False)
    assert denied.returncode != 0 and "403" in denied.stderr


@pytest.mark.parametrize("path", ["/", "/v3"])
def test_version_documents(cloud: Cloud, path: str) -> None:
    import requests

    r = requests.get(f"{cloud.auth_url}{path}", timeout=10)
    body = r.json()
    if path == "/":
        assert r.status_code == 300
        assert body["versions"]["values"][0]["id"].startswith("v3")
    else:
        assert r.status_code == 200 and body["version"]["status"] == "stable"
