"""The conductor: schedules builds and records what agents report.

Builds arrive on ``compute.instance.build`` (queue ``compute-conductor``) as
instance ids. The conductor snapshots the hosts, asks the scheduler for a host
plus alternates per instance, claims the resources in placement (falling back
to the alternates, then to a fresh snapshot, when a claim loses a race), records
the host and hands the instance to that host's agent.

Agents never write the database: they call the ``instance_update``,
``build_succeeded``, ``build_failed`` and ``delete_finished`` functions here
(in-process today; the same functions behind bus RPC when agents run apart).
Every handler is idempotent: it re-reads the instance and does nothing when the
work is already done or no longer wanted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from nubo.compute import clients, inflight, notifications, snapshot
from nubo.compute.scheduler import NoValidHost, select_destinations
from nubo.compute.scheduler.model import HostState, RequestSpec, Selection, resources_of
from nubo.compute.service import (
    instance_actions,
    instances,
    networking,
    quotas,
    unfinished_moves,
)
from nubo.compute.service import server_groups as groups
from nubo.compute.service.servers import (
    BUILD_TOPIC,
    SCHEDULE_EVENT,
    agent_topic,
    quota_deltas,
)
from nubo.compute.states import PowerState, TaskState, VmState
from nubo.compute.tables import request_specs
from nubo.core.bus.base import Envelope, Subscription
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import Conflict, NotFound
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)
QUEUE = "compute-conductor"
BUILD_EVENT = "compute_build_and_run_instance"
SNAPSHOT_RETRIES = 3


async def start(rt: Runtime) -> Subscription:
    from nubo.compute import reconcile

    await reconcile.conductor_start(rt)
    return await rt.bus.consume(BUILD_TOPIC, lambda env: on_build(rt, env), queue=QUEUE)


async def on_build(rt: Runtime, env: Envelope) -> None:
    uuids = [str(u) for u in env.payload.get("instance_uuids", [])]
    if uuids:
        await schedule_and_build(rt, uuids)


# ------------------------------------------------------------------- build


async def _waiting(rt: Runtime, uuids: Sequence[str]) -> list[dict[str, Any]]:
    """The instances among ``uuids`` still waiting for a host."""
    async with rt.db.read() as conn:
        found = []
        for uuid in uuids:
            try:
                inst = await instances.get(conn, uuid, extras=False)
            except NotFound:
                continue
            if (inst["vm_state"] == VmState.BUILDING.value and inst["host"] is None
                    and inst["task_state"] == TaskState.SCHEDULING.value):
                found.append(inst)
        return found


async def _spec_of(rt: Runtime, uuid: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = (await conn.execute(select(request_specs.c.spec).where(
            request_specs.c.instance_uuid == uuid))).first()
    return dict(row[0]) if row else {}


async def schedule_and_build(rt: Runtime, uuids: Sequence[str]) -> None:
    """Place each waiting instance of ``uuids`` on a host, or put it in ERROR.
    Instances of one create request are placed together."""
    by_request: dict[str, list[dict[str, Any]]] = {}
    for inst in await _waiting(rt, uuids):
        by_request.setdefault(inst["reservation_id"], []).append(inst)
    for group in by_request.values():
        await _schedule_group(rt, group)


async def _schedule_group(rt: Runtime, pending: list[dict[str, Any]]) -> None:
    ledger = inflight.of(rt)
    for attempt in range(SNAPSHOT_RETRIES + 1):
        if not pending:
            return
        spec = await _spec_of(rt, pending[0]["uuid"])
        request = await snapshot.request_spec(rt, pending, spec)
        states = await snapshot.host_states(rt, traits=snapshot.needs_traits(request),
                                            about=snapshot.interesting_uuids(request))
        try:
            if attempt == SNAPSHOT_RETRIES:
                # every try lost its claims to concurrent builds: one last look decides
                # between "full" (the scheduler says which filter) and "raced"
                select_destinations(states, request, rt.settings.scheduler)
                break
            selections = _select(states, request, rt, ledger)
        except NoValidHost as e:
            for inst in pending:
                await fail_build(rt, inst["uuid"], _no_host_message(e, spec), code=500)
            return
        resources = resources_of(request.flavor)
        for sel in selections:
            ledger.hold(sel.instance_uuid, sel.host, resources)
        lost = []
        by_uuid = {i["uuid"]: i for i in pending}
        try:
            for sel in selections:
                inst = by_uuid[sel.instance_uuid]
                if not await _claim_one(rt, inst, (sel.host, *sel.alternates), resources):
                    lost.append(inst)
        finally:
            for sel in selections:
                ledger.forget(sel.instance_uuid)
        pending = lost
    for inst in pending:
        await fail_build(rt, inst["uuid"], "No valid host was found. Every candidate host "
                         f"was claimed by concurrent requests ({SNAPSHOT_RETRIES} tries).",
                         code=500)


def _select(states: Sequence[HostState], request: RequestSpec, rt: Runtime,
            ledger: inflight.InFlight) -> list[Selection]:
    """The scheduler's plan with this process's claims under way counted as used;
    "no valid host" only if the snapshot alone agrees (the ledger may count a
    just-committed claim twice)."""
    if ledger:
        try:
            return select_destinations(ledger.overlay(states), request, rt.settings.scheduler)
        except NoValidHost:
            pass
    return select_destinations(states, request, rt.settings.scheduler)


def _no_host_message(e: NoValidHost, spec: Mapping[str, Any]) -> str:
    tried = list(spec.get("ignore_hosts") or [])
    if not tried:
        return e.message
    return (f"Build failed on {len(tried)} attempt(s), on hosts {', '.join(tried)} (last "
            f"error: {spec.get('last_error', 'unknown')}); no other host could take it. "
            f"{e.message}")


async def _claim_one(rt: Runtime, inst: Mapping[str, Any], candidates: Sequence[HostState],
                     resources: Mapping[str, int]) -> bool:
    ledger = inflight.of(rt)
    try:
        for host in candidates:
            ledger.hold(inst["uuid"], host, resources)
            try:
                await clients.claim(rt, consumer=inst["uuid"],
                                    provider_uuid=host.provider_uuid, resources=resources,
                                    project_id=inst["project_id"], user_id=inst["user_id"])
            except Conflict:
                continue
            ledger.forget(inst["uuid"])
            await _assign(rt, inst["uuid"], host)
            return True
        return False
    finally:
        ledger.forget(inst["uuid"])


async def _assign(rt: Runtime, uuid: str, host: HostState) -> None:
    """Record the host and hand the instance to its agent; if the instance was
    deleted meanwhile, give the claim back."""
    async with rt.db.transaction() as tx:
        inst = await instances.get(tx, uuid, deleted=True, extras=False)
        wanted = (not inst["deleted"] and inst["vm_state"] == VmState.BUILDING.value
                  and inst["host"] is None and inst["task_state"] == TaskState.SCHEDULING.value)
        if wanted:
            await instances.set_fields(
                tx, uuid, host=host.host, node=host.node, launched_on=host.host,
                availability_zone=inst["availability_zone"] or host.availability_zone,
                task_state=TaskState.SPAWNING.value)
            action_id = await instance_actions.finish_event(tx, uuid, SCHEDULE_EVENT,
                                                            action="create")
            await instance_actions.start_event(tx, uuid, BUILD_EVENT, host=host.host,
                                               action="create", action_id=action_id)
            tx.publish(agent_topic(host.host, "spawn"), {"instance_uuid": uuid})
    if not wanted:
        await clients.delete_allocations(rt, uuid)


async def fail_build(rt: Runtime, uuid: str, message: str, *, code: int = 500,
                     host: str | None = None, details: str = "") -> None:
    """ERROR with a fault; ports, quota and placement allocations are given back."""
    found = await get_instance(rt, uuid, extras=False)
    if found is None or found["deleted"] or found["vm_state"] != VmState.BUILDING.value:
        return
    # nothing half-made, and gone by the time the server shows ERROR: the ports
    # compute made are deleted, the user's given back
    await networking.deallocate_for_instance(rt, found)
    async with rt.db.transaction() as tx:
        inst = await instances.get(tx, uuid, deleted=True, extras=False)
        if inst["deleted"] or inst["vm_state"] != VmState.BUILDING.value:
            return
        # no host keeps it: a later delete is finished at once, without an agent
        await instances.set_fields(tx, uuid, vm_state=VmState.ERROR.value, task_state=None,
                                   power_state=PowerState.NOSTATE.value, quota_held=False,
                                   host=None, node=None)
        await instances.add_fault(tx, uuid, code=code, message=message, details=details,
                                  host=host)
        if inst["quota_held"]:
            await quotas.release(tx, rt, project_id=inst["project_id"],
                                 user_id=inst["user_id"], deltas=quota_deltas(inst["flavor"]))
        event = BUILD_EVENT if host else SCHEDULE_EVENT
        await instance_actions.finish_event(tx, uuid, event, result="Error", host=host,
                                            details=message, action="create")
        notifications.emit(tx, "compute.instance.create.error",
                           {**inst, "vm_state": VmState.ERROR.value, "task_state": None})
    await clients.delete_allocations(rt, uuid)


async def build_aborted(rt: Runtime, uuid: str, host: str, reason: str) -> None:
    """A build that must not be retried elsewhere (its networks could not be
    allocated or plugged): ERROR at once, as Nova's BuildAbortException."""
    await fail_build(rt, uuid, f"Build of instance {uuid} aborted: {reason}", code=500,
                     host=host, details=reason)


