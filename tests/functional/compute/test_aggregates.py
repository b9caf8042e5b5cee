"""Host aggregates: CRUD, hosts, metadata, availability zone conflicts, 2.41 uuids,
and the admin-only policy."""

from __future__ import annotations

from typing import Any

import requests

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import boot, wait_gone

HOST = "fake-host-1"


def _create(admin_nova: Nova, az: str | None = None, version: str | None = None
            ) -> dict[str, Any]:
    body: dict[str, Any] = {"name": unique("agg")}
    if az:
        body["availability_zone"] = az
    r = admin_nova.post("/os-aggregates", {"aggregate": body}, version=version)
    assert r.status_code == 200, r.text
    return dict(r.json()["aggregate"])


def _action(admin_nova: Nova, agg: dict[str, Any], action: str, inner: dict[str, Any]) -> Any:
    return admin_nova.post(f"/os-aggregates/{agg['id']}/action", {action: inner})


def test_crud_and_shapes(admin_nova: Nova) -> None:
    made = _create(admin_nova, "zone-a")
    assert made["availability_zone"] == "zone-a" and "hosts" not in made
    assert "uuid" not in made and made["deleted"] is False
    path = f"/os-aggregates/{made['id']}"
    shown = admin_nova.get(path).json()["aggregate"]
    assert shown["hosts"] == [] and shown["metadata"] == {"availability_zone": "zone-a"}
    assert len(admin_nova.get(path, version="2.41").json()["aggregate"]["uuid"]) == 36
    assert made["id"] in {a["id"] for a in admin_nova.get("/os-aggregates").json()[
        "aggregates"]}
    r = admin_nova.put(path, {"aggregate": {"name": "renamed-" + made["name"],
                                            "availability_zone": "zone-b"}})
    assert r.status_code == 200
    assert r.json()["aggregate"]["availability_zone"] == "zone-b"
    assert r.json()["aggregate"]["updated_at"] is not None
    fault(admin_nova.put(path, {"aggregate": {}}), 400, "badRequest")
    fault(admin_nova.put(path, {"aggregate": {"bogus": 1}}), 400, "badRequest")
    assert admin_nova.delete(path).status_code == 200
    fault(admin_nova.get(path), 404, "itemNotFound")
    fault(admin_nova.delete(path), 404, "itemNotFound")


def test_bad_input_and_duplicates(admin_nova: Nova) -> None:
    made = _create(admin_nova)
    fault(admin_nova.post("/os-aggregates", {"aggregate": {"name": made["name"]}}), 409,
          "conflictingRequest")
    fault(admin_nova.post("/os-aggregates", {"aggregate": {}}), 400, "badRequest")
    fault(admin_nova.post("/os-aggregates", {"aggregate": {"name": ""}}), 400, "badRequest")
    fault(admin_nova.post("/os-aggregates", {"aggregate": {
        "name": unique(), "availability_zone": "a:b"}}), 400, "badRequest")
    fault(admin_nova.post("/os-aggregates", {"aggregate": {
        "name": unique(), "availability_zone": "internal"}}), 400, "badRequest")
    fault(admin_nova.get("/os-aggregates/abc"), 400, "badRequest")
    fault(admin_nova.get("/os-aggregates/-1"), 404, "itemNotFound")
    fault(admin_nova.delete("/os-aggregates/-1"), 404, "itemNotFound")
    fault(admin_nova.get(f"/os-aggregates/{10**20}"), 404, "itemNotFound")
    fault(_action(admin_nova, made, "bogus", {}), 400, "badRequest")
    fault(_action(admin_nova, made, "add_host", {"host": HOST, "x": 1}), 400, "badRequest")
    admin_nova.delete(f"/os-aggregates/{made['id']}")


