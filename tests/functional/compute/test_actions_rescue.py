"""rescue / unrescue, changePassword, trigger_crash_dump (2.17) and restore:
states, answers, Nova's 409s, wrong role 403 and other project 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot, poll, wait_status


def act(nova: Nova, server_id: str, body: dict[str, Any], version: str = "2.90") -> Any:
    return nova.post(f"/servers/{server_id}/action", body, version=version)


def last_action(nova: Nova, server_id: str) -> dict[str, Any]:
    r = nova.get(f"/servers/{server_id}/os-instance-actions", version="2.90")
    request_id = r.json()["instanceActions"][0]["request_id"]
    r = nova.get(f"/servers/{server_id}/os-instance-actions/{request_id}", version="2.90")
    found: dict[str, Any] = r.json()["instanceAction"]
    return found


def test_rescue_unrescue(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    r = act(member, sid, {"rescue": {"adminPass": "s3cret"}})
    assert r.status_code == 200 and r.json() == {"adminPass": "s3cret"}
    wait_status(member, sid, "RESCUE")
    msg = fault(act(member, sid, {"rescue": None}), 409, "conflictingRequest")
    assert msg == f"Cannot 'rescue' instance {sid} while it is in vm_state rescued"
    # a rescued server is neither rebooted nor rebuilt (Tempest's rescue negatives)
    for version in ("2.1", "2.90"):
        fault(act(member, sid, {"reboot": {"type": "HARD"}}, version), 409,
              "conflictingRequest")
        fault(act(member, sid, {"rebuild": {"imageRef": image_id}}, version), 409,
              "conflictingRequest")
    assert act(member, sid, {"unrescue": None}).status_code == 202
    wait_status(member, sid, "ACTIVE")
    fault(act(member, sid, {"unrescue": None}), 409, "conflictingRequest")
    r = act(member, sid, {"rescue": None})
    assert r.status_code == 200 and len(r.json()["adminPass"]) >= 8
    wait_status(member, sid, "RESCUE")
    fault(act(member, sid, {"rescue": {"rescue_image_ref": "no-such"}}), 400, "badRequest")


def test_sdk_and_cli_rescue(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("rq"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    conn.compute.rescue_server(server, admin_pass="pw", image_ref=image_id)
    server = conn.compute.wait_for_server(server, status="RESCUE", wait=30)
    conn.compute.unrescue_server(server)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    cloud.cli("server", "rescue", server.id)
    conn.compute.wait_for_server(server, status="RESCUE", wait=30)
    cloud.cli("server", "unrescue", server.id)
    conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    conn.compute.change_server_password(server, "new-pass")
    poll(lambda: conn.compute.get_server(server.id).task_state is None, what="no task")
    conn.compute.delete_server(server)


def test_change_password(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    assert act(member, sid, {"changePassword": {"adminPass": "x1"}}).status_code == 202
    poll(lambda: last_action(member, sid)["events"] and
         last_action(member, sid)["events"][0].get("finish_time"), what="event done")
    action = last_action(member, sid)
    assert action["action"] == "changePassword"
    fault(act(member, sid, {"changePassword": {}}), 400, "badRequest")
    fault(act(member, sid, {"changePassword": {"adminPass": 1}}), 400, "badRequest")
    assert act(member, sid, {"os-stop": None}).status_code == 202
    wait_status(member, sid, "SHUTOFF")
    msg = fault(act(member, sid, {"changePassword": {"adminPass": "x"}}), 409,
                "conflictingRequest")
    assert msg == f"Cannot 'changePassword' instance {sid} while it is in vm_state stopped"


def test_crash_dump_and_restore(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    assert act(member, sid, {"trigger_crash_dump": None}, version="2.16").status_code == 404
    assert act(member, sid, {"trigger_crash_dump": None}, version="2.17").status_code == 202
    poll(lambda: "crash_dump" in act(member, sid, {"os-getConsoleOutput": {}})
         .json()["output"], what="NMI in the console")
    assert member.get(f"/servers/{sid}").json()["server"]["status"] == "ACTIVE"
    msg = fault(act(member, sid, {"restore": None}), 409, "conflictingRequest")
    assert msg == f"Cannot 'restore' instance {sid} while it is in vm_state active"


def test_reader_403_other_project_404(member: Nova, make_user: Callable[..., Nova],
                                      image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    reader = make_user("reader", member.project_id)
    for body in ({"rescue": None}, {"unrescue": None}, {"changePassword": {"adminPass": "x"}},
                 {"trigger_crash_dump": None}, {"restore": None}):
        fault(act(reader, sid, body), 403, "forbidden")
    other = make_user("member")
    fault(act(other, sid, {"rescue": None}), 404, "itemNotFound")
    assert member.get(f"/servers/{sid}").json()["server"]["status"] == "ACTIVE"