# ------------------------------------------------- what agents report


async def get_instance(rt: Runtime, uuid: str, *, extras: bool = True
                       ) -> dict[str, Any] | None:
    """The instance (deleted ones too; without metadata, tags and fault unless
    ``extras``), or None when there is no such row."""
    async with rt.db.read() as conn:
        try:
            return await instances.get(conn, uuid, deleted=True, extras=extras)
        except NotFound:
            return None


async def instances_on_host(rt: Runtime, host: str) -> list[dict[str, Any]]:
    """Live (not deleted) instances the database places on ``host``."""
    from nubo.compute.tables import instances as t

    async with rt.db.read() as conn:
        rows = (await conn.execute(select(t).where(t.c.host == host,
                                                   t.c.deleted.is_(False)))).mappings().all()
        return await instances.attach(conn, rows)


async def instance_update(rt: Runtime, uuid: str, **fields: Any) -> dict[str, Any] | None:
    """Set fields of a live instance; None when it is gone."""
    async with rt.db.transaction() as tx:
        if not await instances.set_fields(tx, uuid, **fields):
            return None
        inst = await instances.get(tx, uuid, deleted=True)
        notifications.emit(tx, "compute.instance.update", inst)
        return inst


async def power_synced(rt: Runtime, uuid: str, host: str, *, seen_vm_state: str,
                       power_state: int, vm_state: str | None = None) -> bool:
    """Record the power state an agent found (and a vm_state it implies), unless the
    server changed since it was read (another host, a task, another vm_state)."""
    async with rt.db.transaction() as tx:
        inst = await instances.get(tx, uuid, deleted=True, extras=False)
        if (inst["deleted"] or inst["host"] != host or inst["task_state"] is not None
                or inst["vm_state"] != seen_vm_state):
            return False
        fields: dict[str, Any] = {"power_state": int(power_state)}
        if vm_state is not None:
            fields["vm_state"] = vm_state
        await instances.set_fields(tx, uuid, **fields)
        notifications.emit(tx, "compute.instance.update", {**inst, **fields})
        return True


