"""Soft delete (``[compute] reclaim_instance_interval`` > 0), ``restore`` and the
periodic reclaim, as Nova does them.

With an interval set, ``DELETE /servers/{id}`` of a server that ran and has no
task under way powers it off on its host and leaves it SOFT_DELETED (task
``soft-deleting`` meanwhile); any other server is deleted at once. A soft-deleted
server keeps its host and its placement allocation, but no longer counts against
the project's quota (Nova counts instances that are neither deleted nor
soft-deleted); plain server lists leave it out, ``GET /servers/{id}`` shows it.
``restore`` takes the quota back (403 when it no longer fits) and powers the
server on again: ACTIVE. ``forceDelete`` deletes it for good, and so does the
reclaim task once it has been soft-deleted for longer than the interval.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from nubo.compute import notifications
from nubo.compute.service import hosts, instance_actions, instances, quotas
from nubo.compute.service.actions import check_lock, check_up, claim_task, load_for
from nubo.compute.service.servers import agent_topic, quota_deltas
from nubo.compute.states import TaskState, VmState
from nubo.compute.tables import instances as instances_t
from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)
SOFT_DELETE_EVENT = "compute_soft_delete_instance"
RESTORE_EVENT = "compute_restore_instance"
# vm_states a soft delete keeps (others are deleted at once: nothing runs to keep;
# shelved, the server lives in its shelved image; resized, the delete confirms the
# resize, whose quota and allocations a soft delete would leave half-held)
KEEPABLE = frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED,
                      VmState.RESCUED})


def enabled(rt: Runtime) -> bool:
    return rt.settings.compute.reclaim_instance_interval > 0


def keepable(server: Mapping[str, Any]) -> bool:
    """Whether a delete of ``server`` may be a soft one (as Nova: it ran, no task is
    under way; here also: it has a host)."""
    return (server["launched_at"] is not None and server["task_state"] is None
            and server["host"] is not None and VmState(server["vm_state"]) in KEEPABLE)


async def soft_delete(rt: Runtime, ctx: RequestContext, uuid: str, *,
                      project_id: str | None, request_id: str) -> bool:
    """Soft-delete a server; False when it must be deleted for real instead."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, project_id=project_id, extras=False)
        if server["vm_state"] == VmState.SOFT_DELETED.value:
            return True             # already: nothing changes
        check_lock(ctx, server)
        service = await hosts.get_service(rt, server["host"], conn=tx.conn) \
            if server["host"] else None
        if not keepable(server) or service is None or not hosts.is_up(rt, service):
            return False
        await claim_task(tx, server, TaskState.SOFT_DELETING, deleted_at=utcnow())
        await instance_actions.start_action(tx, uuid, "delete", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, SOFT_DELETE_EVENT, host=server["host"])
        notifications.emit(tx, "compute.instance.soft_delete.start", server)
        tx.publish(agent_topic(server["host"], "soft_delete"), {"instance_uuid": uuid})
    return True


