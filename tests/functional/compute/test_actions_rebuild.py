"""rebuild: new image, name, metadata, key (2.54), user_data (2.57), description;
the answer per microversion (full body from 2.75); stopped stays stopped; 409s,
bad input, wrong role 403, other project 404."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot, wait_status


def act(nova: Nova, server_id: str, body: dict[str, Any], version: str = "2.90") -> Any:
    return nova.post(f"/servers/{server_id}/action", body, version=version)


@pytest.fixture(scope="module")
def other_image(cloud: Cloud) -> Iterator[str]:
    # community: bootable by every project, yet out of the image tests' default listings
    conn = cloud.connect("nubo-admin")
    image = conn.image.create_image(name=unique("other"), disk_format="raw",
                                    container_format="bare", visibility="community",
                                    data=io.BytesIO(b"\1" * 4096))
    conn.image.wait_for_status(image, "active", wait=30)
    yield str(image.id)
    conn.image.delete_image(image, ignore_missing=True)


def test_rebuild_fields_and_answer(member: Nova, admin_nova: Nova, image_id: str,
                                   other_image: str) -> None:
    key = member.post("/os-keypairs", {"keypair": {"name": unique("k")}}).json()["keypair"]
    sid = boot(member, image_id, metadata={"old": "1"})["id"]
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    r = act(member, sid, {"rebuild": {"imageRef": other_image, "name": "renamed",
                                      "metadata": {"new": "2"}, "description": "d",
                                      "key_name": key["name"], "user_data": user_data,
                                      "adminPass": "pw1", "OS-DCF:diskConfig": "AUTO"}})
    assert r.status_code == 202, r.text
    body = r.json()["server"]
    assert body["status"] == "REBUILD" and body["adminPass"] == "pw1"
    # user data in the answer from 2.57 (as "user_data", also in the 2.75 full body)
    assert body["user_data"] == user_data and "OS-EXT-SRV-ATTR:user_data" not in body
    assert body["OS-DCF:diskConfig"] == "AUTO"
    assert body["image"]["id"] == other_image and body["name"] == "renamed"
    assert body["metadata"] == {"new": "2"} and body["key_name"] == key["name"]
    assert "OS-EXT-STS:vm_state" in body            # 2.75: the full server
    assert body["server_groups"] == []              # from 2.71 (in no group)
    shown = wait_status(member, sid, "ACTIVE")
    assert shown["image"]["id"] == other_image and shown["description"] == "d"
    assert shown["OS-DCF:diskConfig"] == "AUTO"
    detail = admin_nova.get(f"/servers/{sid}", version="2.90").json()["server"]
    assert detail["OS-EXT-SRV-ATTR:user_data"] == user_data
    # before 2.75 the answer is the short one; key_name null unsets the key (2.54)
    r = act(member, sid, {"rebuild": {"imageRef": image_id, "key_name": None}},
            version="2.74")
    assert r.status_code == 202, r.text
    body = r.json()["server"]
    assert "OS-EXT-STS:vm_state" not in body and body["key_name"] is None
    assert body["server_groups"] == []
    assert body["user_data"] == user_data       # kept: this rebuild gave none
    assert body["OS-DCF:diskConfig"] == "AUTO"
    wait_status(member, sid, "ACTIVE")
    old_body = act(member, sid, {"rebuild": {"imageRef": image_id}},
                   version="2.56").json()["server"]
    assert "user_data" not in old_body and "server_groups" not in old_body
    wait_status(member, sid, "ACTIVE")
    actions = [a["action"] for a in member.get(f"/servers/{sid}/os-instance-actions")
               .json()["instanceActions"]]
    assert actions[:4] == ["rebuild", "rebuild", "rebuild", "create"]


def test_trusted_image_certificates(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    certs = ["0b5d2c72-12cc-4ba6-a8d7-3ff5cc1d8cb8", "674736e3-f25c-405c-8362-bbf991e0ce0a"]
    r = act(member, sid, {"rebuild": {"imageRef": image_id,
                                      "trusted_image_certificates": certs}}, version="2.63")
    assert r.status_code == 202, r.text
    assert r.json()["server"]["trusted_image_certificates"] == certs
    shown = wait_status(member, sid, "ACTIVE")
    assert shown["trusted_image_certificates"] == certs
    fault(act(member, sid, {"rebuild": {"imageRef": image_id,
                                        "trusted_image_certificates": []}}), 400, "badRequest")
    fault(act(member, sid, {"rebuild": {"imageRef": image_id,
                                        "trusted_image_certificates": certs}},
              version="2.62"), 400, "badRequest")
    r = act(member, sid, {"rebuild": {"imageRef": image_id,
                                      "trusted_image_certificates": None}})
    assert r.json()["server"]["trusted_image_certificates"] is None


def test_stopped_stays_stopped(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    assert act(member, sid, {"os-stop": None}).status_code == 202
    wait_status(member, sid, "SHUTOFF")
    assert act(member, sid, {"rebuild": {"imageRef": image_id}}).status_code == 202
    shown = wait_status(member, sid, "SHUTOFF")
    assert shown["OS-EXT-STS:power_state"] == 4 and shown["OS-EXT-STS:task_state"] is None


def test_sdk_and_cli_rebuild(cloud: Cloud, image_id: str, other_image: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("rb"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    conn.compute.rebuild_server(server, image=other_image, name="sdk-rebuilt")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    assert server.name == "sdk-rebuilt" and server.image.id == other_image
    cloud.cli("server", "rebuild", "--image", image_id, "--wait", server.id)
    assert conn.compute.get_server(server.id).image.id == image_id
    conn.compute.delete_server(server)


def test_refusals(member: Nova, admin_nova: Nova, make_user: Callable[..., Nova],
                  image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    fault(act(member, sid, {"rebuild": {}}), 400, "badRequest")
    fault(act(member, sid, {"rebuild": {"imageRef": "no-such-image"}}), 400, "badRequest")
    fault(act(member, sid, {"rebuild": {"imageRef": image_id, "key_name": "nokey"}}), 400,
          "badRequest")
    fault(act(member, sid, {"rebuild": {"imageRef": image_id, "key_name": None}},
              version="2.53"), 400, "badRequest")
    fault(act(member, sid, {"rebuild": {"imageRef": image_id, "user_data": "x"}},
              version="2.56"), 400, "badRequest")
    fault(act(member, sid, {"rebuild": {"imageRef": image_id, "bogus": 1}}), 400,
          "badRequest")
    assert act(member, sid, {"lock": None}).status_code == 202
    fault(act(member, sid, {"rebuild": {"imageRef": image_id}}), 409, "conflictingRequest")
    assert act(member, sid, {"unlock": None}).status_code == 202
    assert act(member, sid, {"pause": None}).status_code == 202
    wait_status(member, sid, "PAUSED")
    msg = fault(act(member, sid, {"rebuild": {"imageRef": image_id}}), 409,
                "conflictingRequest")
    assert msg == f"Cannot 'rebuild' instance {sid} while it is in vm_state paused"
    reader = make_user("reader", member.project_id)
    fault(act(reader, sid, {"rebuild": {"imageRef": image_id}}), 403, "forbidden")
    other = make_user("member")
    fault(act(other, sid, {"rebuild": {"imageRef": image_id}}), 404, "itemNotFound")
    assert member.get(f"/servers/{sid}").json()["server"]["image"]["id"] == image_id
