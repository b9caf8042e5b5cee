"""os-migrateLive and evacuate (admin): the server and its placement allocation
follow it to the other host; microversion rules for block_migration (2.25), force
(2.30/2.29 until 2.68), onSharedStorage (before 2.14); evacuation needs its host
down; wrong role 403, other project 404."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot, poll, wait_status
from tests.functional.compute.test_actions_resize import allocations, provider_of, show

TINY = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}


def act(nova: Nova, server_id: str, body: dict[str, Any], version: str = "2.90") -> Any:
    return nova.post(f"/servers/{server_id}/action", body, version=version)


def host_of(admin: Nova, server_id: str) -> str:
    return str(show(admin, server_id)["OS-EXT-SRV-ATTR:host"])


def other(host: str) -> str:
    return "fake-host-2" if host == "fake-host-1" else "fake-host-1"


def settled(admin: Nova, server_id: str, host: str) -> dict[str, Any] | None:
    s = show(admin, server_id)
    done = s["OS-EXT-SRV-ATTR:host"] == host and s["OS-EXT-STS:task_state"] is None
    return s if done else None


def test_live_migrate_moves_server_and_allocation(member: Nova, admin_nova: Nova,
                                                  image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    source = host_of(admin_nova, sid)
    r = act(admin_nova, sid, {"os-migrateLive": {"host": None, "block_migration": "auto"}})
    assert r.status_code == 202, r.text
    shown = poll(lambda: settled(admin_nova, sid, other(source)), what="moved")
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-STS:power_state"] == 1
    r = admin_nova.get("/os-migrations", params={"instance_uuid": sid}, version="2.59")
    (mig,) = r.json()["migrations"]
    assert mig["migration_type"] == "live-migration" and mig["status"] == "completed"
    assert allocations(admin_nova, sid) == {provider_of(admin_nova, other(source)): TINY}
    assert allocations(admin_nova, mig["uuid"]) == {}
    # a paused server moves too, to the host named, and stays paused
    assert act(member, sid, {"pause": None}).status_code == 202
    wait_status(member, sid, "PAUSED")
    r = act(admin_nova, sid, {"os-migrateLive": {"host": source, "block_migration": False,
                                                 "force": True}}, version="2.30")
    assert r.status_code == 202, r.text
    shown = poll(lambda: settled(admin_nova, sid, source), what="moved back")
    assert shown["status"] == "PAUSED"
    actions = [a["action"] for a in member.get(f"/servers/{sid}/os-instance-actions")
               .json()["instanceActions"]]
    assert actions[:2] == ["live-migration", "pause"]


def test_live_migrate_refusals(member: Nova, admin_nova: Nova,
                               make_user: Callable[..., Nova], image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    here = host_of(admin_nova, sid)
    body = {"host": None, "block_migration": "auto"}
    fault(act(member, sid, {"os-migrateLive": body}), 403, "forbidden")
    fault(act(admin_nova, sid, {"os-migrateLive": {"block_migration": "auto"}}), 400,
          "badRequest")
    fault(act(admin_nova, sid, {"os-migrateLive": {**body, "force": True}}), 400,
          "badRequest")                                        # no force from 2.68
    fault(act(admin_nova, sid, {"os-migrateLive": {"host": None, "block_migration": False}},
              version="2.24"), 400, "badRequest")              # disk_over_commit needed
    fault(act(admin_nova, sid, {"os-migrateLive": {**body, "host": here}}), 400,
          "badRequest")
    fault(act(admin_nova, sid, {"os-migrateLive": {**body, "host": "nowhere"}}), 400,
          "badRequest")
    assert act(member, sid, {"os-stop": None}).status_code == 202
    wait_status(member, sid, "SHUTOFF")
    msg = fault(act(admin_nova, sid, {"os-migrateLive": body}), 409, "conflictingRequest")
    assert msg == f"Cannot 'os-migrateLive' instance {sid} while it is in vm_state stopped"
    other_user = make_user("member")
    fault(act(other_user, sid, {"os-migrateLive": body}), 404, "itemNotFound")
    assert host_of(admin_nova, sid) == here


def test_sdk_and_cli_live_migrate(cloud: Cloud, admin_nova: Nova, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("lm"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    before = server.compute_host
    conn.compute.live_migrate_server(server, block_migration="auto")
    poll(lambda: settled(admin_nova, server.id, other(before)), what="sdk live migration")
    cloud.cli("server", "migrate", "--live-migration", "--wait", server.id)
    poll(lambda: settled(admin_nova, server.id, before), what="cli live migration")
    conn.compute.delete_server(server)


# ----------------------------------------------------------------- evacuate


def service_id(admin: Nova, host: str) -> str:
    r = admin.get("/os-services", params={"binary": "nova-compute", "host": host},
                  version="2.53")
    return str(r.json()["services"][0]["id"])


@pytest.fixture
def host_down(admin_nova: Nova) -> Iterator[Callable[[str], None]]:
    """``host_down(host)`` forces a compute service down until the test ends."""
    downed: list[str] = []

    def down(host: str) -> None:
        r = admin_nova.put(f"/os-services/{service_id(admin_nova, host)}",
                           {"forced_down": True}, version="2.53")
        assert r.status_code == 200, r.text
        downed.append(host)

    yield down
    for host in downed:
        admin_nova.put(f"/os-services/{service_id(admin_nova, host)}",
                       {"forced_down": False}, version="2.53")


def test_evacuate(member: Nova, admin_nova: Nova, image_id: str,
                  host_down: Callable[[str], None]) -> None:
    sid = boot(member, image_id)["id"]
    source = host_of(admin_nova, sid)
    msg = fault(act(admin_nova, sid, {"evacuate": {}}), 400, "badRequest")
    assert msg == f"Compute service of {source} is still in use."
    fault(act(member, sid, {"evacuate": {}}), 403, "forbidden")
    host_down(source)
    fault(act(admin_nova, sid, {"evacuate": {"host": "nowhere"}}), 404, "itemNotFound")
    fault(act(admin_nova, sid, {"evacuate": {"host": source}}), 400, "badRequest")
    fault(act(admin_nova, sid, {"evacuate": {}}, version="2.13"), 400, "badRequest")
    fault(act(admin_nova, sid, {"evacuate": {"force": True}}), 400, "badRequest")
    r = act(admin_nova, sid, {"evacuate": {}})
    assert r.status_code == 200 and r.content == b""
    shown = poll(lambda: settled(admin_nova, sid, other(source)), what="evacuated")
    assert shown["status"] == "ACTIVE"
    r = admin_nova.get("/os-migrations", params={"instance_uuid": sid}, version="2.59")
    (mig,) = r.json()["migrations"]
    assert mig["migration_type"] == "evacuation" and mig["status"] == "done"
    assert allocations(admin_nova, sid) == {provider_of(admin_nova, other(source)): TINY}
    assert allocations(admin_nova, mig["uuid"]) == {}


def test_evacuate_old_microversion_and_cli(cloud: Cloud, member: Nova, admin_nova: Nova,
                                           image_id: str,
                                           host_down: Callable[[str], None]) -> None:
    first = boot(member, image_id)["id"]
    source = host_of(admin_nova, first)
    r = admin_nova.post("/servers", {"server": {
        "name": unique("ev"), "imageRef": image_id, "flavorRef": TINY_FLAVOR,
        "networks": "none", "host": source}}, version="2.74")
    assert r.status_code == 202, r.text
    second = r.json()["server"]["id"]
    wait_status(admin_nova, second, "ACTIVE")
    assert host_of(admin_nova, second) == source
    host_down(source)
    r = act(admin_nova, first, {"evacuate": {"onSharedStorage": False}}, version="2.13")
    assert r.status_code == 200 and "adminPass" in r.json()
    poll(lambda: settled(admin_nova, first, other(source)), what="evacuated (2.13)")
    # (the CLI's --wait compares 'active' with 'ACTIVE' and never ends: poll instead)
    cloud.cli("server", "evacuate", second)
    poll(lambda: settled(admin_nova, second, other(source)), what="evacuated by the CLI")
    admin_nova.delete(f"/servers/{second}")


def test_actions_refused_while_the_host_is_down(member: Nova, admin_nova: Nova,
                                                image_id: str,
                                                host_down: Callable[[str], None]) -> None:
    sid = boot(member, image_id)["id"]
    host_down(host_of(admin_nova, sid))
    for body in ({"os-stop": None}, {"reboot": {"type": "HARD"}},
                 {"createImage": {"name": "x"}}, {"resize": {"flavorRef": "2"}},
                 {"shelve": None}, {"rebuild": {"imageRef": image_id}}):
        msg = fault(act(member, sid, body), 409, "conflictingRequest")
        assert msg == "Service is unavailable at this time.", body
    shown = show(member, sid)
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-STS:task_state"] is None
    # the lock needs no agent
    assert act(member, sid, {"lock": None}).status_code == 202
