"""Moves and shelves a restart interrupted, taken up again by the conductor on start.

The messages that carried them to the agents died with the process, so the
conductor sends each one's next message again from what the database says
(every agent handler re-reads the server and does nothing twice), or, where the
step that died was choosing a destination, gives the move up as Nova does:

- resize and cold migration: still choosing (``pre-migrating``) → given up
  (the source allocation back to the server, the migration ``error``, the task
  cleared); ``migrating`` → the source powers off again; ``post-migrating`` →
  the destination defines the guest; ``confirming`` / ``reverting`` → the
  confirm / revert goes on. ``finished`` waits for the user as before.
- live migration: ``accepted`` → given up; ``running`` → the source sends the
  guest (if it is no longer there, the server is ERROR: lost on the way);
  ``post-migrating`` → the destination takes the guest over if it arrived (else
  ERROR, lost).
- evacuation: ``accepted`` → given up; ``pre-migrating`` → spawned again.
- shelve: the snapshot is taken again (into a fresh image when the old one was
  half-written); offload and unshelve are sent again; an unshelve that died while
  choosing a host is given up.

``next_step`` is the decision table, a pure function.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from nubo.compute import clients
from nubo.compute.service import instance_actions, instances, migrations, resize
from nubo.compute.service import live_migration as live
from nubo.compute.service import shelve as shelving
from nubo.compute.service.actions import claim_task
from nubo.compute.service.servers import agent_topic
from nubo.compute.service.snapshots import context_from, image_body
from nubo.compute.service.unfinished_moves import quota_beyond
from nubo.compute.states import TaskState
from nubo.compute.tables import instances as instances_t
from nubo.compute.tables import migrations as migrations_t
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)
REASON = "Interrupted by a restart before a destination was chosen."


@dataclass(frozen=True)
class Step:
    """Give the move up (``op`` None), or send ``op`` to the ``on`` host again."""

    op: str | None = None
    on: str = "source"          # "source" or "dest"


GIVE_UP = Step()
_COLD = {"pre-migrating": GIVE_UP, "migrating": Step("resize_instance"),
         "post-migrating": Step("finish_resize", "dest"),
         "confirming": Step("confirm_resize"), "reverting": Step("revert_resize", "dest")}
STEPS: dict[str, dict[str, Step]] = {
    "resize": _COLD, "migration": _COLD,
    "live-migration": {"queued": GIVE_UP, "preparing": GIVE_UP, "accepted": GIVE_UP,
                       "running": Step("live_migration"),
                       "post-migrating": Step("post_live_migration", "dest")},
    "evacuation": {"accepted": GIVE_UP, "pre-migrating": Step("evacuate_spawn", "dest")},
}


def next_step(migration_type: str, status: str) -> Step | None:
    """What to do with an unfinished migration after a restart (None: nothing)."""
    return STEPS.get(migration_type, {}).get(status)


async def resume_all(rt: Runtime) -> None:
    for m in await _unfinished_moves(rt):
        try:
            await _resume_move(rt, m)
        except Exception:       # one server's trouble must not stop the others
            log.exception("resuming migration %s of %s failed", m["uuid"],
                          m["instance_uuid"])
    for server in await _unfinished_shelves(rt):
        try:
            await _resume_shelve(rt, server)
        except Exception:
            log.exception("resuming the shelve task of %s failed", server["uuid"])


# -------------------------------------------------------------------- moves


async def _unfinished_moves(rt: Runtime) -> list[dict[str, Any]]:
    c, i = migrations_t.c, instances_t.c
    async with rt.db.read() as conn:
        rows = await conn.execute(select(migrations_t).join(
            instances_t, i.uuid == c.instance_uuid).where(
            i.deleted.is_(False), c.status.in_(sorted(migrations.IN_PROGRESS)))
            .order_by(c.id))
        return [dict(r) for r in rows.mappings()]


async def _resume_move(rt: Runtime, m: Mapping[str, Any]) -> None:
    step = next_step(m["migration_type"], m["status"])
    if step is None:
        return
    if step.op is None:
        await _give_up(rt, m)
        return
    host = m["source_compute"] if step.on == "source" else m["dest_compute"]
    payload: dict[str, Any] = {"instance_uuid": m["instance_uuid"], "migration_uuid": m["uuid"]}
    if step.op == "post_live_migration":
        payload["state"] = None         # the guest's state went with the lost message
    log.info("resuming %s of %s: %s on %s", m["migration_type"], m["instance_uuid"],
             step.op, host)
    async with rt.db.transaction() as tx:
        tx.publish(agent_topic(host, step.op), payload)


async def _give_up(rt: Runtime, m: Mapping[str, Any]) -> None:
    async with rt.db.read() as conn:
        server = await instances.get(conn, m["instance_uuid"], extras=False)
    if await clients.allocations_of(rt, m["uuid"]):
        await clients.move_allocations(rt, m["uuid"], server["uuid"])
    up = quota_beyond(server["flavor"], m) if server["quota_held"] else {}
    event = live.CONDUCTOR_EVENT if m["migration_type"] == "live-migration" \
        else resize.PREP_EVENT
    log.info("giving up %s of %s: %s", m["migration_type"], server["uuid"], REASON)
    await resize.abandon(rt, server, m, up, REASON, event=event)


# ------------------------------------------------------------------ shelves

SHELVE_TASKS = (TaskState.SHELVING.value, TaskState.SHELVING_IMAGE_UPLOADING.value,
                TaskState.SHELVING_OFFLOADING.value, TaskState.UNSHELVING.value)


async def _unfinished_shelves(rt: Runtime) -> list[dict[str, Any]]:
    t = instances_t
    async with rt.db.read() as conn:
        rows = (await conn.execute(select(t).where(
            t.c.deleted.is_(False), t.c.task_state.in_(SHELVE_TASKS)))).mappings().all()
        return await instances.attach(conn, rows)


async def _resume_shelve(rt: Runtime, server: dict[str, Any]) -> None:
    task, host, uuid = server["task_state"], server["host"], server["uuid"]
    extra = server.get("extra") or {}
    if task == TaskState.SHELVING_OFFLOADING.value and host:
        payload: dict[str, Any] = {"instance_uuid": uuid}
        op = "shelve_offload"
    elif task == TaskState.UNSHELVING.value and host:
        payload = {"instance_uuid": uuid, **(extra.get("unshelve") or _owner(server))}
        op = "unshelve"
    elif task == TaskState.UNSHELVING.value:
        await _unplace(rt, server)
        return
    elif host and extra.get("shelve"):
        payload = await _fresh_shelve(rt, server, dict(extra["shelve"]))
        op = "shelve"
    else:
        return
    log.info("resuming %s of %s on %s", op, uuid, host)
    async with rt.db.transaction() as tx:
        if op == "shelve":
            await claim_task(tx, server, TaskState.SHELVING,
                             extra={**extra, "shelve": payload})
        tx.publish(agent_topic(host, op), payload)


def _owner(server: Mapping[str, Any]) -> dict[str, Any]:
    return {"context": {"user_id": server["user_id"], "project_id": server["project_id"],
                        "roles": ["member"]}}


async def _fresh_shelve(rt: Runtime, server: Mapping[str, Any],
                        payload: dict[str, Any]) -> dict[str, Any]:
    """The shelve's payload, with a new image when the old one is no longer empty
    (its upload died half-way)."""
    ctx = context_from(payload["context"])
    try:
        image: dict[str, Any] | None = await clients.show_image(rt, ctx,
                                                                str(payload["image_id"]))
    except NotFound:
        image = None
    if image is not None and image.get("status") == "queued":
        return payload
    if image is not None:
        await clients.delete_image(rt, ctx, image["id"])
    made = await clients.create_image(rt, ctx, image_body(
        server, f"{server['display_name']}-shelved", {}, kind="snapshot"))
    return {**payload, "image_id": made["id"]}


async def _unplace(rt: Runtime, server: Mapping[str, Any]) -> None:
    """An unshelve of an offloaded server died while choosing its host: the server
    stays SHELVED_OFFLOADED, any claim is dropped."""
    async with rt.db.transaction() as tx:
        await claim_task(tx, server, None)
        await instances.add_fault(tx, server["uuid"], code=500, message=REASON)
        await instance_actions.finish_event(tx, server["uuid"], shelving.SCHEDULE_EVENT,
                                            result="Error", details=REASON,
                                            action="unshelve")
    await clients.delete_allocations(rt, server["uuid"])
