"""``GET /servers/{id}/diagnostics``: the 2.48 document (Tempest's schema: every
field, Nova's state and driver names) and the older flat one, through the host's
agent; openstacksdk; admin only (a member of the project gets 403, another
project 404); a server without a guest 409. The libvirt driver's reading of a
real guest is tested in ``tests/e2e/compute``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot, wait_status

KEYS = {"state", "driver", "hypervisor", "hypervisor_os", "uptime", "config_drive",
        "num_cpus", "num_nics", "num_disks", "memory_details", "cpu_details",
        "nic_details", "disk_details"}


def test_documents_and_roles(member: Nova, admin_nova: Nova, make_user: Callable[..., Nova],
                             image_id: str) -> None:
    server = boot(member, image_id)
    sid, ram, vcpus = server["id"], server["flavor"]["ram"], server["flavor"]["vcpus"]
    path = f"/servers/{sid}/diagnostics"
    r = admin_nova.get(path, version="2.48")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert set(doc) == KEYS
    assert doc["state"] == "running" and doc["driver"] == "libvirt"
    assert doc["num_cpus"] == vcpus and len(doc["cpu_details"]) == vcpus
    assert doc["memory_details"]["maximum"] == ram and doc["num_disks"] == 1
    assert doc["config_drive"] is False and doc["num_nics"] == len(doc["nic_details"])
    assert set(doc["disk_details"][0]) == {"read_bytes", "read_requests", "write_bytes",
                                           "write_requests", "errors_count"}
    old = admin_nova.get(path, version="2.47").json()
    assert old["cpu0_time"] == 0 and old["memory"] == ram * 1024 and "vda_read" in old
    # stopped: the hypervisor still has the guest, shut down
    assert member.post(f"/servers/{sid}/action", {"os-stop": None}).status_code == 202
    wait_status(member, sid, "SHUTOFF")
    assert admin_nova.get(path, version="2.48").json()["state"] == "shutdown"
    fault(member.get(path, version="2.48"), 403, "forbidden")
    fault(make_user("member").get(path), 404, "itemNotFound")
    fault(admin_nova.get("/servers/6b0f8c3e-2a36-4a0d-9c1e-0b6e1c0d9a55/diagnostics"), 404,
          "itemNotFound")


def test_not_ready_409(member: Nova, admin_nova: Nova, image_id: str) -> None:
    # a flavor no host can hold: the server ends in ERROR without a host
    flavor = admin_nova.post("/flavors", {"flavor": {
        "name": unique("huge"), "ram": 64, "vcpus": 1, "disk": 10**7}}).json()["flavor"]
    try:
        r = member.post("/servers", {"server": {"name": unique("dg"), "imageRef": image_id,
                                                "flavorRef": flavor["id"],
                                                "networks": "none"}}, version="2.90")
        assert r.status_code == 202, r.text
        sid = r.json()["server"]["id"]
        wait_status(member, sid, "ERROR")
        fault(admin_nova.get(f"/servers/{sid}/diagnostics"), 409, "conflictingRequest")
    finally:
        admin_nova.delete(f"/flavors/{flavor['id']}")


def test_sdk(admin_conn: Any, image_id: str) -> None:
    server = admin_conn.compute.create_server(name=unique("dg"), image_id=image_id,
                                              flavor_id=TINY_FLAVOR, networks="none")
    server = admin_conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    found = admin_conn.compute.get_server_diagnostics(server)
    assert found.driver == "libvirt" and found.num_cpus == 1      # m1.tiny
    assert found.memory_details["maximum"] == 512
    admin_conn.compute.delete_server(server)
