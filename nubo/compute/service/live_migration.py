"""os-migrateLive: move a running (or paused) server to another host.

The destination is chosen (or forced, 2.30 to 2.67) and claimed here, the migration
holding the source allocation meanwhile, as for a cold move; task ``migrating``.
The source agent sends the guest (``running``), the destination agent takes it
over, and ``completed`` drops the migration's allocation and records the new
host. With no destination the server stays where it is: 400 before 2.34, after
that (Nova checks asynchronously) 202 and the failure in the instance action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from nubo.compute import clients, notifications
from nubo.compute.scheduler import NoValidHost
from nubo.compute.service import instance_actions, instances, migrations, resize
from nubo.compute.service.actions import check_up, claim_task, load_for, need_host
from nubo.compute.service.servers import agent_topic
from nubo.compute.states import PowerState, TaskState, VmState
from nubo.compute.tables import request_specs
from nubo.core.auth.context import RequestContext
from nubo.core.errors import BadRequest, NotFound
from nubo.core.runtime import Runtime

CONDUCTOR_EVENT = "conductor_live_migrate_instance"
EVENT = "compute_live_migration"
POST_EVENT = "compute_post_live_migration_at_destination"


async def live_migrate(rt: Runtime, ctx: RequestContext, uuid: str, *, host: str | None,
                       force: bool, request_id: str, raise_no_host: bool) -> None:
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, "os-migrateLive")
        await check_up(rt, need_host(server))
        await claim_task(tx, server, TaskState.MIGRATING)
        migration = await migrations.create(
            tx, server, migration_type="live-migration", new_flavor=server["flavor"],
            status="accepted", user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_action(tx, uuid, "live-migration",
                                            request_id=request_id, user_id=ctx.user_id,
                                            project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, CONDUCTOR_EVENT)
        notifications.emit(tx, "compute.instance.live_migration.pre.start", server)
        spec = (await tx.execute(select(request_specs.c.spec).where(
            request_specs.c.instance_uuid == uuid))).scalar()
    try:
        dest = await resize.choose_and_claim(rt, server, migration, dict(spec or {}),
                                             host=host, force=force)
    except NoValidHost as e:
        await resize.abandon(rt, server, migration, {}, e.message, event=CONDUCTOR_EVENT)
        if raise_no_host:
            raise
        return
    async with rt.db.transaction() as tx:
        wanted = await migrations.advance(tx, migration["uuid"], migration["status"],
                                          dest_compute=dest.host, dest_node=dest.node,
                                          dest_host=dest.host, status="running")
        if wanted:
            await instance_actions.finish_event(tx, uuid, CONDUCTOR_EVENT)
            await instance_actions.start_event(tx, uuid, EVENT, host=server["host"])
            tx.publish(agent_topic(server["host"], "live_migration"),
                       {"instance_uuid": uuid, "migration_uuid": migration["uuid"]})
    if not wanted:
        await resize.drop_claims(rt, uuid, migration["uuid"])


async def sent(rt: Runtime, uuid: str, migration_uuid: str,
               state: Mapping[str, Any]) -> None:
    """The source let the guest go: the destination takes it over."""
    async with rt.db.transaction() as tx:
        m = await migrations.get(tx, migration_uuid)
        if m["status"] != "running":
            return
        await migrations.set_fields(tx, migration_uuid, status="post-migrating")
        await instance_actions.finish_event(tx, uuid, EVENT, host=m["source_compute"])
        await instance_actions.start_event(tx, uuid, POST_EVENT, host=m["dest_compute"])
        tx.publish(agent_topic(m["dest_compute"], "post_live_migration"),
                   {"instance_uuid": uuid, "migration_uuid": migration_uuid,
                    "state": dict(state)})


async def completed(rt: Runtime, uuid: str, migration_uuid: str, *,
                    power_state: int) -> None:
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        m = await migrations.get(tx, migration_uuid)
        if m["status"] != "post-migrating":
            return
        await migrations.set_fields(tx, migration_uuid, status="completed")
        if not server["deleted"]:
            fields: dict[str, Any] = {"host": m["dest_compute"], "node": m["dest_node"],
                                      "task_state": None, "power_state": power_state}
            await instances.set_fields(tx, uuid, **fields)
        await instance_actions.finish_event(tx, uuid, POST_EVENT, host=m["dest_compute"])
        notifications.emit(tx, "compute.instance.live_migration.post.end", server)
    await clients.delete_allocations(rt, migration_uuid)


async def failed(rt: Runtime, uuid: str, migration_uuid: str, *, reason: str) -> None:
    """The source could not send the guest: it stays, the destination is let go."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        m = await migrations.get(tx, migration_uuid)
        if m["status"] != "running":
            return
        await migrations.set_fields(tx, migration_uuid, status="error")
        if not server["deleted"]:
            await instances.set_fields(tx, uuid, task_state=None)
        await instance_actions.finish_event(tx, uuid, EVENT, host=m["source_compute"],
                                            result="Error", details=reason)
    await resize.give_back(rt, server, migration_uuid)