def test_hosts_and_metadata(admin_nova: Nova) -> None:
    made = _create(admin_nova)
    r = _action(admin_nova, made, "add_host", {"host": HOST})
    assert r.status_code == 200 and r.json()["aggregate"]["hosts"] == [HOST]
    fault(_action(admin_nova, made, "add_host", {"host": HOST}), 409, "conflictingRequest")
    fault(_action(admin_nova, made, "add_host", {"host": "no-such-host"}), 404,
          "itemNotFound")
    # a non-empty aggregate cannot be deleted
    fault(admin_nova.delete(f"/os-aggregates/{made['id']}"), 400, "badRequest")
    r = _action(admin_nova, made, "set_metadata", {"metadata": {"ssd": "true", "x": "1"}})
    assert r.json()["aggregate"]["metadata"] == {"ssd": "true", "x": "1"}
    r = _action(admin_nova, made, "set_metadata", {"metadata": {"x": None}})
    assert r.json()["aggregate"]["metadata"] == {"ssd": "true"}
    r = _action(admin_nova, made, "remove_host", {"host": HOST})
    assert r.json()["aggregate"]["hosts"] == []
    fault(_action(admin_nova, made, "remove_host", {"host": HOST}), 404, "itemNotFound")
    assert admin_nova.delete(f"/os-aggregates/{made['id']}").status_code == 200


def test_availability_zone_conflicts(admin_nova: Nova) -> None:
    first = _create(admin_nova, "az-one")
    second = _create(admin_nova, "az-two")
    plain = _create(admin_nova)
    same = _create(admin_nova, "az-one")
    try:
        assert _action(admin_nova, first, "add_host", {"host": HOST}).ok
        msg = fault(_action(admin_nova, second, "add_host", {"host": HOST}), 409,
                    "conflictingRequest")
        assert "az-one" in msg
        # an aggregate without a zone takes the host, but cannot then get another zone
        assert _action(admin_nova, plain, "add_host", {"host": HOST}).ok
        fault(_action(admin_nova, plain, "set_metadata", {
            "metadata": {"availability_zone": "az-three"}}), 400, "badRequest")
        fault(admin_nova.put(f"/os-aggregates/{plain['id']}", {"aggregate": {
            "availability_zone": "az-three"}}), 400, "badRequest")
        # another aggregate of the same zone takes the host; setting that same zone again
        # is no change
        assert _action(admin_nova, same, "add_host", {"host": HOST}).ok
        assert _action(admin_nova, same, "set_metadata", {
            "metadata": {"availability_zone": "az-one"}}).ok
        # a zone has a name
        fault(_action(admin_nova, same, "set_metadata", {
            "metadata": {"availability_zone": None}}), 400, "badRequest")
        zones = admin_nova.get("/os-availability-zone").json()["availabilityZoneInfo"]
        assert "az-one" in {z["zoneName"] for z in zones}
    finally:
        for agg in (first, plain, same):
            _action(admin_nova, agg, "remove_host", {"host": HOST})
        for agg in (first, second, plain, same):
            admin_nova.delete(f"/os-aggregates/{agg['id']}")


def test_sdk_and_cli(cloud: Cloud, admin_conn: Any, admin_nova: Nova) -> None:
    name = unique("sdk")
    made = admin_conn.compute.create_aggregate(name=name, availability_zone="sdk-zone")
    admin_conn.compute.add_host_to_aggregate(made, HOST)
    admin_conn.compute.set_aggregate_metadata(made, {"k": "v"})
    got = admin_conn.compute.get_aggregate(made.id)
    assert got.hosts == [HOST] and got.metadata["k"] == "v"
    admin_conn.compute.remove_host_from_aggregate(made, HOST)
    admin_conn.compute.delete_aggregate(made)
    cli_name = unique("cli")
    cloud.cli("aggregate", "create", "--zone", "cli-zone", cli_name)
    cloud.cli("aggregate", "add", "host", cli_name, HOST)
    cloud.cli("aggregate", "set", "--property", "fast=yes", cli_name)
    shown = cloud.cli_json("aggregate", "show", cli_name)
    assert shown["hosts"] == [HOST] and shown["properties"] == {"fast": "yes"}
    assert shown["availability_zone"] == "cli-zone"
    # (each CLI call costs seconds: clean up over HTTP)
    _action(admin_nova, shown, "remove_host", {"host": HOST})
    assert admin_nova.delete(f"/os-aggregates/{shown['id']}").status_code == 200


