"""Events other services send compute about its servers (``network-vif-plugged``,
``network-changed``…): the receiving end of ``POST /os-server-external-events``.

The networking service calls ``external_instance_event`` in-process (as Neutron's
Nova notifier calls the API); the API handler calls it after checking the body.
Each event is recorded as an instance action event and handed to the agent of the
server's host on its own events queue (``compute.events-<host>.external``), so an
agent busy waiting for a VIF to be plugged still receives the event that ends
the wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nubo.compute.service import instance_actions, instances
from nubo.core.db.engine import Tx
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime

NETWORK_EVENTS = frozenset({"network-changed", "network-vif-plugged",
                            "network-vif-unplugged", "network-vif-deleted"})


def events_topic(host: str) -> str:
    """The topic one host's agent receives external events on."""
    return f"compute.events-{host.replace('.', '_')}.external"


async def external_instance_event(rt: Runtime, events: Sequence[Mapping[str, Any]]
                                  ) -> list[dict[str, Any]]:
    """Accept events ``{"name", "server_uuid", "status"?, "tag"?}``; each comes back
    with its ``code``: 200 handed to the server's host, 404 no such server, 422
    the server has no host (its ``status`` then becomes ``failed``, as in Nova)."""
    out = []
    async with rt.db.transaction() as tx:
        for event in events:
            out.append(await _accept(tx, dict(event)))
    return out


async def _accept(tx: Tx, event: dict[str, Any]) -> dict[str, Any]:
    event.setdefault("status", "completed")
    uuid = str(event["server_uuid"])
    try:
        server = await instances.get(tx, uuid, extras=False)
    except NotFound:
        return {**event, "code": 404}
    if not server["host"]:
        return {**event, "status": "failed", "code": 422}
    await instance_actions.finish_event(
        tx, uuid, f"compute_external_instance_event_{event['name']}", host=server["host"],
        result="Error" if event["status"] == "failed" else "Success",
        details=event.get("tag"))
    tx.publish(events_topic(server["host"]), {"instance_uuid": uuid, "event": {
        k: event[k] for k in ("name", "status", "tag") if event.get(k) is not None}})
    return {**event, "code": 200}
