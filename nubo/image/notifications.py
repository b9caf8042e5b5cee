"""Notifications about images, published on the bus after the change commits, with
Glance's event types as topics (``image.create``, ``image.activate``, …)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubo.core.db.engine import Tx

IMAGE_FIELDS = ("id", "name", "status", "visibility", "protected", "owner", "size",
                "virtual_size", "checksum", "disk_format", "container_format", "min_disk",
                "min_ram")


def emit(tx: Tx, event_type: str, payload: Mapping[str, Any]) -> None:
    """Publish ``event_type`` about ``payload`` when ``tx`` commits."""
    tx.publish(event_type, {"event_type": event_type, "payload": dict(payload)})


def image_payload(image: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: image.get(k) for k in IMAGE_FIELDS}
    for key in ("created_at", "updated_at"):
        value = image.get(key)
        out[key] = value if value is None or isinstance(value, str) else value.isoformat()
    return out


def image_event(tx: Tx, event_type: str, image: Mapping[str, Any]) -> None:
    emit(tx, event_type, image_payload(image))