async def build_succeeded(rt: Runtime, uuid: str, host: str, *,
                          power_state: int = PowerState.RUNNING) -> None:
    async with rt.db.transaction() as tx:
        inst = await instances.get(tx, uuid, deleted=True, extras=False)
        if inst["deleted"] or inst["vm_state"] != VmState.BUILDING.value or inst["host"] != host:
            return
        if inst["task_state"] == TaskState.DELETING.value:
            return
        fields = {"vm_state": VmState.ACTIVE.value, "task_state": None,
                  "power_state": int(power_state), "launched_at": utcnow(), "progress": 100}
        await instances.set_fields(tx, uuid, **fields)
        await instance_actions.finish_event(tx, uuid, BUILD_EVENT, host=host, action="create")
        notifications.emit(tx, "compute.instance.create.end", {**inst, **fields})


async def build_failed(rt: Runtime, uuid: str, host: str, reason: str) -> None:
    """A spawn failed on ``host``: reschedule elsewhere, or ERROR after
    ``max_build_attempts`` attempts."""
    limit = rt.settings.compute.max_build_attempts
    async with rt.db.transaction() as tx:
        inst = await instances.get(tx, uuid, deleted=True, extras=False)
        if inst["deleted"] or inst["vm_state"] != VmState.BUILDING.value or inst["host"] != host:
            return
        row = (await tx.execute(select(request_specs).where(
            request_specs.c.instance_uuid == uuid))).mappings().first()
        spec = dict(row["spec"]) if row else {}
        attempts = (row["attempts"] if row else 0) + 1
        tried = [*spec.get("ignore_hosts", []), host]
        await instance_actions.finish_event(tx, uuid, BUILD_EVENT, result="Error", host=host,
                                            details=reason, action="create")
        if attempts < limit and inst["task_state"] != TaskState.DELETING.value:
            await _record_attempt(tx, uuid, {**spec, "ignore_hosts": tried,
                                             "last_error": reason}, attempts)
            await instances.set_fields(tx, uuid, host=None, node=None,
                                       task_state=TaskState.SCHEDULING.value)
            await instance_actions.start_event(tx, uuid, SCHEDULE_EVENT, action="create")
            tx.publish(BUILD_TOPIC, {"instance_uuids": [uuid]})
            retry = True
        else:
            retry = False
    await clients.delete_allocations(rt, uuid)
    if not retry:
        message = (f"Build of instance {uuid} aborted: exceeded maximum number of build "
                   f"attempts ({attempts}) on hosts {', '.join(tried)}. Last error: {reason}")
        await _force_error(rt, uuid, message, host)


