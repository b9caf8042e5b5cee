"""Image tasks: a glance-direct import is an ``api_image_import`` task (2.12), shown
under its image to whoever sees the image (with the import's request id and
method), processing then success; a failed import's task is a failure with why;
``/v2/tasks`` for admins only (openstacksdk ``tasks``/``get_task``); the version
document lists 2.12."""

from __future__ import annotations

import time
from typing import Any

from tests.functional.image.conftest import Caller, unique


def _import(caller: Caller, data: bytes, disk_format: str = "raw") -> tuple[str, str]:
    image = caller.create(name=unique("tk"), disk_format=disk_format)
    r = caller.call("PUT", f"/images/{image['id']}/stage", data=data,
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    r = caller.call("POST", f"/images/{image['id']}/import",
                    {"method": {"name": "glance-direct"}})
    assert r.status_code == 202, r.text
    return image["id"], r.headers["x-openstack-request-id"]


def _finished(caller: Caller, image_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        r = caller.call("GET", f"/images/{image_id}/tasks")
        assert r.status_code == 200, r.text
        tasks: list[dict[str, Any]] = r.json()["tasks"]
        if tasks and all(t["status"] in ("success", "failure") for t in tasks):
            return tasks
        assert time.monotonic() < deadline, tasks
        time.sleep(0.1)


def test_import_task(alice: Caller, bob: Caller, admin: Caller, admin_conn: Any) -> None:
    image_id, request_id = _import(alice, b"\0" * 4096)
    (task,) = _finished(alice, image_id)
    assert task["status"] == "success" and task["type"] == "api_image_import"
    assert task["request_id"] == request_id and task["image_id"] == image_id
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert task["owner"] == alice.project_id and task["user_id"] == alice.user_id
    assert task["expires_at"] and task["message"] == ""
    assert alice.show(image_id)["status"] == "active"
    # another project does not see the image, nor its tasks
    assert bob.call("GET", f"/images/{image_id}/tasks").status_code == 404
    # admins see every task
    assert admin.call("GET", f"/tasks/{task['id']}").json()["request_id"] == request_id
    listed = admin.call("GET", "/tasks?type=api_image_import&limit=1000").json()
    assert task["id"] in [t["id"] for t in listed["tasks"]]
    assert task["id"] in [t.id for t in admin_conn.image.tasks()]
    assert admin_conn.image.get_task(task["id"]).status == "success"
    # members do not
    assert alice.call("GET", "/tasks").status_code == 403
    assert alice.call("GET", f"/tasks/{task['id']}").status_code == 403
    assert admin.call("GET", "/tasks/6b0f8c3e-2a36-4a0d-9c1e-0b6e1c0d9a55").status_code == 404
    assert admin.call("GET", "/tasks?sort_key=nope").status_code == 400
    assert admin.call("GET", "/tasks?limit=x").status_code == 400


def test_failed_import_task(alice: Caller) -> None:
    # declared qcow2, the bytes are not: the import fails after its 202
    image_id, _ = _import(alice, b"not a qcow2 image" * 100, disk_format="qcow2")
    (task,) = _finished(alice, image_id)
    assert task["status"] == "failure" and task["message"]
    assert alice.show(image_id)["status"] == "queued"


def test_image_without_tasks_and_versions(alice: Caller) -> None:
    image = alice.create(name=unique("tk"))
    r = alice.call("GET", f"/images/{image['id']}/tasks")
    assert r.status_code == 200 and r.json() == {"tasks": []}
    r = alice.call("GET", "/images/6b0f8c3e-2a36-4a0d-9c1e-0b6e1c0d9a55/tasks")
    assert r.status_code == 404
    versions = [v["id"] for v in alice.call("GET", "/../versions").json()["versions"]]
    assert "v2.12" in versions