def test_admin_only(admin_nova: Nova, make_user: Any) -> None:
    member = make_user()
    made = _create(admin_nova)
    path = f"/os-aggregates/{made['id']}"
    assert "os-aggregates:index" in fault(member.get("/os-aggregates"), 403, "forbidden")
    fault(member.post("/os-aggregates", {"aggregate": {"name": unique()}}), 403, "forbidden")
    fault(member.get(path), 403, "forbidden")
    fault(member.put(path, {"aggregate": {"name": "x"}}), 403, "forbidden")
    fault(member.delete(path), 403, "forbidden")
    for action, inner in (("add_host", {"host": HOST}), ("remove_host", {"host": HOST}),
                          ("set_metadata", {"metadata": {"a": "b"}})):
        fault(member.post(f"{path}/action", {action: inner}), 403, "forbidden")
    assert admin_nova.get(path).json()["aggregate"]["hosts"] == []
    admin_nova.delete(path)


def _placement_aggregates(cloud: Cloud, admin_nova: Nova) -> set[str]:
    headers = {"X-Auth-Token": admin_nova.token, "OpenStack-API-Version": "placement 1.19"}
    found = requests.get(f"{cloud.url}/placement/resource_providers",
                         params={"name": HOST}, headers=headers, timeout=30).json()
    provider = found["resource_providers"][0]["uuid"]
    r = requests.get(f"{cloud.url}/placement/resource_providers/{provider}/aggregates",
                     headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return set(r.json()["aggregates"])


def test_hosts_mirrored_to_placement_aggregates(cloud: Cloud, admin_nova: Nova) -> None:
    made = _create(admin_nova, version="2.41")
    assert made["uuid"] not in _placement_aggregates(cloud, admin_nova)
    assert _action(admin_nova, made, "add_host", {"host": HOST}).ok
    assert made["uuid"] in _placement_aggregates(cloud, admin_nova)
    assert _action(admin_nova, made, "remove_host", {"host": HOST}).ok
    assert made["uuid"] not in _placement_aggregates(cloud, admin_nova)
    admin_nova.delete(f"/os-aggregates/{made['id']}")


def test_zone_of_hosts_with_servers_is_fixed(admin_nova: Nova, image_id: str) -> None:
    made = _create(admin_nova, "busy-zone")
    assert _action(admin_nova, made, "add_host", {"host": HOST}).ok
    server = boot(admin_nova, image_id, availability_zone="busy-zone")
    try:
        assert server["status"] == "ACTIVE", server
        msg = fault(admin_nova.put(f"/os-aggregates/{made['id']}", {"aggregate": {
            "availability_zone": "other-zone"}}), 400, "badRequest")
        assert "contain instances" in msg
        fault(_action(admin_nova, made, "set_metadata", {
            "metadata": {"availability_zone": None}}), 400, "badRequest")
        # the same zone, or other keys, may still be set
        assert _action(admin_nova, made, "set_metadata", {"metadata": {"k": "v"}}).ok
    finally:
        admin_nova.delete(f"/servers/{server['id']}")
        wait_gone(admin_nova, server["id"])
        _action(admin_nova, made, "remove_host", {"host": HOST})
        admin_nova.delete(f"/os-aggregates/{made['id']}")


def test_image_cache_request(admin_nova: Nova, make_user: Any, image_id: str) -> None:
    """2.81: the images must exist; the route does not exist before 2.81; admin only."""
    made = _create(admin_nova)
    path = f"/os-aggregates/{made['id']}/images"
    good = {"cache": [{"id": image_id}]}
    assert admin_nova.post(path, good, version="2.81").status_code == 202
    fault(admin_nova.post(path, good, version="2.80"), 404, "itemNotFound")
    fault(admin_nova.post(path, {"cache": [{"id": "00000000-0000-0000-0000-000000000000"}]},
                          version="2.81"), 400, "badRequest")
    fault(admin_nova.post(path, {"cache": []}, version="2.81"), 400, "badRequest")
    fault(admin_nova.post("/os-aggregates/999999/images", good, version="2.81"),
          404, "itemNotFound")
    fault(make_user().post(path, good, version="2.81"), 403, "forbidden")
    admin_nova.delete(f"/os-aggregates/{made['id']}")
