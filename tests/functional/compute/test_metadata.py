"""Server metadata: openstacksdk and CLI, the six routes, quota metadata_items,
key/value limits, locked servers, wrong role 403 and other project 404."""

from __future__ import annotations

from collections.abc import Callable

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot


def test_sdk_and_cli_metadata(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("md"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none",
                                        metadata={"a": "1"})
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    conn.compute.set_server_metadata(server, b="2", c="3")
    assert conn.compute.get_server_metadata(server).metadata == {"a": "1", "b": "2",
                                                                 "c": "3"}
    conn.compute.delete_server_metadata(server, ["a"])
    assert conn.compute.get_server(server.id).metadata == {"b": "2", "c": "3"}
    cloud.cli("server", "set", "--property", "d=4", server.id)
    cloud.cli("server", "unset", "--property", "b", server.id)
    assert conn.compute.get_server(server.id).metadata == {"c": "3", "d": "4"}
    conn.compute.delete_server(server)


def test_routes(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id, metadata={"k1": "v1"})["id"]
    base = f"/servers/{sid}/metadata"
    assert member.get(base).json() == {"metadata": {"k1": "v1"}}
    r = member.post(base, {"metadata": {"k2": "v2"}})
    assert r.status_code == 200 and r.json() == {"metadata": {"k1": "v1", "k2": "v2"}}
    r = member.put(base, {"metadata": {"k3": "v3"}})
    assert r.status_code == 200 and r.json() == {"metadata": {"k3": "v3"}}
    assert member.get(base).json() == {"metadata": {"k3": "v3"}}
    r = member.put(f"{base}/k4", {"meta": {"k4": "v4"}})
    assert r.status_code == 200 and r.json() == {"meta": {"k4": "v4"}}
    assert member.get(f"{base}/k4").json() == {"meta": {"k4": "v4"}}
    assert member.delete(f"{base}/k4").status_code == 204
    fault(member.get(f"{base}/k4"), 404, "itemNotFound")
    fault(member.delete(f"{base}/k4"), 404, "itemNotFound")
    assert member.get(base).json() == {"metadata": {"k3": "v3"}}


def test_bad_input(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    base = f"/servers/{sid}/metadata"
    fault(member.put(f"{base}/a", {"meta": {"b": "1"}}), 400, "badRequest")
    fault(member.put(f"{base}/a", {"meta": {"a": "1", "b": "2"}}), 400, "badRequest")
    fault(member.post(base, {"metadata": {"k": 1}}), 400, "badRequest")
    fault(member.post(base, {"metadata": {"k": "x" * 256}}), 400, "badRequest")
    fault(member.post(base, {"metadata": {"k" * 256: "v"}}), 400, "badRequest")
    fault(member.post(base, {"metadata": {"a/b": "v"}}), 400, "badRequest")
    fault(member.post(base, {"meta": {"k": "v"}}), 400, "badRequest")
    fault(member.post(base, ["x"]), 400, "badRequest")
    assert member.get(base).json() == {"metadata": {}}


def test_quota_metadata_items(member: Nova, admin_nova: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    r = admin_nova.put(f"/os-quota-sets/{member.project_id}",
                       {"quota_set": {"metadata_items": 2}})
    assert r.status_code == 200, r.text
    base = f"/servers/{sid}/metadata"
    assert member.post(base, {"metadata": {"a": "1", "b": "2"}}).status_code == 200
    msg = fault(member.post(base, {"metadata": {"c": "3"}}), 403, "forbidden")
    assert "metadata_items" in msg
    fault(member.put(f"{base}/c", {"meta": {"c": "3"}}), 403, "forbidden")
    # changing an existing key stays within the limit
    assert member.put(f"{base}/a", {"meta": {"a": "9"}}).status_code == 200
    assert member.get(base).json() == {"metadata": {"a": "9", "b": "2"}}


def test_locked_and_state(member: Nova, admin_nova: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    r = member.post(f"/servers/{sid}/action", {"lock": None})
    assert r.status_code == 202
    msg = fault(member.post(f"/servers/{sid}/metadata", {"metadata": {"a": "1"}}), 409,
                "conflictingRequest")
    assert msg == f"Instance {sid} is locked"
    assert admin_nova.post(f"/servers/{sid}/metadata",
                           {"metadata": {"a": "1"}}).status_code == 200
    assert admin_nova.post(f"/servers/{sid}/action",
                           {"os-resetState": {"state": "error"}}).status_code == 202
    msg = fault(admin_nova.post(f"/servers/{sid}/metadata", {"metadata": {"b": "1"}}), 409,
                "conflictingRequest")
    assert msg == f"Cannot 'update metadata' instance {sid} while it is in vm_state error"


def test_reader_403_other_project_404(member: Nova, make_user: Callable[..., Nova],
                                      image_id: str) -> None:
    sid = boot(member, image_id, metadata={"a": "1"})["id"]
    base = f"/servers/{sid}/metadata"
    reader = make_user("reader", member.project_id)
    assert reader.get(base).json() == {"metadata": {"a": "1"}}
    assert reader.get(f"{base}/a").status_code == 200
    fault(reader.post(base, {"metadata": {"b": "1"}}), 403, "forbidden")
    fault(reader.put(base, {"metadata": {}}), 403, "forbidden")
    fault(reader.put(f"{base}/a", {"meta": {"a": "2"}}), 403, "forbidden")
    fault(reader.delete(f"{base}/a"), 403, "forbidden")
    other = make_user("member")
    fault(other.get(base), 404, "itemNotFound")
    fault(other.post(base, {"metadata": {"b": "1"}}), 404, "itemNotFound")
    fault(other.delete(f"{base}/a"), 404, "itemNotFound")
    assert member.get(base).json() == {"metadata": {"a": "1"}}
