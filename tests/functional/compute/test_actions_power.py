"""Power actions (stop, start, reboot, pause, suspend), lock/unlock, resetState and
console output through openstacksdk, the CLI and raw HTTP: state transitions,
Nova's 409s, instance actions, wrong role 403 and other project 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot, wait_status


def act(nova: Nova, server_id: str, body: dict[str, Any], version: str = "2.90") -> Any:
    return nova.post(f"/servers/{server_id}/action", body, version=version)


def actions_of(nova: Nova, server_id: str) -> list[str]:
    r = nova.get(f"/servers/{server_id}/os-instance-actions", version="2.90")
    assert r.status_code == 200, r.text
    return [a["action"] for a in r.json()["instanceActions"]]


def test_sdk_stop_start_reboot(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("pw"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    conn.compute.stop_server(server)
    server = conn.compute.wait_for_server(server, status="SHUTOFF", wait=30)
    assert server.vm_state == "stopped" and server.power_state == 4
    conn.compute.start_server(server)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    assert server.power_state == 1
    conn.compute.reboot_server(server, "HARD")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    assert server.task_state is None
    conn.compute.delete_server(server)


def test_cli_stop_start_lock(cloud: Cloud, image_id: str) -> None:
    made = cloud.cli_json("server", "create", "--flavor", "m1.tiny", "--image", image_id,
                          "--nic", "none", "--wait", unique("cli"))
    cloud.cli("server", "stop", made["id"])
    conn = cloud.connect("nubo-admin")
    conn.compute.wait_for_server(conn.compute.get_server(made["id"]), status="SHUTOFF",
                                 wait=30)
    cloud.cli("server", "start", made["id"])
    conn.compute.wait_for_server(conn.compute.get_server(made["id"]), status="ACTIVE",
                                 wait=30)
    cloud.cli("server", "lock", made["id"])
    assert conn.compute.get_server(made["id"]).is_locked is True
    cloud.cli("server", "unlock", made["id"])
    assert conn.compute.get_server(made["id"]).is_locked is False
    cloud.cli("server", "delete", "--wait", made["id"])


def test_state_conflicts_and_actions_recorded(member: Nova, image_id: str) -> None:
    server = boot(member, image_id)
    sid = server["id"]
    msg = fault(act(member, sid, {"os-start": None}), 409, "conflictingRequest")
    assert msg == f"Cannot 'start' instance {sid} while it is in vm_state active"
    assert act(member, sid, {"os-stop": None}).status_code == 202
    wait_status(member, sid, "SHUTOFF")
    msg = fault(act(member, sid, {"os-stop": None}), 409, "conflictingRequest")
    assert msg == f"Cannot 'stop' instance {sid} while it is in vm_state stopped"
    fault(act(member, sid, {"reboot": {"type": "SOFT"}}), 409, "conflictingRequest")
    fault(act(member, sid, {"pause": None}), 409, "conflictingRequest")
    assert act(member, sid, {"reboot": {"type": "HARD"}}).status_code == 202
    wait_status(member, sid, "ACTIVE")
    for name, status in (("pause", "PAUSED"), ("unpause", "ACTIVE"),
                         ("suspend", "SUSPENDED"), ("resume", "ACTIVE")):
        r = act(member, sid, {name: None})
        assert r.status_code == 202, r.text
        wait_status(member, sid, status)
    assert actions_of(member, sid)[:7] == ["resume", "suspend", "unpause", "pause",
                                           "reboot", "stop", "create"]
    r = member.get(f"/servers/{sid}/os-instance-actions", version="2.90")
    request_id = r.json()["instanceActions"][0]["request_id"]
    detail = member.get(f"/servers/{sid}/os-instance-actions/{request_id}", version="2.90")
    assert detail.json()["instanceAction"]["action"] == "resume"


def test_bad_bodies(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    fault(act(member, sid, {"reboot": {}}), 400, "badRequest")
    fault(act(member, sid, {"reboot": {"type": "WARM"}}), 400, "badRequest")
    fault(act(member, sid, {"noSuchAction": None}), 400, "badRequest")
    fault(act(member, sid, {"os-stop": None, "os-start": None}), 400, "badRequest")
    fault(act(member, sid, {"os-getConsoleOutput": {"length": -2}}), 400, "badRequest")
    fault(act(member, sid, {"os-getConsoleOutput": {"length": "x"}}), 400, "badRequest")


def test_lock_refuses_member_not_admin(member: Nova, admin_nova: Nova,
                                       image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    assert act(member, sid, {"lock": {"locked_reason": "maintenance"}}).status_code == 202
    shown = member.get(f"/servers/{sid}", version="2.73").json()["server"]
    assert shown["locked"] is True and shown["locked_reason"] == "maintenance"
    msg = fault(act(member, sid, {"os-stop": None}), 409, "conflictingRequest")
    assert msg == f"Instance {sid} is locked"
    fault(member.delete(f"/servers/{sid}"), 409, "conflictingRequest")
    # before 2.73 the lock takes no body
    fault(act(member, sid, {"lock": {"locked_reason": "x"}}, version="2.72"), 400,
          "badRequest")
    assert act(admin_nova, sid, {"os-stop": None}).status_code == 202
    wait_status(member, sid, "SHUTOFF")
    assert act(member, sid, {"unlock": None}).status_code == 202
    assert member.get(f"/servers/{sid}", version="2.73").json()["server"]["locked"] is False
    # an admin's lock holds against the owner
    assert act(admin_nova, sid, {"lock": None}).status_code == 202
    fault(act(member, sid, {"unlock": None}), 403, "forbidden")
    assert act(admin_nova, sid, {"unlock": None}).status_code == 202
    assert member.delete(f"/servers/{sid}").status_code == 204


def test_reset_state_admin_only(member: Nova, admin_nova: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    fault(act(member, sid, {"os-resetState": {"state": "error"}}), 403, "forbidden")
    fault(act(admin_nova, sid, {"os-resetState": {"state": "stopped"}}), 400, "badRequest")
    assert act(admin_nova, sid, {"os-resetState": {"state": "error"}}).status_code == 202
    assert member.get(f"/servers/{sid}").json()["server"]["status"] == "ERROR"
    assert act(admin_nova, sid, {"os-resetState": {"state": "active"}}).status_code == 202
    assert member.get(f"/servers/{sid}").json()["server"]["status"] == "ACTIVE"


def test_console_output(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    r = act(member, sid, {"os-getConsoleOutput": {}})
    assert r.status_code == 200, r.text
    full = r.json()["output"]
    assert sid in full and "login:" in full
    # Nova's tail: the last pieces between newlines, the one after the last included
    r = act(member, sid, {"os-getConsoleOutput": {"length": 2}})
    assert r.json()["output"] == "login:\n"
    r = act(member, sid, {"os-getConsoleOutput": {"length": 3}})
    assert len(r.json()["output"].split("\n")) == 3
    r = act(member, sid, {"os-getConsoleOutput": {"length": "-1"}})
    assert r.json()["output"] == full


def test_reader_403_other_project_404(member: Nova, make_user: Callable[..., Nova],
                                      image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    reader = make_user("reader", member.project_id)
    for body in ({"os-stop": None}, {"reboot": {"type": "HARD"}}, {"pause": None},
                 {"lock": None}, {"os-getConsoleOutput": {}}):
        fault(act(reader, sid, body), 403, "forbidden")
    other = make_user("member")
    for body in ({"os-stop": None}, {"lock": None}, {"os-getConsoleOutput": {}}):
        fault(act(other, sid, body), 404, "itemNotFound")
    assert member.get(f"/servers/{sid}").json()["server"]["status"] == "ACTIVE"
