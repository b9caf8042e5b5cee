"""Neutron's Nova notifier: tell compute what happened to its servers' ports.

As Neutron does, the networking service sends compute's external events:

- ``network-vif-plugged`` when a compute port's status goes from DOWN (or BUILD) to
  ACTIVE (``completed``) or ERROR (``failed``), i.e. when the agent of its host
  plugged it, or failed to;
- ``network-vif-unplugged`` when it goes from ACTIVE to DOWN;
- ``network-vif-deleted`` when it is deleted;
- ``network-changed`` when its fixed IPs or floating IPs change.

Only ports whose ``device_owner`` starts with ``compute:`` and whose ``device_id`` is
a UUID concern compute. Events are recorded in the transaction that made the change
(``*_tx``) and sent after it commits: they travel on the bus (``EVENTS_TOPIC``) to
``start``'s consumer, which calls compute's external-events service function
in-process (the way Neutron calls Nova's API), so a rolled-back change sends nothing
and a crash after the commit still sends them.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, select

from nubo.core.bus.base import Envelope, Subscription
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.runtime import Runtime
from nubo.network import tables as t

log = logging.getLogger(__name__)

EVENTS_TOPIC = "network.nova.notify"
QUEUE = "network-nova-notifier"
VIF_PLUGGED = "network-vif-plugged"
VIF_UNPLUGGED = "network-vif-unplugged"
VIF_DELETED = "network-vif-deleted"
NETWORK_CHANGED = "network-changed"
# a port status's meaning for the event that reports it
EVENT_STATUS = {"ACTIVE": "completed", "ERROR": "failed", "DOWN": "completed"}


def is_compute_port(port: Mapping[str, Any]) -> bool:
    owner = str(port.get("device_owner") or "")
    device = str(port.get("device_id") or "")
    if not owner.startswith("compute:") or not device:
        return False
    try:
        uuid.UUID(device)
    except ValueError:
        return False
    return True


def status_event(port: Mapping[str, Any], old: str, new: str) -> dict[str, Any] | None:
    """The event a status change of ``port`` sends, if any (Neutron's rules)."""
    if not is_compute_port(port):
        return None
    if old == "ACTIVE" and new == "DOWN":
        name = VIF_UNPLUGGED
    elif old in ("DOWN", "BUILD", "") and new in ("ACTIVE", "ERROR"):
        name = VIF_PLUGGED
    else:
        return None
    return {"name": name, "server_uuid": str(port["device_id"]),
            "status": EVENT_STATUS[new], "tag": str(port["id"])}


def queue_tx(tx: Tx, events: Iterable[dict[str, Any] | None]) -> None:
    """Send ``events`` (``None``s skipped) once the transaction commits."""
    wanted = [e for e in events if e is not None]
    if wanted:
        tx.publish(EVENTS_TOPIC, {"events": wanted})


def status_changed_tx(tx: Tx, ports: Iterable[Mapping[str, Any]], new: str) -> None:
    """Ports (with ``id``, ``status`` (the old one), ``device_owner``,
    ``device_id``) whose status became ``new``."""
    queue_tx(tx, (status_event(p, str(p["status"]), new) for p in ports))


def port_deleted_tx(tx: Tx, port: Mapping[str, Any]) -> None:
    if is_compute_port(port):
        queue_tx(tx, [{"name": VIF_DELETED, "server_uuid": str(port["device_id"]),
                       "tag": str(port["id"])}])


def network_changed_tx(tx: Tx, port: Mapping[str, Any]) -> None:
    """The port's fixed IPs or floating IPs changed."""
    if is_compute_port(port):
        queue_tx(tx, [{"name": NETWORK_CHANGED, "server_uuid": str(port["device_id"]),
                       "tag": str(port["id"])}])


_PORTS = prebuilt(select(t.ports.c.id, t.ports.c.device_owner, t.ports.c.device_id)
                  .where(t.ports.c.id.in_(bindparam("b_ids", expanding=True))))


async def ports_changed_tx(tx: Tx, port_ids: Iterable[str | None]) -> None:
    """``network-changed`` for the ports of ``port_ids`` that still exist (a floating IP
    was associated to them or taken from them)."""
    ids = sorted({p for p in port_ids if p})
    if not ids:
        return
    rows = await tx.execute(_PORTS, {"b_ids": ids})
    for row in rows.mappings():
        network_changed_tx(tx, row)


# ------------------------------------------------------------------- sending


async def send(rt: Runtime, events: list[dict[str, Any]]) -> None:
    """Hand ``events`` to compute; events for servers compute does not know are
    dropped, as Nova answers them 404 and Neutron logs it."""
    if "compute" not in rt.settings.core.enabled_services:
        return
    compute = importlib.import_module("nubo.compute.service.external_events")
    results = await compute.external_instance_event(rt, events)
    for result in results:
        if result.get("code") != 200:
            log.info("compute did not take event %s: code %s", result, result.get("code"))


async def start(rt: Runtime) -> Subscription:
    async def handle(env: Envelope) -> None:
        await send(rt, [dict(e) for e in env.payload.get("events", [])])

    return await rt.bus.consume(EVENTS_TOPIC, handle, queue=QUEUE)
