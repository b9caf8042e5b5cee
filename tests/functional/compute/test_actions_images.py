"""createImage and createBackup: the snapshot lands in the image service with the
fake driver's bytes; Location header before 2.45, ``image_id`` from 2.45;
backups rotate; state 409 leaves no image behind; wrong role 403, other project 404."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot, poll, wait_status


def act(nova: Nova, server_id: str, body: dict[str, Any], version: str = "2.90") -> Any:
    return nova.post(f"/servers/{server_id}/action", body, version=version)


def image_of(nova: Nova, image_id: str) -> requests.Response:
    return requests.get(f"{nova.cloud.url}/image/v2/images/{image_id}",
                        headers={"X-Auth-Token": nova.token}, timeout=30)


def images_of_server(nova: Nova, server_id: str) -> list[dict[str, Any]]:
    r = requests.get(f"{nova.cloud.url}/image/v2/images", headers={"X-Auth-Token": nova.token},
                     params={"limit": 1000}, timeout=30)
    assert r.status_code == 200, r.text
    return [i for i in r.json()["images"] if i.get("instance_uuid") == server_id]


def wait_image_active(nova: Nova, image_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        image: dict[str, Any] = image_of(nova, image_id).json()
        return image if image.get("status") == "active" else None
    found: dict[str, Any] = poll(check, what=f"image {image_id} active")
    return found


def test_sdk_create_server_image(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("snap"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    image = conn.compute.create_server_image(server, unique("img"), metadata={"k": "v"},
                                             wait=True, timeout=30)
    image = conn.image.get_image(image.id)
    assert image.status == "active"
    props = image.properties
    assert image.instance_uuid == server.id and props["image_type"] == "snapshot"
    assert props["base_image_ref"] == image_id and props["k"] == "v"
    data = conn.image.download_image(image).content
    assert data.startswith(f"fake disk of {server.id}".encode())
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    assert server.task_state is None
    actions = [a.action for a in conn.compute.server_actions(server)]
    assert actions[0] == "createImage"
    conn.image.delete_image(image)
    conn.compute.delete_server(server)


def test_cli_server_image_create(cloud: Cloud, image_id: str) -> None:
    made = cloud.cli_json("server", "create", "--flavor", "m1.tiny", "--image", image_id,
                          "--nic", "none", "--wait", unique("cli"))
    name = unique("cli-img")
    image = cloud.cli_json("server", "image", "create", "--name", name, "--wait", made["id"])
    assert image["name"] == name and image["status"] == "active"
    cloud.cli("image", "delete", image["id"])
    cloud.cli("server", "delete", "--wait", made["id"])


def test_response_by_microversion(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    r = act(member, sid, {"createImage": {"name": "old"}}, version="2.44")
    assert r.status_code == 202, r.text
    assert r.content == b""
    old_id = r.headers["Location"].rsplit("/", 1)[-1]
    assert r.headers["Location"].endswith(f"/image/v2/images/{old_id}")
    wait_image_active(member, old_id)
    poll(lambda: member.get(f"/servers/{sid}").json()["server"]["OS-EXT-STS:task_state"]
         is None, what="task cleared")
    r = act(member, sid, {"createImage": {"name": "new"}}, version="2.45")
    assert r.status_code == 202 and "Location" not in r.headers
    new = wait_image_active(member, r.json()["image_id"])
    assert new["name"] == "new" and new["owner"] == member.project_id
    assert new["visibility"] == "private"


def test_backup_rotation(cloud: Cloud, member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    made = []
    for n in range(3):
        wait_status(member, sid, "ACTIVE")
        poll(lambda: member.get(f"/servers/{sid}").json()["server"]["OS-EXT-STS:task_state"]
             is None, what="task cleared")
        # the image service dates images to the second: keep the backups apart
        second = int(time.time())
        poll(lambda s=second: int(time.time()) > s, what="the next second")
        r = act(member, sid, {"createBackup": {"name": f"b{n}", "backup_type": "daily",
                                               "rotation": 2}})
        assert r.status_code == 202, r.text
        made.append(r.json()["image_id"])
        wait_image_active(member, made[-1])
    poll(lambda: {i["id"] for i in images_of_server(member, sid)} == set(made[1:]),
         what="two newest backups kept")
    backups = images_of_server(member, sid)
    assert {i["image_type"] for i in backups} == {"backup"}
    assert {i["backup_type"] for i in backups} == {"daily"}
    # a weekly backup leaves the daily ones alone; rotation 0 deletes every daily one
    poll(lambda: member.get(f"/servers/{sid}").json()["server"]["OS-EXT-STS:task_state"]
         is None, what="task cleared")
    r = act(member, sid, {"createBackup": {"name": "w", "backup_type": "weekly",
                                           "rotation": 0}})
    assert r.status_code == 202 and r.content == b""
    poll(lambda: not images_of_server(member, sid) or
         {i["backup_type"] for i in images_of_server(member, sid)} == {"daily"},
         what="weekly backup rotated away")
    fault(act(member, sid, {"createBackup": {"name": "x", "backup_type": "daily"}}), 400,
          "badRequest")
    fault(act(member, sid, {"createBackup": {"name": "x", "backup_type": "daily",
                                             "rotation": -1}}), 400, "badRequest")


def test_conflict_leaves_no_image(member: Nova, admin_nova: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    assert act(admin_nova, sid, {"os-resetState": {"state": "error"}}).status_code == 202
    msg = fault(act(member, sid, {"createImage": {"name": "x"}}), 409, "conflictingRequest")
    assert msg == f"Cannot 'createImage' instance {sid} while it is in vm_state error"
    assert images_of_server(member, sid) == []
    fault(act(member, sid, {"createImage": {}}), 400, "badRequest")
    fault(act(member, sid, {"createImage": {"name": "x", "extra": 1}}), 400, "badRequest")


def test_reader_403_other_project_404(member: Nova, make_user: Callable[..., Nova],
                                      image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    reader = make_user("reader", member.project_id)
    fault(act(reader, sid, {"createImage": {"name": "x"}}), 403, "forbidden")
    fault(act(reader, sid, {"createBackup": {"name": "x", "backup_type": "d",
                                             "rotation": 1}}), 403, "forbidden")
    other = make_user("member")
    fault(act(other, sid, {"createImage": {"name": "x"}}), 404, "itemNotFound")
    assert images_of_server(member, sid) == []
