"""Servers through the real clients: boot, show, list, delete; multi-create;
builds that fail and reschedule; NoValidHost; isolation and RBAC; bad input
leaves nothing behind."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import (
    TINY_FLAVOR,
    boot,
    poll,
    server_body,
    wait_gone,
    wait_status,
)


def used(nova: Nova) -> dict[str, int]:
    absolute = nova.get("/limits").json()["limits"]["absolute"]
    return {k: absolute[k] for k in ("totalInstancesUsed", "totalCoresUsed", "totalRAMUsed")}


def make_flavor(admin: Nova, *, ram: int = 256, vcpus: int = 1, disk: int = 1,
                extra_specs: dict[str, str] | None = None) -> str:
    r = admin.post("/flavors", {"flavor": {"name": unique("f"), "ram": ram, "vcpus": vcpus,
                                           "disk": disk}})
    assert r.status_code == 200, r.text
    flavor_id = str(r.json()["flavor"]["id"])
    if extra_specs:
        r = admin.post(f"/flavors/{flavor_id}/os-extra_specs", {"extra_specs": extra_specs})
        assert r.status_code == 200, r.text
    return flavor_id


def test_sdk_boot_show_list_delete(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("sdk"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    assert server.status == "ACTIVE"
    assert server.vm_state == "active" and server.power_state == 1
    assert server.compute_host in ("fake-host-1", "fake-host-2")
    assert server.availability_zone == "nova"
    assert server.image.id == image_id
    assert server.flavor.original_name == "m1.tiny"
    assert server.id in {s.id for s in conn.compute.servers()}
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)
    assert conn.compute.find_server(server.id) is None


def test_member_sdk_boot(member_conn: Any, image_id: str) -> None:
    server = member_conn.compute.create_server(name="mine", image_id=image_id,
                                               flavor_id=TINY_FLAVOR, networks="none")
    server = member_conn.compute.wait_for_server(server, wait=30)
    assert server.compute_host is None          # hidden from non-admins
    assert [s.name for s in member_conn.compute.servers()] == ["mine"]


def test_cli_server_create_wait_show_delete(cloud: Cloud, image_id: str) -> None:
    name = unique("cli")
    made = cloud.cli_json("server", "create", "--flavor", "m1.tiny", "--image", image_id,
                          "--nic", "none", "--wait", name)
    assert made["status"] == "ACTIVE"
    shown = cloud.cli_json("server", "show", made["id"])
    assert shown["name"] == name and shown["OS-EXT-STS:vm_state"] == "active"
    listed = cloud.cli_json("server", "list", "--name", name)
    assert [s["ID"] for s in listed] == [made["id"]]
    cloud.cli("server", "delete", "--wait", made["id"])
    assert cloud.cli_json("server", "list", "--name", name) == []


def test_create_answer_and_show_fields(member: Nova, image_id: str) -> None:
    r = member.post("/servers", server_body(image_id, metadata={"a": "b"}, tags=["t1"],
                                            description="d"), version="2.90")
    assert r.status_code == 202, r.text
    body = r.json()["server"]
    assert set(body) >= {"id", "links", "adminPass", "OS-DCF:diskConfig", "security_groups"}
    shown = wait_status(member, body["id"], "ACTIVE")
    assert shown["metadata"] == {"a": "b"} and shown["tags"] == ["t1"]
    assert shown["description"] == "d" and shown["locked"] is False
    assert shown["flavor"]["vcpus"] == 1 and "id" not in shown["flavor"]
    assert "OS-EXT-SRV-ATTR:host" not in shown          # admin only
    assert shown["OS-EXT-SRV-ATTR:hostname"] == body_name(shown)
    old = member.get(f"/servers/{body['id']}", version="2.1").json()["server"]
    assert old["flavor"]["id"] == TINY_FLAVOR and "tags" not in old and "locked" not in old
    assert member.delete(f"/servers/{body['id']}").status_code == 204
    wait_gone(member, body["id"])


def body_name(server: dict[str, Any]) -> str:
    return str(server["name"]).lower()


def test_min_count_three(member: Nova, image_id: str) -> None:
    before = used(member)
    r = member.post("/servers", server_body(image_id, name="multi", min_count=3, max_count=3,
                                            return_reservation_id=True), version="2.90")
    assert r.status_code == 202, r.text
    reservation = r.json()["reservation_id"]

    def active() -> bool:
        found = member.get("/servers/detail", params={"reservation_id": reservation}
                           ).json()["servers"]
        return len(found) == 3 and all(s["status"] == "ACTIVE" for s in found)

    poll(active, what="three ACTIVE servers")
    servers = member.get("/servers/detail",
                         params={"reservation_id": reservation}).json()["servers"]
    assert sorted(s["name"] for s in servers) == ["multi-1", "multi-2", "multi-3"]
    assert used(member)["totalInstancesUsed"] == before["totalInstancesUsed"] + 3
    for s in servers:
        assert member.delete(f"/servers/{s['id']}").status_code == 204
    for s in servers:
        wait_gone(member, s["id"])
    assert used(member) == before


def test_failed_spawns_reschedule_then_error_with_fault(
        admin_nova: Nova, member: Nova, image_id: str) -> None:
    flavor = make_flavor(admin_nova, extra_specs={"fake:fail_spawn": "true"})
    before = used(member)
    server = boot(member, image_id, flavorRef=flavor)
    assert server["status"] == "ERROR"
    message = server["fault"]["message"]
    assert "2 attempt(s)" in message and "fake-host-1" in message and "fake-host-2" in message
    assert used(member) == before                  # quota given back on ERROR
    actions = member.get(f"/servers/{server['id']}/os-instance-actions").json()
    request_id = actions["instanceActions"][0]["request_id"]
    action = admin_nova.get(f"/servers/{server['id']}/os-instance-actions/{request_id}"
                            ).json()["instanceAction"]
    results = [e["result"] for e in action["events"]
               if e["event"] == "compute_build_and_run_instance"]
    assert results == ["Error", "Error"]
    assert member.delete(f"/servers/{server['id']}").status_code == 204
    wait_gone(member, server["id"])
    assert used(member) == before


def test_failed_spawn_reschedules_to_the_other_host(
        admin_nova: Nova, member: Nova, image_id: str) -> None:
    flavor = make_flavor(admin_nova, extra_specs={"fake:fail_spawn_on_hosts": "fake-host-1"})
    server = boot(member, image_id, flavorRef=flavor)
    assert server["status"] == "ACTIVE"
    shown = admin_nova.get(f"/servers/{server['id']}", version="2.90").json()["server"]
    assert shown["OS-EXT-SRV-ATTR:host"] == "fake-host-2"
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])


def test_no_valid_host_fault_names_the_filter(admin_nova: Nova, member: Nova,
                                              image_id: str) -> None:
    flavor = make_flavor(admin_nova, ram=40000)    # more than a fake host has
    before = used(member)
    server = boot(member, image_id, flavorRef=flavor)
    assert server["status"] == "ERROR"
    assert server["fault"]["message"].startswith("No valid host was found.")
    assert "Filter" in server["fault"]["message"]
    assert used(member) == before
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])


def test_other_project_cannot_see_show_or_delete(
        member: Nova, make_user: Callable[..., Nova], image_id: str) -> None:
    server = boot(member, image_id)
    other = make_user("member")
    assert server["id"] not in {s["id"] for s in other.get("/servers").json()["servers"]}
    fault(other.get(f"/servers/{server['id']}"), 404, "itemNotFound")
    fault(other.delete(f"/servers/{server['id']}"), 404, "itemNotFound")
    fault(other.put(f"/servers/{server['id']}", {"server": {"name": "x"}}), 404,
          "itemNotFound")
    # all_tenants is refused to non-admins, as Nova's policy does
    r = other.get("/servers", params={"all_tenants": "1"})
    assert r.status_code == 403
    assert member.get(f"/servers/{server['id']}").status_code == 200
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])


def test_reader_cannot_create_or_delete(make_user: Callable[..., Nova], member: Nova,
                                        image_id: str) -> None:
    reader = make_user("reader", project_id=member.project_id)
    fault(reader.post("/servers", server_body(image_id), version="2.90"), 403, "forbidden")
    server = boot(member, image_id)
    assert reader.get(f"/servers/{server['id']}").status_code == 200
    fault(reader.delete(f"/servers/{server['id']}"), 403, "forbidden")
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])


BAD: list[tuple[str, dict[str, Any], int]] = [
    ("unknown flavor", {"flavorRef": "no-such-flavor"}, 400),
    ("unknown image", {"imageRef": str(uuid.uuid4())}, 400),
    ("malformed image", {"imageRef": "not-a-uuid"}, 400),
    ("zero min_count", {"min_count": 0}, 400),
    ("negative min_count", {"min_count": -1}, 400),
    ("min over max", {"min_count": 3, "max_count": 2}, 400),
    ("too much metadata", {"metadata": {f"k{i}": "v" for i in range(200)}}, 403),
    ("long metadata value", {"metadata": {"k": "v" * 256}}, 400),
    ("bad key_name", {"key_name": "no-such-key"}, 400),
    ("bad user_data", {"user_data": "not base64!"}, 400),
    ("bad zone", {"availability_zone": "nowhere"}, 400),
    ("unknown field", {"bogus": 1}, 400),
    ("networks list", {"networks": [{"uuid": str(uuid.uuid4())}]}, 400),
]


@pytest.mark.parametrize(("what", "change", "status"), BAD, ids=[b[0] for b in BAD])
def test_bad_create_leaves_nothing(member: Nova, image_id: str, what: str,
                                   change: dict[str, Any], status: int) -> None:
    before = used(member)
    body = server_body(image_id)
    body["server"].update(change)
    r = member.post("/servers", body, version="2.90")
    fault(r, status, "badRequest" if status == 400 else "forbidden")
    assert member.get("/servers").json()["servers"] == []
    assert used(member) == before


def test_missing_networks_from_2_37(member: Nova, image_id: str) -> None:
    body = server_body(image_id)
    del body["server"]["networks"]
    fault(member.post("/servers", body, version="2.37"), 400, "badRequest")


def test_user_data_and_admin_fields(admin_nova: Nova, image_id: str) -> None:
    data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    server = boot(admin_nova, image_id, user_data=data)
    shown = admin_nova.get(f"/servers/{server['id']}", version="2.3").json()["server"]
    assert shown["OS-EXT-SRV-ATTR:user_data"] == data
    assert shown["OS-EXT-SRV-ATTR:instance_name"].startswith("instance-")
    assert shown["OS-EXT-SRV-ATTR:hypervisor_hostname"] == shown["OS-EXT-SRV-ATTR:host"]
    assert admin_nova.get(f"/servers/{server['id']}", version="2.16").json()[
        "server"]["host_status"] == "UP"
    admin_nova.delete(f"/servers/{server['id']}")
    wait_gone(admin_nova, server["id"])


def test_unknown_action_is_400(member: Nova, image_id: str) -> None:
    server = boot(member, image_id)
    fault(member.post(f"/servers/{server['id']}/action", {"fly": None}), 400, "badRequest")
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])


def test_force_delete(member: Nova, image_id: str) -> None:
    server = boot(member, image_id)
    r = member.post(f"/servers/{server['id']}/action", {"forceDelete": None})
    assert r.status_code == 202, r.text
    wait_gone(member, server["id"])


def test_update_name_description_hostname(member: Nova, image_id: str) -> None:
    server = boot(member, image_id)
    r = member.put(f"/servers/{server['id']}", {"server": {
        "name": "renamed", "description": "new", "hostname": "box"}}, version="2.90")
    assert r.status_code == 200, r.text
    body = r.json()["server"]
    assert body["name"] == "renamed" and body["description"] == "new"
    assert body["OS-EXT-SRV-ATTR:hostname"] == "box"
    fault(member.put(f"/servers/{server['id']}", {"server": {"description": "x"}},
                     version="2.18"), 400, "badRequest")
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])


def test_delete_during_build_converges(member: Nova, image_id: str) -> None:
    before = used(member)
    server = boot(member, image_id, wait=False)
    assert member.delete(f"/servers/{server['id']}").status_code == 204
    wait_gone(member, server["id"])
    assert used(member) == before


def test_multi_create_takes_what_quota_allows(admin_nova: Nova, member: Nova,
                                              image_id: str) -> None:
    r = admin_nova.put(f"/os-quota-sets/{member.project_id}", {"quota_set": {"instances": 2}})
    assert r.status_code == 200, r.text
    message = fault(member.post("/servers", server_body(image_id, min_count=3, max_count=5),
                                version="2.90"), 403, "forbidden")
    assert message.startswith("Quota exceeded for instances")
    assert member.get("/servers").json()["servers"] == []
    r = member.post("/servers", server_body(image_id, name="q", min_count=1, max_count=5),
                    version="2.90")
    assert r.status_code == 202, r.text
    found = member.get("/servers").json()["servers"]
    assert sorted(s["name"] for s in found) == ["q-1", "q-2"]
    for s in found:
        wait_status(member, s["id"], "ACTIVE")
        member.delete(f"/servers/{s['id']}")
    for s in found:
        wait_gone(member, s["id"])


def test_requested_host(admin_nova: Nova, member: Nova, image_id: str) -> None:
    for extra, version in (({"availability_zone": "nova:fake-host-2"}, "2.90"),
                           ({"host": "fake-host-1"}, "2.74")):
        r = admin_nova.post("/servers", server_body(image_id, **extra), version=version)
        assert r.status_code == 202, r.text
        server = wait_status(admin_nova, r.json()["server"]["id"], "ACTIVE")
        assert server["OS-EXT-SRV-ATTR:host"] == (extra.get("host") or "fake-host-2")
        admin_nova.delete(f"/servers/{server['id']}")
        wait_gone(admin_nova, server["id"])
    fault(admin_nova.post("/servers", server_body(image_id, availability_zone="nova:nowhere"),
                          version="2.90"), 400, "badRequest")
    fault(admin_nova.post("/servers", server_body(image_id, host="fake-host-1"),
                          version="2.73"), 400, "badRequest")
    fault(member.post("/servers", server_body(image_id, availability_zone="nova:fake-host-1"),
                      version="2.90"), 403, "forbidden")
    fault(member.post("/servers", server_body(image_id, host="fake-host-1"), version="2.74"),
          403, "forbidden")


def test_invalid_status_filter(member: Nova) -> None:
    assert member.get("/servers", params={"status": "bogus"}, version="2.37").json()[
        "servers"] == []
    fault(member.get("/servers", params={"status": "bogus"}, version="2.38"), 400,
          "badRequest")


def test_required_trait_picks_the_host_that_has_it(admin_nova: Nova, image_id: str) -> None:
    def placement(method: str, path: str, body: Any = None) -> Any:
        import requests

        r = requests.request(method, f"{admin_nova.cloud.url}/placement{path}", json=body,
                             headers={"X-Auth-Token": admin_nova.token,
                                      "OpenStack-API-Version": "placement 1.6"}, timeout=30)
        assert r.status_code in (200, 201, 204), r.text
        return r.json() if r.content else None

    nodes = admin_nova.get("/os-hypervisors", version="2.53").json()["hypervisors"]
    host2 = next(n["id"] for n in nodes if n["hypervisor_hostname"] == "fake-host-2")
    placement("PUT", "/traits/CUSTOM_NUBO_FAST")
    have = placement("GET", f"/resource_providers/{host2}/traits")
    assert "COMPUTE_NODE" in have["traits"]            # reported by the agent
    placement("PUT", f"/resource_providers/{host2}/traits", {
        "traits": [*have["traits"], "CUSTOM_NUBO_FAST"],
        "resource_provider_generation": have["resource_provider_generation"]})
    try:
        flavor = make_flavor(admin_nova, extra_specs={"trait:CUSTOM_NUBO_FAST": "required"})
        for _ in range(2):
            server = boot(admin_nova, image_id, flavorRef=flavor)
            assert server["OS-EXT-SRV-ATTR:host"] == "fake-host-2"
            admin_nova.delete(f"/servers/{server['id']}")
            wait_gone(admin_nova, server["id"])
    finally:
        now = placement("GET", f"/resource_providers/{host2}/traits")
        placement("PUT", f"/resource_providers/{host2}/traits", {
            "traits": [t for t in now["traits"] if t != "CUSTOM_NUBO_FAST"],
            "resource_provider_generation": now["resource_provider_generation"]})


def test_compute_request_id_header(member: Nova) -> None:
    """Nova repeats the request id as x-compute-request-id, on errors too."""
    for r in (member.get("/flavors"), member.get("/servers/nope/os-server-password")):
        rid = r.headers["x-openstack-request-id"]
        assert rid.startswith("req-") and r.headers["x-compute-request-id"] == rid