async def soft_deleted(rt: Runtime, uuid: str, *, host: str, power_state: int) -> None:
    """The agent powered the guest off: SOFT_DELETED, out of the quota."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True, extras=False)
        if server["deleted"] or server["task_state"] != TaskState.SOFT_DELETING.value:
            return
        fields = {"vm_state": VmState.SOFT_DELETED.value, "task_state": None,
                  "power_state": power_state, "quota_held": False}
        await instances.set_fields(tx, uuid, **fields)
        if server["quota_held"]:
            await quotas.release(tx, rt, project_id=server["project_id"],
                                 user_id=server["user_id"],
                                 deltas=quota_deltas(server["flavor"]))
        await instance_actions.finish_event(tx, uuid, SOFT_DELETE_EVENT, host=host,
                                            action="delete")
        notifications.emit(tx, "compute.instance.soft_delete.end", {**server, **fields})


# ------------------------------------------------------------------ restore


async def restore(rt: Runtime, ctx: RequestContext, uuid: str, *, request_id: str) -> None:
    """Take the quota back and ask the host to power the server on again."""
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, "restore")
        await check_up(rt, server["host"])
        await quotas.reserve(tx, rt, project_id=server["project_id"],
                             user_id=server["user_id"], deltas=quota_deltas(server["flavor"]))
        await claim_task(tx, server, TaskState.RESTORING, deleted_at=None, quota_held=True)
        await instance_actions.start_action(tx, uuid, "restore", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, RESTORE_EVENT, host=server["host"])
        notifications.emit(tx, "compute.instance.restore.start", server)
        tx.publish(agent_topic(server["host"], "restore"), {"instance_uuid": uuid})


async def restored(rt: Runtime, uuid: str, *, host: str, power_state: int,
                   error: str | None = None) -> None:
    """The guest runs again (ACTIVE); or it could not be powered on, and the server
    is soft-deleted as before (its quota given back) with a fault."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True, extras=False)
        if server["deleted"] or server["task_state"] != TaskState.RESTORING.value:
            return
        if error is None:
            fields: dict[str, Any] = {"vm_state": VmState.ACTIVE.value, "task_state": None,
                                      "power_state": power_state}
        else:
            fields = {"task_state": None, "deleted_at": utcnow(), "quota_held": False}
            await quotas.release(tx, rt, project_id=server["project_id"],
                                 user_id=server["user_id"],
                                 deltas=quota_deltas(server["flavor"]))
            await instances.add_fault(tx, uuid, code=500, message=error, host=host)
        await instances.set_fields(tx, uuid, **fields)
        await instance_actions.finish_event(tx, uuid, RESTORE_EVENT, host=host,
                                            result="Error" if error else "Success",
                                            details=error, action="restore")
        notifications.emit(tx, "compute.instance.restore.end", {**server, **fields})


# ------------------------------------------------------------------ reclaim


async def due(rt: Runtime, now: dt.datetime) -> list[str]:
    """Soft-deleted servers older than the interval, oldest first."""
    cutoff = now - dt.timedelta(seconds=rt.settings.compute.reclaim_instance_interval)
    c = instances_t.c
    async with rt.db.read() as conn:
        rows = await conn.execute(select(c.uuid).where(
            c.deleted.is_(False), c.vm_state == VmState.SOFT_DELETED.value,
            c.task_state.is_(None), c.deleted_at <= cutoff).order_by(c.deleted_at))
        return [str(u) for (u,) in rows]


async def reclaim(rt: Runtime, uuid: str, *, request_id: str) -> None:
    """Delete one soft-deleted server for good (the host destroys the guest, the
    conductor gives the allocation back), unless it was restored meanwhile."""
    local = False
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True, extras=False)
        if (server["deleted"] or server["vm_state"] != VmState.SOFT_DELETED.value
                or server["task_state"]):
            return
        await claim_task(tx, server, TaskState.DELETING)
        await instance_actions.start_action(tx, uuid, "delete", request_id=request_id,
                                            user_id=None, project_id=None)
        await instance_actions.start_event(tx, uuid, "compute_terminate_instance",
                                           host=server["host"], action="delete")
        notifications.emit(tx, "compute.instance.delete.start", server)
        service = await hosts.get_service(rt, server["host"], conn=tx.conn) \
            if server["host"] else None
        if service is None or not hosts.is_up(rt, service):
            local = True
        else:
            tx.publish(agent_topic(server["host"], "destroy"), {"instance_uuid": uuid})
    if local:
        from nubo.compute import conductor

        await conductor.delete_finished(rt, uuid)


async def reclaim_due(rt: Runtime, *, request_id: str) -> int:
    """One pass of the reclaim task; how many servers it started deleting."""
    count = 0
    for uuid in await due(rt, utcnow()):
        try:
            await reclaim(rt, uuid, request_id=request_id)
            count += 1
        except Exception:       # one server's trouble must not stop the others
            log.exception("reclaiming soft-deleted server %s failed", uuid)
    return count
