"""Resize and cold migration, then confirmResize / revertResize.

The way of a move, as in Nova:

1. ``begin_move`` (API): state and lock checks, quota for a bigger flavor, a
   migration row, task ``resize_prep``; then the destination is chosen here and
   now (Nova's conductor answers resize and migrate synchronously too, so "No
   valid host" is the API's 400): the migration takes over the source host's
   placement allocation (``move_allocations``) and the server claims the new
   flavor on the destination. Task ``resize_migrating``; the source agent is asked.
2. The source agent powers the guest off and hands its disk over
   (``migrated``); the destination agent defines the guest with the new flavor
   (``finished``): vm_state ``resized`` (VERIFY_RESIZE), migration ``finished``.
3. ``confirmResize``: the source agent forgets its copy; the migration's
   allocation is dropped (``confirmed``). ``revertResize``: the destination drops
   its copy, the source restores the guest with the old flavor and the migration
   gives the source allocation back to the server (``reverted``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from nubo.compute import clients, notifications, snapshot
from nubo.compute.scheduler import NoValidHost, select_destinations
from nubo.compute.scheduler.model import HostState, resources_of
from nubo.compute.service import instance_actions, instances, migrations, quotas
from nubo.compute.service.actions import check_up, claim_task, load_for, need_host
from nubo.compute.service.servers import agent_topic
from nubo.compute.states import PowerState, TaskState, VmState
from nubo.compute.tables import request_specs
from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, Conflict
from nubo.core.runtime import Runtime

PREP_EVENT = "conductor_migrate_server"
RESIZE_EVENT = "compute_resize_instance"
FINISH_EVENT = "compute_finish_resize"
CONFIRM_EVENT = "compute_confirm_resize"
REVERT_EVENT = "compute_revert_resize"
FINISH_REVERT_EVENT = "compute_finish_revert_resize"


def quota_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, int]:
    return {"cores": int(new["vcpus"]) - int(old["vcpus"]),
            "ram": int(new["ram"]) - int(old["ram"])}


def _part(deltas: Mapping[str, int], sign: int) -> dict[str, int]:
    return {k: abs(v) for k, v in deltas.items() if v * sign > 0}


async def begin_move(rt: Runtime, ctx: RequestContext, uuid: str, *,
                     new_flavor: Mapping[str, Any] | None, request_id: str,
                     host: str | None = None, disk_config: str | None = None) -> None:
    """Resize (``new_flavor``) or cold-migrate (None) a server; BadRequest with the
    scheduler's reasons when no host can take it (nothing is changed then). A resize
    may change the server's ``OS-DCF:diskConfig`` (``disk_config``), as in Nova."""
    op = "resize" if new_flavor is not None else "migrate"
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, op)
        await check_up(rt, need_host(server))
        flavor = dict(new_flavor if new_flavor is not None else server["flavor"])
        up = _part(quota_change(server["flavor"], flavor), +1)
        if up:
            await quotas.reserve(tx, rt, project_id=server["project_id"],
                                 user_id=server["user_id"], deltas=up)
        extra = {**(server.get("extra") or {}), "old_vm_state": server["vm_state"]}
        if disk_config is not None:
            extra["disk_config"] = disk_config
        await claim_task(tx, server, TaskState.RESIZE_PREP, extra=extra)
        migration = await migrations.create(
            tx, server, migration_type="resize" if new_flavor is not None else "migration",
            new_flavor=flavor, user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_action(tx, uuid, op, request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, PREP_EVENT)
        notifications.emit(tx, "compute.instance.resize.start", server)
        spec = (await tx.execute(select(request_specs.c.spec).where(
            request_specs.c.instance_uuid == uuid))).scalar()
    try:
        dest = await choose_and_claim(rt, {**server, "flavor": flavor}, migration,
                                       dict(spec or {}), host=host, same_host_ok=(
                                           op == "resize"
                                           and rt.settings.compute.allow_resize_to_same_host))
    except NoValidHost as e:
        await abandon(rt, server, migration, up, e.message)
        raise
    if not await _send_to_source(rt, server, migration, dest):
        await drop_claims(rt, uuid, migration["uuid"])


async def _send_to_source(rt: Runtime, server: Mapping[str, Any],
                          migration: Mapping[str, Any], dest: HostState) -> bool:
    """The destination is claimed: the source agent starts; False when the server
    was deleted meanwhile."""
    uuid = server["uuid"]
    async with rt.db.transaction() as tx:
        if not await migrations.advance(tx, migration["uuid"], migration["status"],
                                        dest_compute=dest.host, dest_node=dest.node,
                                        dest_host=dest.host, status="migrating"):
            return False
        await instances.set_fields(tx, uuid, task_state=TaskState.RESIZE_MIGRATING.value)
        await instance_actions.finish_event(tx, uuid, PREP_EVENT)
        await instance_actions.start_event(tx, uuid, RESIZE_EVENT, host=server["host"])
        tx.publish(agent_topic(server["host"], "resize_instance"),
                   {"instance_uuid": uuid, "migration_uuid": migration["uuid"]})
    return True


async def drop_claims(rt: Runtime, uuid: str, migration_uuid: str) -> None:
    """The server was deleted while its destination was being chosen: neither the
    destination claim nor the migration's source allocation is wanted."""
    for consumer in (uuid, migration_uuid):
        await clients.delete_allocations(rt, consumer)


async def choose_and_claim(rt: Runtime, server: Mapping[str, Any],
                           migration: Mapping[str, Any], spec: Mapping[str, Any], *,
                           host: str | None, same_host_ok: bool = False,
                           force: bool = False) -> HostState:
    """Pick the destination of a move (``force``: ``host`` without the scheduler),
    give the source allocation to the migration and claim the destination for
    the server; NoValidHost when nothing fits (the allocation is back then)."""
    ignore = set() if same_host_ok else {server["host"]}
    request = await snapshot.request_spec(rt, [server], {
        **spec, "ignore_hosts": sorted(ignore), "force_host": host, "force_node": None})
    states = await snapshot.host_states(rt)
    if force and host:
        candidates = [h for h in states if h.host == host]
    else:
        selection = select_destinations(states, request, rt.settings.scheduler)[0]
        candidates = [selection.host, *selection.alternates]
    resources = resources_of(request.flavor)
    await clients.move_allocations(rt, server["uuid"], migration["uuid"])
    for candidate in candidates:
        try:
            await clients.claim(rt, consumer=server["uuid"],
                                provider_uuid=candidate.provider_uuid, resources=resources,
                                project_id=server["project_id"], user_id=server["user_id"])
        except Conflict:
            continue
        return candidate
    await clients.move_allocations(rt, migration["uuid"], server["uuid"])
    raise NoValidHost(len(candidates), (), server["uuid"],
                      detail="Every candidate host was claimed by concurrent requests.")


async def abandon(rt: Runtime, server: Mapping[str, Any], migration: Mapping[str, Any],
                  up: Mapping[str, int], reason: str, *, event: str = PREP_EVENT) -> None:
    """A move found no destination: the server is as it was, the migration failed
    (if the server was deleted meanwhile, its delete ended the move: only claims
    made since are left to drop)."""
    async with rt.db.transaction() as tx:
        ended = await migrations.advance(tx, migration["uuid"], migration["status"],
                                         status="error")
        if ended:       # its extra as before the move (a resize's diskConfig too)
            await instances.set_fields(tx, server["uuid"], task_state=None,
                                       extra=dict(server.get("extra") or {}))
            if up:
                await quotas.release(tx, rt, project_id=server["project_id"],
                                     user_id=server["user_id"], deltas=up)
            await instance_actions.finish_event(tx, server["uuid"], event, result="Error",
                                                details=reason)
    if not ended:
        await drop_claims(rt, server["uuid"], migration["uuid"])


# --------------------------------------------------- what the agents report


async def migrated(rt: Runtime, uuid: str, migration_uuid: str) -> None:
    """The source powered the guest off and let go of its disk."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != TaskState.RESIZE_MIGRATING.value:
            return
        migration = await migrations.get(tx, migration_uuid)
        await instances.set_fields(tx, uuid, task_state=TaskState.RESIZE_MIGRATED.value)
        await migrations.set_fields(tx, migration_uuid, status="post-migrating")
        await instance_actions.finish_event(tx, uuid, RESIZE_EVENT, host=server["host"])
        await instance_actions.start_event(tx, uuid, FINISH_EVENT,
                                           host=migration["dest_compute"])
        tx.publish(agent_topic(migration["dest_compute"], "finish_resize"),
                   {"instance_uuid": uuid, "migration_uuid": migration_uuid})


def guest_of(server: Mapping[str, Any], flavor: Mapping[str, Any]) -> dict[str, Any]:
    """What a driver needs to define the guest again: the flavor, powered or not."""
    old = (server.get("extra") or {}).get("old_vm_state")
    return {**server, "flavor": dict(flavor), "power_on": old != VmState.STOPPED.value}


async def finished(rt: Runtime, uuid: str, migration_uuid: str, *, power_state: int) -> None:
    """The destination runs the guest with the new flavor: VERIFY_RESIZE."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != TaskState.RESIZE_MIGRATED.value:
            return
        m = await migrations.get(tx, migration_uuid)
        fields = {"host": m["dest_compute"], "node": m["dest_node"], "flavor": m["new_flavor"],
                  "vm_state": VmState.RESIZED.value, "task_state": None,
                  "power_state": power_state}
        await instances.set_fields(tx, uuid, **fields)
        await migrations.set_fields(tx, migration_uuid, status="finished")
        await instance_actions.finish_event(tx, uuid, FINISH_EVENT, host=m["dest_compute"])
        notifications.emit(tx, "compute.instance.resize.end", {**server, **fields})


# ---------------------------------------------------------- confirm / revert


async def _finished_migration(tx: Tx, uuid: str) -> dict[str, Any]:
    migration = await migrations.latest(tx, uuid, status="finished")
    if migration is None:
        raise BadRequest("Instance has not been resized.")
    return migration


async def confirm(rt: Runtime, ctx: RequestContext, uuid: str, *, request_id: str) -> None:
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, "confirmResize")
        m = await _finished_migration(tx, uuid)
        await check_up(rt, m["source_compute"])
        await claim_task(tx, server, None)
        await migrations.set_fields(tx, m["uuid"], status="confirming")
        await instance_actions.start_action(tx, uuid, "confirmResize", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, CONFIRM_EVENT, host=m["source_compute"])
        notifications.emit(tx, "compute.instance.resize.confirm.start", server)
        tx.publish(agent_topic(m["source_compute"], "confirm_resize"),
                   {"instance_uuid": uuid, "migration_uuid": m["uuid"]})


