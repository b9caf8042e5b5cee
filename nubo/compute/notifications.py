"""Versioned notifications about instances, published on the bus with the event
type as the topic (``compute.instance.create.end``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubo.compute.states import api_status
from nubo.core.db.engine import Tx


def payload(instance: Mapping[str, Any]) -> dict[str, Any]:
    flavor = instance.get("flavor") or {}
    return {
        "instance_uuid": instance["uuid"],
        "display_name": instance.get("display_name"),
        "project_id": instance.get("project_id"),
        "user_id": instance.get("user_id"),
        "host": instance.get("host"),
        "state": instance.get("vm_state"),
        "task_state": instance.get("task_state"),
        "status": api_status(instance["vm_state"], instance.get("task_state")),
        "flavor": {k: flavor.get(k) for k in ("id", "name", "vcpus", "ram", "disk")},
        "image_ref": instance.get("image_ref"),
    }


def emit(tx: Tx, event_type: str, instance: Mapping[str, Any], *,
         extra: Mapping[str, Any] | None = None) -> None:
    """Publish ``event_type`` about ``instance`` (with ``extra`` fields in the
    payload) when ``tx`` commits."""
    tx.publish(event_type, {"event_type": event_type,
                            "payload": {**payload(instance), **(extra or {})}})
