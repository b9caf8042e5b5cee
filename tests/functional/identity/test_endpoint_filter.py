"""OS-EP-FILTER: endpoint groups and project endpoints, through the CLI,
openstacksdk and raw HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, password_token, unique

EP = "/OS-EP-FILTER"


@pytest.fixture
def endpoint(admin: Any) -> Iterator[Any]:
    svc = admin.identity.create_service(type=unique("svc"), name=unique("svc"))
    ep = admin.identity.create_endpoint(service_id=svc.id, interface="public",
                                        url="http://example.test/x", region_id="RegionOne")
    yield ep
    admin.identity.delete_endpoint(ep.id, ignore_missing=True)
    admin.identity.delete_service(svc.id, ignore_missing=True)


@pytest.fixture
def project(admin: Any) -> Iterator[Any]:
    p = admin.identity.create_project(name=unique("p"), domain_id="default")
    yield p
    admin.identity.delete_project(p.id, ignore_missing=True)


def test_cli_endpoint_group_and_project_endpoint(cloud: Cloud, endpoint: Any, project: Any,
                                                 tmp_path: Path) -> None:
    filters = tmp_path / "filters.json"
    filters.write_text(json.dumps({"service_id": endpoint.service_id}))
    group = cloud.cli_json("endpoint", "group", "create", "--description", "d",
                           unique("eg"), str(filters))
    assert group["filters"] == {"service_id": endpoint.service_id}
    cloud.cli("endpoint", "group", "add", "project", group["id"], project.id)
    listed = cloud.cli_json("endpoint", "group", "list", "--project", project.id)
    assert [g["ID"] for g in listed] == [group["id"]]
    cloud.cli("endpoint", "group", "remove", "project", group["id"], project.id)
    cloud.cli("endpoint", "group", "delete", group["id"])
    cloud.cli("endpoint", "add", "project", endpoint.id, project.id)
    eps = cloud.cli_json("endpoint", "list", "--project", project.id)
    assert [e["ID"] for e in eps] == [endpoint.id]
    cloud.cli("endpoint", "remove", "project", endpoint.id, project.id)
    assert cloud.cli_json("endpoint", "list", "--project", project.id) == []


def test_sdk_endpoint_groups(admin: Any, endpoint: Any, project: Any) -> None:
    group = admin.identity.create_endpoint_group(
        name=unique("eg"), filters={"interface": "public", "service_id": endpoint.service_id})
    try:
        assert admin.identity.get_endpoint_group(group.id).name == group.name
        upd = admin.identity.update_endpoint_group(group.id, description="new")
        assert upd.description == "new"
        assert endpoint.id in {e.id for e in admin.identity.endpoint_group_endpoints(group)}
        admin.identity.associate_project_with_endpoint_group(group, project)
        assert [p.id for p in admin.identity.endpoint_group_projects(group)] == [project.id]
        assert [g.id for g in admin.identity.project_endpoint_groups(project)] == [group.id]
        admin.identity.disassociate_project_from_endpoint_group(group, project)
        assert list(admin.identity.endpoint_group_projects(group)) == []
    finally:
        admin.identity.delete_endpoint_group(group.id)
    assert admin.identity.find_endpoint_group(group.id) is None


def test_raw_associations_and_errors(admin_api: Api, endpoint: Any, project: Any) -> None:
    pe = f"{EP}/projects/{project.id}/endpoints/{endpoint.id}"
    assert admin_api.call("HEAD", pe).status_code == 404
    assert admin_api.call("PUT", pe).status_code == 204
    assert admin_api.call("PUT", pe).status_code == 409
    assert admin_api.call("HEAD", pe).status_code == 204
    assert admin_api.call("GET", pe).status_code == 204
    projects = admin_api.call("GET", f"{EP}/endpoints/{endpoint.id}/projects").json()
    assert [p["id"] for p in projects["projects"]] == [project.id]
    assert admin_api.call("PUT", f"{EP}/projects/nope/endpoints/{endpoint.id}"
                          ).status_code == 404
    assert admin_api.call("PUT", f"{EP}/projects/{project.id}/endpoints/nope"
                          ).status_code == 404
    assert admin_api.call("DELETE", pe).status_code == 204
    assert admin_api.call("DELETE", pe).status_code == 404
    for body in ({"endpoint_group": {"name": "x"}},
                 {"endpoint_group": {"name": "x", "filters": {}}},
                 {"endpoint_group": {"name": "x", "filters": {"bogus": "y"}}},
                 {"endpoint_group": {"filters": {"interface": "public"}}},
                 {"group": {}}):
        r = admin_api.call("POST", f"{EP}/endpoint_groups", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == 400
    made = admin_api.call("POST", f"{EP}/endpoint_groups", {"endpoint_group": {
        "name": unique("eg"), "filters": {"interface": "public"}}})
    assert made.status_code == 201
    gid = made.json()["endpoint_group"]["id"]
    assoc = f"{EP}/endpoint_groups/{gid}/projects/{project.id}"
    assert admin_api.call("GET", assoc).status_code == 404
    assert admin_api.call("PUT", assoc).status_code == 204
    got = admin_api.call("GET", assoc).json()["project_endpoint_group"]
    assert got["endpoint_group_id"] == gid and got["project_id"] == project.id
    eps = admin_api.call("GET", f"{EP}/projects/{project.id}/endpoints").json()["endpoints"]
    assert endpoint.id in {e["id"] for e in eps}
    r = admin_api.call("PATCH", f"{EP}/endpoint_groups/{gid}",
                       {"endpoint_group": {"filters": {"nope": "x"}}})
    assert r.status_code == 400
    assert admin_api.call("DELETE", f"{EP}/endpoint_groups/{gid}").status_code == 204
    assert admin_api.call("GET", f"{EP}/endpoint_groups/{gid}").status_code == 404


def test_member_refused(admin_api: Api, member_factory: Any, endpoint: Any) -> None:
    m = member_factory()
    for method, path, body in (
            ("GET", f"{EP}/endpoint_groups", None),
            ("POST", f"{EP}/endpoint_groups", {"endpoint_group": {
                "name": "x", "filters": {"interface": "public"}}}),
            ("PUT", f"{EP}/projects/{m.project_id}/endpoints/{endpoint.id}", None),
            ("GET", f"{EP}/projects/{m.project_id}/endpoints", None)):
        r = admin_api.call(method, path, body, token=m.token)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["code"] == 403


def _catalog_endpoint_ids(cloud: Cloud, member: Any) -> set[str]:
    r = password_token(cloud, member.name, member.password,
                       {"project": {"id": member.project_id}})
    assert r.status_code == 201, r.text
    return {ep["id"] for svc in r.json()["token"]["catalog"] for ep in svc["endpoints"]}


def test_token_catalog_follows_project_associations(cloud: Cloud, admin_api: Api,
                                                    member_factory: Any, endpoint: Any) -> None:
    member = member_factory("member")
    everything = _catalog_endpoint_ids(cloud, member)
    assert endpoint.id in everything and len(everything) > 1
    # one endpoint tied to the project: its tokens carry that endpoint only
    r = admin_api.call("PUT", f"{EP}/projects/{member.project_id}/endpoints/{endpoint.id}")
    assert r.status_code == 204, r.text
    assert _catalog_endpoint_ids(cloud, member) == {endpoint.id}
    # an endpoint group adds what its filters match
    identity = next(s for s in admin_api.call("GET", "/services").json()["services"]
                    if s["type"] == "identity")
    group = admin_api.call("POST", f"{EP}/endpoint_groups", {"endpoint_group": {
        "name": unique("eg"), "filters": {"service_id": identity["id"]}}}).json()
    gid = group["endpoint_group"]["id"]
    r = admin_api.call("PUT", f"{EP}/endpoint_groups/{gid}/projects/{member.project_id}")
    assert r.status_code == 204, r.text
    ids = _catalog_endpoint_ids(cloud, member)
    assert endpoint.id in ids and len(ids) == 4  # 3 identity interfaces + the one
    # deleting the group and the association gives the project everything again
    assert admin_api.call("DELETE", f"{EP}/endpoint_groups/{gid}").status_code == 204
    r = admin_api.call("DELETE", f"{EP}/projects/{member.project_id}/endpoints/{endpoint.id}")
    assert r.status_code == 204
    assert _catalog_endpoint_ids(cloud, member) == everything


def test_deleting_a_project_drops_its_associations(cloud: Cloud, admin_api: Api, admin: Any,
                                                   endpoint: Any) -> None:
    project = admin.identity.create_project(name=unique("p"), domain_id="default")
    r = admin_api.call("PUT", f"{EP}/projects/{project.id}/endpoints/{endpoint.id}")
    assert r.status_code == 204
    admin.identity.delete_project(project.id)
    r = admin_api.call("GET", f"{EP}/endpoints/{endpoint.id}/projects")
    assert r.status_code == 200 and r.json()["projects"] == []
    assert cloud.sql("SELECT endpoint_id FROM project_endpoint WHERE project_id = :p",
                     p=project.id) == []


def test_deleting_an_endpoint_drops_its_policy_associations(cloud: Cloud, admin_api: Api,
                                                             endpoint: Any) -> None:
    policy = admin_api.call("POST", "/policies", {"policy": {
        "blob": "{}", "type": "application/json"}}).json()["policy"]
    r = admin_api.call("PUT", f"/policies/{policy['id']}/OS-ENDPOINT-POLICY/endpoints/"
                              f"{endpoint.id}")
    assert r.status_code == 204, r.text
    assert admin_api.call("DELETE", f"/endpoints/{endpoint.id}").status_code == 204
    assert cloud.sql("SELECT policy_id FROM policy_association WHERE endpoint_id = :e",
                     e=endpoint.id) == []
    admin_api.call("DELETE", f"/policies/{policy['id']}")
