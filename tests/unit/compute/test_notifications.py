"""The payload of instance notifications."""

from __future__ import annotations

from nubo.compute.notifications import payload


def test_payload_names_the_instance_state_and_flavor() -> None:
    instance = {"uuid": "u1", "display_name": "web", "project_id": "p", "user_id": "u",
                "host": "h", "vm_state": "active", "task_state": "deleting",
                "flavor": {"id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1,
                           "extra_specs": {"a": "b"}},
                "image_ref": "img"}
    body = payload(instance)
    assert body["instance_uuid"] == "u1" and body["state"] == "active"
    assert body["status"] == "ACTIVE" and body["task_state"] == "deleting"
    assert body["flavor"] == {"id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1}
    assert body["project_id"] == "p" and body["host"] == "h"
