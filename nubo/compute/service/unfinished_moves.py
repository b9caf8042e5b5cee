"""What deleting a server does to its unfinished moves (resize, cold and live
migration, evacuation).

While a server moves, its migration is a placement consumer holding the source
host's allocation, a resize to a bigger flavor holds the quota difference, and
the host the server is not recorded on may keep a copy of the guest (the source
of an unconfirmed resize, the destination of a move under way). When the server
is deleted, Nova confirms an unconfirmed resize and errors out any other move;
so does ``end_for_delete``: the migration is ``confirmed`` or ``error``, the extra
quota goes back, the other host is told to destroy its copy, and the caller
deletes the migrations' allocations after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select

from nubo.compute.service import migrations, quotas
from nubo.compute.service.servers import agent_topic
from nubo.compute.tables import instances as instances_t
from nubo.compute.tables import migrations as migrations_t
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.runtime import Runtime

# a migration that still holds an allocation: under way, or cancelled but not yet
# handed back by the source agent
HOLDING = migrations.IN_PROGRESS | {"cancelled"}
# resized and waiting for confirmResize / revertResize: a delete confirms it
UNCONFIRMED = frozenset({"finished", "confirming"})


def quota_beyond(flavor: Mapping[str, Any], migration: Mapping[str, Any]) -> dict[str, int]:
    """The quota a resize holds beyond ``flavor`` (the server's current one): while
    it is unfinished the larger of the old and new flavor is reserved."""
    old, new = migration["old_flavor"], migration["new_flavor"]
    extra = {"cores": max(int(old["vcpus"]), int(new["vcpus"])) - int(flavor["vcpus"]),
             "ram": max(int(old["ram"]), int(new["ram"])) - int(flavor["ram"])}
    return {k: v for k, v in extra.items() if v > 0}


_HOLDING = prebuilt(select(migrations_t).where(
    migrations_t.c.instance_uuid == bindparam("uuid"),
    migrations_t.c.status.in_(sorted(HOLDING))).order_by(migrations_t.c.id))


async def holding(tx: Tx, uuid: str) -> list[dict[str, Any]]:
    """The server's migrations that may still hold an allocation."""
    rows = await tx.execute(_HOLDING, {"uuid": uuid})
    return [dict(r) for r in rows.mappings()]


async def end_for_delete(tx: Tx, rt: Runtime, server: Mapping[str, Any]) -> list[str]:
    """End the moves of ``server``, which is being deleted in this transaction;
    the uuids of the migrations whose allocations the caller deletes after commit."""
    ended = []
    extra: dict[str, int] = {}
    for m in await holding(tx, server["uuid"]):
        if m["status"] != "cancelled":
            await migrations.set_fields(
                tx, m["uuid"], status="confirmed" if m["status"] in UNCONFIRMED else "error")
        if server["quota_held"]:
            for k, v in quota_beyond(server["flavor"], m).items():
                extra[k] = max(extra.get(k, 0), v)
        for host in {m["source_compute"], m["dest_compute"]} - {server["host"], None}:
            tx.publish(agent_topic(host, "destroy"), {"instance_uuid": server["uuid"]})
        ended.append(str(m["uuid"]))
    if extra:
        await quotas.release(tx, rt, project_id=server["project_id"],
                             user_id=server["user_id"], deltas=extra)
    return ended


async def touching(rt: Runtime, host: str) -> set[str]:
    """Live servers with a move under way from or to ``host``: a restarted agent
    keeps their guests (wanted by the move, not by a server on the host) and leaves
    a guest that is not here to the move's recovery (``nubo.compute.resume``)."""
    c, i = migrations_t.c, instances_t.c
    async with rt.db.read() as conn:
        rows = await conn.execute(select(c.instance_uuid).join(
            instances_t, i.uuid == c.instance_uuid).where(
            i.deleted.is_(False), c.status.in_(sorted(migrations.IN_PROGRESS)),
            (c.source_compute == host) | (c.dest_compute == host)))
        return {str(u) for (u,) in rows}