async def confirmed(rt: Runtime, uuid: str, migration_uuid: str) -> None:
    """The source forgot the old guest: drop the migration's allocation."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        m = await migrations.get(tx, migration_uuid)
        if m["status"] != "confirming":
            return
        await migrations.set_fields(tx, migration_uuid, status="confirmed")
        down = _part(quota_change(m["old_flavor"], m["new_flavor"]), -1)
        if down and server["quota_held"] and not server["deleted"]:
            await quotas.release(tx, rt, project_id=server["project_id"],
                                 user_id=server["user_id"], deltas=down)
        if not server["deleted"] and server["vm_state"] == VmState.RESIZED.value:
            old = (server.get("extra") or {}).get("old_vm_state")
            vm = VmState.STOPPED if old == VmState.STOPPED.value else VmState.ACTIVE
            await instances.set_fields(tx, uuid, vm_state=vm.value)
        await instance_actions.finish_event(tx, uuid, CONFIRM_EVENT, host=m["source_compute"])
        notifications.emit(tx, "compute.instance.resize.confirm.end", server)
    await clients.delete_allocations(rt, migration_uuid)


async def revert(rt: Runtime, ctx: RequestContext, uuid: str, *, request_id: str) -> None:
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, "revertResize")
        m = await _finished_migration(tx, uuid)
        await check_up(rt, m["source_compute"], m["dest_compute"])
        await claim_task(tx, server, TaskState.RESIZE_REVERTING)
        await migrations.set_fields(tx, m["uuid"], status="reverting")
        await instance_actions.start_action(tx, uuid, "revertResize", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, REVERT_EVENT, host=m["dest_compute"])
        notifications.emit(tx, "compute.instance.resize.revert.start", server)
        tx.publish(agent_topic(m["dest_compute"], "revert_resize"),
                   {"instance_uuid": uuid, "migration_uuid": m["uuid"]})


async def dest_reverted(rt: Runtime, uuid: str, migration_uuid: str) -> None:
    """The destination dropped its guest: the source restores the old one."""
    async with rt.db.transaction() as tx:
        m = await migrations.get(tx, migration_uuid)
        if m["status"] != "reverting":
            return
        await instance_actions.finish_event(tx, uuid, REVERT_EVENT, host=m["dest_compute"])
        await instance_actions.start_event(tx, uuid, FINISH_REVERT_EVENT,
                                           host=m["source_compute"])
        tx.publish(agent_topic(m["source_compute"], "finish_revert_resize"),
                   {"instance_uuid": uuid, "migration_uuid": migration_uuid})


async def reverted(rt: Runtime, uuid: str, migration_uuid: str, *, power_state: int) -> None:
    """The source runs the old guest again: it gets its allocation back."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        m = await migrations.get(tx, migration_uuid)
        if m["status"] != "reverting":
            return
        await migrations.set_fields(tx, migration_uuid, status="reverted")
        up = _part(quota_change(m["old_flavor"], m["new_flavor"]), +1)
        if up and server["quota_held"] and not server["deleted"]:
            await quotas.release(tx, rt, project_id=server["project_id"],
                                 user_id=server["user_id"], deltas=up)
        if not server["deleted"]:
            old = (server.get("extra") or {}).get("old_vm_state")
            vm = VmState.STOPPED if old == VmState.STOPPED.value else VmState.ACTIVE
            fields = {"host": m["source_compute"], "node": m["source_node"],
                      "flavor": m["old_flavor"], "vm_state": vm.value, "task_state": None,
                      "power_state": power_state}
            await instances.set_fields(tx, uuid, **fields)
        await instance_actions.finish_event(tx, uuid, FINISH_REVERT_EVENT,
                                            host=m["source_compute"])
        notifications.emit(tx, "compute.instance.resize.revert.end", server)
    await give_back(rt, server, migration_uuid)


async def give_back(rt: Runtime, server: Mapping[str, Any], migration_uuid: str) -> None:
    """The source allocation a migration held returns to the server, or to nobody
    when the server was deleted meanwhile."""
    if server["deleted"]:
        await clients.delete_allocations(rt, migration_uuid)
    elif await clients.allocations_of(rt, migration_uuid):
        await clients.move_allocations(rt, migration_uuid, server["uuid"])


def stopped_power(server: Mapping[str, Any]) -> int:
    old = (server.get("extra") or {}).get("old_vm_state")
    return int(PowerState.SHUTDOWN if old == VmState.STOPPED.value else PowerState.RUNNING)