async def lost(rt: Runtime, uuid: str, migration_uuid: str, *, host: str,
               reason: str) -> None:
    """The guest is on neither host (it left the source and never reached the
    destination, across a restart): ERROR with a fault, the source allocation back."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        m = await migrations.get(tx, migration_uuid)
        if m["status"] not in ("running", "post-migrating") or not await migrations.advance(
                tx, migration_uuid, m["status"], status="error"):
            return
        if not server["deleted"]:
            await instances.set_fields(tx, uuid, vm_state=VmState.ERROR.value,
                                       task_state=None, power_state=PowerState.NOSTATE)
            await instances.add_fault(tx, uuid, code=500, message=reason, host=host)
        await instance_actions.finish_event(tx, uuid, EVENT, host=m["source_compute"],
                                            result="Error", details=reason)
    await resize.give_back(rt, server, migration_uuid)


# ------------------------------------------------------ force_complete / abort

# statuses in which an abort is still possible (2.65: queued and preparing too)
ABORTABLE = frozenset({"queued", "preparing", "accepted", "running"})


async def in_progress(rt: Runtime, uuid: str, migration_id: int) -> dict[str, Any]:
    async with rt.db.read() as conn:
        found = await migrations.list_migrations(conn, migrations.MigrationQuery(
            in_progress_live_of=uuid))
    for m in found:
        if m["id"] == migration_id:
            return m
    raise NotFound(f"Instance {uuid} is not migrating, migration {migration_id} was not "
                   "found.")


async def force_complete(rt: Runtime, ctx: RequestContext, uuid: str, migration_id: int,
                         *, request_id: str) -> None:
    """Nova switches a running live migration to post-copy or pauses the guest; the
    fake driver's migrations end on their own, so this records the request."""
    m = await in_progress(rt, uuid, migration_id)
    if m["status"] != "running":
        raise BadRequest(f"Migration {migration_id} state of instance {uuid} is "
                         f"{m['status']}. Cannot force_complete while the migration is "
                         "in this state.")
    async with rt.db.transaction() as tx:
        await instance_actions.start_action(tx, uuid, "live_migration_force_complete",
                                            request_id=request_id, user_id=ctx.user_id,
                                            project_id=ctx.project_id)


async def abort(rt: Runtime, ctx: RequestContext, uuid: str, migration_id: int, *,
                request_id: str) -> None:
    """Cancel a live migration that has not handed the guest over yet; the source
    agent keeps (or takes back) the guest when it sees ``cancelled``."""
    m = await in_progress(rt, uuid, migration_id)
    if m["status"] not in ABORTABLE:
        raise BadRequest(f"Migration {migration_id} state of instance {uuid} is "
                         f"{m['status']}. Cannot abort live migration while the migration "
                         "is in this state.")
    async with rt.db.transaction() as tx:
        await migrations.set_fields(tx, m["uuid"], status="cancelled")
        await instance_actions.start_action(tx, uuid, "live_migration_abort",
                                            request_id=request_id, user_id=ctx.user_id,
                                            project_id=ctx.project_id)


async def aborted(rt: Runtime, uuid: str, migration_uuid: str) -> None:
    """The source has the guest again after a cancel: the server stays there."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        m = await migrations.get(tx, migration_uuid)
        if not server["deleted"] and server["task_state"] == TaskState.MIGRATING.value:
            await instances.set_fields(tx, uuid, task_state=None)
        await instance_actions.finish_event(tx, uuid, EVENT, host=m["source_compute"],
                                            result="Error", details="aborted")
    await resize.give_back(rt, server, migration_uuid)


async def status_of(rt: Runtime, migration_uuid: str) -> str:
    async with rt.db.read() as conn:
        return str((await migrations.get(conn, migration_uuid))["status"])
