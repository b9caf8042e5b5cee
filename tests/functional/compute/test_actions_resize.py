"""Resize with confirmResize / revertResize and cold migration: VERIFY_RESIZE, the
migration record, placement allocations that follow the server (the migration
holds the source's while it moves), quota for a bigger flavor, Nova's 400s and
409s, wrong role 403, other project 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot, poll, wait_status

SMALL_FLAVOR = "2"      # m1.small: 1 vCPU, 2048 MiB, 20 GiB


def act(nova: Nova, server_id: str, body: dict[str, Any], version: str = "2.90") -> Any:
    return nova.post(f"/servers/{server_id}/action", body, version=version)


def allocations(admin: Nova, consumer: str) -> dict[str, dict[str, int]]:
    r = requests.get(f"{admin.cloud.url}/placement/allocations/{consumer}",
                     headers={"X-Auth-Token": admin.token,
                              "OpenStack-API-Version": "placement 1.28"}, timeout=30)
    assert r.status_code == 200, r.text
    return {rp: a["resources"] for rp, a in r.json()["allocations"].items()}


def provider_of(admin: Nova, host: str) -> str:
    r = requests.get(f"{admin.cloud.url}/placement/resource_providers",
                     params={"name": host}, headers={"X-Auth-Token": admin.token},
                     timeout=30)
    return str(r.json()["resource_providers"][0]["uuid"])


def show(nova: Nova, server_id: str) -> dict[str, Any]:
    server: dict[str, Any] = nova.get(f"/servers/{server_id}", version="2.90").json()["server"]
    return server


def migrations_of(admin: Nova, server_id: str) -> list[dict[str, Any]]:
    r = admin.get("/os-migrations", params={"instance_uuid": server_id}, version="2.80")
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["migrations"]
    return found


def test_resize_confirm_moves_allocation(member: Nova, admin_nova: Nova,
                                         image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    source = show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"]
    assert show(member, sid)["OS-DCF:diskConfig"] == "MANUAL"
    # the resize may change the server's disk config too
    assert act(member, sid, {"resize": {"flavorRef": SMALL_FLAVOR,
                                        "OS-DCF:diskConfig": "AUTO"}}).status_code == 202
    shown = wait_status(member, sid, "VERIFY_RESIZE")
    assert shown["flavor"]["original_name"] == "m1.small"
    assert shown["OS-DCF:diskConfig"] == "AUTO"
    dest = show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"]
    assert dest != source            # allow_resize_to_same_host is off
    (mig,) = migrations_of(admin_nova, sid)
    assert mig["migration_type"] == "resize" and mig["status"] == "finished"
    assert (mig["source_compute"], mig["dest_compute"]) == (source, dest)
    assert mig["user_id"] == member.user_id and mig["project_id"] == member.project_id
    assert allocations(admin_nova, sid) == {provider_of(admin_nova, dest): {
        "VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}}
    assert allocations(admin_nova, mig["uuid"]) == {provider_of(admin_nova, source): {
        "VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}
    used = member.get("/limits").json()["limits"]["absolute"]
    assert used["totalRAMUsed"] == 2048
    r = act(member, sid, {"confirmResize": None})
    assert r.status_code == 204, r.text
    wait_status(member, sid, "ACTIVE")
    poll(lambda: migrations_of(admin_nova, sid)[0]["status"] == "confirmed",
         what="migration confirmed")
    assert allocations(admin_nova, mig["uuid"]) == {}
    assert list(allocations(admin_nova, sid)) == [provider_of(admin_nova, dest)]
    fault(act(member, sid, {"confirmResize": None}), 409, "conflictingRequest")
    actions = [a["action"] for a in member.get(f"/servers/{sid}/os-instance-actions")
               .json()["instanceActions"]]
    assert actions[:3] == ["confirmResize", "resize", "create"]


def test_resize_revert_restores_source(member: Nova, admin_nova: Nova,
                                       image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    source = show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"]
    assert act(member, sid, {"os-stop": None}).status_code == 202
    wait_status(member, sid, "SHUTOFF")
    assert act(member, sid, {"resize": {"flavorRef": SMALL_FLAVOR}}).status_code == 202
    shown = wait_status(member, sid, "VERIFY_RESIZE")
    assert shown["OS-EXT-STS:power_state"] == 4       # a stopped server stays off
    assert act(member, sid, {"revertResize": None}).status_code == 202
    shown = wait_status(member, sid, "SHUTOFF")
    assert shown["flavor"]["original_name"] == "m1.tiny"
    assert show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"] == source
    (mig,) = migrations_of(admin_nova, sid)
    poll(lambda: migrations_of(admin_nova, sid)[0]["status"] == "reverted",
         what="migration reverted")
    assert allocations(admin_nova, sid) == {provider_of(admin_nova, source): {
        "VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}
    assert allocations(admin_nova, mig["uuid"]) == {}
    assert member.get("/limits").json()["limits"]["absolute"]["totalRAMUsed"] == 512


def test_sdk_resize_and_cli_migrate(cloud: Cloud, admin_nova: Nova, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("rs"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    conn.compute.resize_server(server, SMALL_FLAVOR)
    server = conn.compute.wait_for_server(server, status="VERIFY_RESIZE", wait=30)
    conn.compute.confirm_server_resize(server)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    assert server.flavor.original_name == "m1.small"
    before = server.compute_host
    cloud.cli("server", "migrate", "--wait", server.id)
    server = conn.compute.get_server(server.id)
    assert server.status == "VERIFY_RESIZE" and server.compute_host != before
    cloud.cli("server", "migrate", "confirm", server.id)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    assert allocations(admin_nova, server.id) == {provider_of(admin_nova, server.compute_host):
                                                  {"VCPU": 1, "MEMORY_MB": 2048,
                                                   "DISK_GB": 20}}
    types = {m["migration_type"] for m in migrations_of(admin_nova, server.id)}
    assert types == {"resize", "migration"}
    conn.compute.delete_server(server)


def test_migrate_to_host_and_errors(member: Nova, admin_nova: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    here = show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"]
    other = "fake-host-2" if here == "fake-host-1" else "fake-host-1"
    fault(act(admin_nova, sid, {"migrate": {"host": "nowhere"}}), 400, "badRequest")
    fault(act(admin_nova, sid, {"migrate": {"host": here}}), 400, "badRequest")
    fault(act(admin_nova, sid, {"migrate": {"host": other}}, version="2.55"), 400,
          "badRequest")
    fault(act(member, sid, {"migrate": None}), 403, "forbidden")
    assert act(admin_nova, sid, {"migrate": {"host": other}}).status_code == 202
    wait_status(member, sid, "VERIFY_RESIZE")
    assert show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"] == other
    fault(act(member, sid, {"resize": {"flavorRef": SMALL_FLAVOR}}), 409,
          "conflictingRequest")
    assert act(member, sid, {"revertResize": None}).status_code == 202
    wait_status(member, sid, "ACTIVE")
    assert show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"] == here


def test_resize_refusals(member: Nova, admin_nova: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    msg = fault(act(member, sid, {"resize": {"flavorRef": TINY_FLAVOR}}), 400, "badRequest")
    assert msg == "When resizing, instances must change flavor!"
    fault(act(member, sid, {"resize": {"flavorRef": "no-such"}}), 400, "badRequest")
    fault(act(member, sid, {"resize": {}}), 400, "badRequest")
    fault(act(member, sid, {"resize": {"flavorRef": SMALL_FLAVOR,
                                       "OS-DCF:diskConfig": "auto"}}), 400, "badRequest")
    fault(act(member, sid, {"confirmResize": None}), 409, "conflictingRequest")
    fault(act(member, sid, {"revertResize": None}), 409, "conflictingRequest")
    # a flavor no host can hold: the scheduler's reasons, nothing changed
    r = admin_nova.post("/flavors", {"flavor": {"name": unique("huge"), "ram": 65536,
                                                "vcpus": 1, "disk": 1}})
    huge = r.json()["flavor"]["id"]
    r = admin_nova.put(f"/os-quota-sets/{member.project_id}", {"quota_set": {"ram": -1}})
    assert r.status_code == 200, r.text
    try:
        msg = fault(act(member, sid, {"resize": {"flavorRef": huge,
                                                 "OS-DCF:diskConfig": "AUTO"}}),
                    400, "badRequest")
    finally:
        admin_nova.delete(f"/flavors/{huge}")
    assert msg.startswith("No valid host was found.")
    shown = show(member, sid)
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-STS:task_state"] is None
    assert shown["OS-DCF:diskConfig"] == "MANUAL"
    assert migrations_of(admin_nova, sid)[0]["status"] == "error"
    # quota: a bigger flavor needs room for the difference
    r = admin_nova.put(f"/os-quota-sets/{member.project_id}", {"quota_set": {"ram": 1024}})
    msg = fault(act(member, sid, {"resize": {"flavorRef": SMALL_FLAVOR}}), 403, "forbidden")
    assert "ram" in msg
    assert show(member, sid)["status"] == "ACTIVE"


def test_reader_403_other_project_404(member: Nova, make_user: Callable[..., Nova],
                                      image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    reader = make_user("reader", member.project_id)
    for body in ({"resize": {"flavorRef": SMALL_FLAVOR}}, {"confirmResize": None},
                 {"revertResize": None}, {"migrate": None}):
        fault(act(reader, sid, body), 403, "forbidden")
    other = make_user("member")
    fault(act(other, sid, {"resize": {"flavorRef": SMALL_FLAVOR}}), 404, "itemNotFound")
    assert show(member, sid)["status"] == "ACTIVE"
