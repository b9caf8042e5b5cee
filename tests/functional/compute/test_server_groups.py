"""Server groups: policies across microversions (2.13, 2.15, 2.64), listing,
isolation between projects and policy refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import server_body, wait_gone, wait_status


def test_sdk_create_get_list_delete(admin_conn: Any) -> None:
    name = unique("sg")
    made = admin_conn.compute.create_server_group(name=name, policy="anti-affinity")
    try:
        got = admin_conn.compute.get_server_group(made.id)
        assert got.name == name and got.member_ids == []
        assert got.policy == "anti-affinity"
        assert made.id in {g.id for g in admin_conn.compute.server_groups()}
    finally:
        admin_conn.compute.delete_server_group(made.id)
    assert made.id not in {g.id for g in admin_conn.compute.server_groups()}


def test_cli(cloud: Cloud, admin_nova: Nova) -> None:
    # (each CLI call costs seconds: the rest is checked over HTTP)
    name = unique("cli")
    made = cloud.cli_json("server", "group", "create", "--policy", "soft-anti-affinity", name)
    assert made["name"] == name
    assert "soft-anti-affinity" in str(made.get("policy") or made.get("policies"))
    assert name in {g["Name"] for g in cloud.cli_json("server", "group", "list")}
    cloud.cli("server", "group", "delete", made["id"])
    fault(admin_nova.get(f"/os-server-groups/{made['id']}"), 404, "itemNotFound")


def test_shapes_by_microversion(make_user: Any) -> None:
    user = make_user()
    r = user.post("/os-server-groups", {"server_group": {"name": "old",
                                                          "policies": ["affinity"]}})
    assert r.status_code == 200
    old = r.json()["server_group"]
    assert old["policies"] == ["affinity"] and old["metadata"] == {} and old["members"] == []
    assert "project_id" not in old and "policy" not in old
    mid = user.get(f"/os-server-groups/{old['id']}", version="2.13").json()["server_group"]
    assert mid["project_id"] == user.project_id and mid["user_id"] == user.user_id
    new = user.get(f"/os-server-groups/{old['id']}", version="2.64").json()["server_group"]
    assert new["policy"] == "affinity" and new["rules"] == {} and "policies" not in new
    body = {"name": "ruled", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}
    r = user.post("/os-server-groups", {"server_group": body}, version="2.64")
    assert r.status_code == 200, r.text
    assert r.json()["server_group"]["rules"] == {"max_server_per_host": 2}
    assert user.delete(f"/os-server-groups/{old['id']}").status_code == 204
    fault(user.get(f"/os-server-groups/{old['id']}"), 404, "itemNotFound")
    fault(user.delete(f"/os-server-groups/{old['id']}"), 404, "itemNotFound")


@pytest.mark.parametrize(("version", "body"), [
    ("2.1", {"name": "x", "policies": ["soft-affinity"]}),
    ("2.1", {"name": "x", "policies": ["affinity", "anti-affinity"]}),
    ("2.1", {"name": "x", "policies": []}),
    ("2.1", {"name": "x", "policies": ["bogus"]}),
    ("2.1", {"name": "", "policies": ["affinity"]}),
    ("2.1", {"policies": ["affinity"]}),
    ("2.1", {"name": "x", "policy": "affinity"}),
    ("2.64", {"name": "x", "policies": ["affinity"]}),
    ("2.64", {"name": "x", "policy": "affinity", "rules": {"max_server_per_host": 2}}),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"other": 1}}),
])
def test_bad_bodies(make_user: Any, version: str, body: dict[str, Any]) -> None:
    user = make_user()
    fault(user.post("/os-server-groups", {"server_group": body}, version=version), 400,
          "badRequest")


def test_soft_policies_from_2_15(make_user: Any) -> None:
    user = make_user()
    r = user.post("/os-server-groups", {"server_group": {
        "name": "soft", "policies": ["soft-affinity"]}}, version="2.15")
    assert r.status_code == 200 and r.json()["server_group"]["policies"] == ["soft-affinity"]


def test_listing_and_isolation(admin_nova: Nova, make_user: Any) -> None:
    first, second = make_user(), make_user()
    mine = [first.post("/os-server-groups", {"server_group": {
        "name": f"g{i}", "policies": ["affinity"]}}).json()["server_group"]["id"]
        for i in range(3)]
    theirs = second.post("/os-server-groups", {"server_group": {
        "name": "theirs", "policies": ["affinity"]}}).json()["server_group"]["id"]
    listed = [g["id"] for g in first.get("/os-server-groups").json()["server_groups"]]
    assert listed == mine
    # all_projects is an admin's: a member asking still gets only their own
    assert [g["id"] for g in first.get("/os-server-groups", params={
        "all_projects": "True"}).json()["server_groups"]] == mine
    every = {g["id"] for g in admin_nova.get("/os-server-groups", params={
        "all_projects": "True"}).json()["server_groups"]}
    assert set(mine) | {theirs} <= every
    assert theirs not in {g["id"] for g in admin_nova.get(
        "/os-server-groups").json()["server_groups"]}
    page = first.get("/os-server-groups", params={"limit": 1, "offset": 1}).json()
    assert [g["id"] for g in page["server_groups"]] == [mine[1]]
    fault(first.get(f"/os-server-groups/{theirs}"), 403, "forbidden")
    fault(first.delete(f"/os-server-groups/{theirs}"), 403, "forbidden")
    assert admin_nova.get(f"/os-server-groups/{theirs}").status_code == 200
    assert admin_nova.delete(f"/os-server-groups/{theirs}").status_code == 204


def test_readers_cannot_create(make_user: Any) -> None:
    member = make_user("member")
    reader = make_user("reader", project_id=member.project_id)
    made = member.post("/os-server-groups", {"server_group": {
        "name": "m", "policies": ["affinity"]}}).json()["server_group"]
    assert "os-server-groups:create" in fault(reader.post("/os-server-groups", {
        "server_group": {"name": "r", "policies": ["affinity"]}}), 403, "forbidden")
    assert reader.get(f"/os-server-groups/{made['id']}").status_code == 200
    fault(reader.delete(f"/os-server-groups/{made['id']}"), 403, "forbidden")


def _boot_in_group(user: Nova, image_id: str, group_id: str) -> Any:
    body = server_body(image_id)
    body["os:scheduler_hints"] = {"group": group_id}
    return user.post("/servers", body, version="2.90")


def test_members_and_member_quota(admin_nova: Nova, make_user: Any, image_id: str) -> None:
    user = make_user()
    assert admin_nova.put(f"/os-quota-sets/{user.project_id}", {"quota_set": {
        "server_group_members": 1}}).ok
    group = user.post("/os-server-groups", {"server_group": {
        "name": "members", "policies": ["anti-affinity"]}}).json()["server_group"]
    r = _boot_in_group(user, image_id, group["id"])
    assert r.status_code == 202, r.text
    server_id = r.json()["server"]["id"]
    wait_status(user, server_id, "ACTIVE")
    shown = user.get(f"/os-server-groups/{group['id']}").json()["server_group"]
    assert shown["members"] == [server_id]
    assert "too many servers in group" in fault(
        _boot_in_group(user, image_id, group["id"]), 403, "forbidden")
    assert user.delete(f"/servers/{server_id}").status_code == 204
    wait_gone(user, server_id)
    assert user.get(f"/os-server-groups/{group['id']}").json()["server_group"][
        "members"] == []