async def _record_attempt(tx: Tx, uuid: str, spec: Mapping[str, Any], attempts: int) -> None:
    from sqlalchemy import update

    await tx.execute(update(request_specs).where(request_specs.c.instance_uuid == uuid)
                     .values(spec=dict(spec), attempts=attempts))


async def _force_error(rt: Runtime, uuid: str, message: str, host: str | None) -> None:
    await fail_build(rt, uuid, message, code=500, host=host)


async def delete_finished(rt: Runtime, uuid: str) -> None:
    """The server is gone from its host (or never had one): release its ports,
    forget it, give back its quota and placement allocations, and those of its
    unfinished moves."""
    moves: list[str] = []
    found = await get_instance(rt, uuid, extras=False)
    if found is not None and not found["deleted"]:
        await networking.deallocate_for_instance(rt, found)
    async with rt.db.transaction() as tx:
        inst = await instances.get(tx, uuid, deleted=True, extras=False)
        if not inst["deleted"]:
            moves = await unfinished_moves.end_for_delete(tx, rt, inst)
            now = utcnow()
            fields = {"vm_state": VmState.DELETED.value, "task_state": None,
                      "power_state": PowerState.NOSTATE.value, "deleted": True,
                      "deleted_at": now, "terminated_at": now, "quota_held": False}
            await instances.set_fields(tx, uuid, **fields)
            if inst["quota_held"]:
                await quotas.release(tx, rt, project_id=inst["project_id"],
                                     user_id=inst["user_id"],
                                     deltas=quota_deltas(inst["flavor"]))
            await groups.remove_member(tx, rt, uuid)
            await instance_actions.finish_event(tx, uuid, "compute_terminate_instance",
                                                host=inst["host"], action="delete")
            notifications.emit(tx, "compute.instance.delete.end", {**inst, **fields})
    for consumer in (uuid, *moves):
        await clients.delete_allocations(rt, consumer)
