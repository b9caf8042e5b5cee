"""Recovery on start: what the database says against what hosts and placement have.

- conductor: instances waiting for a host are scheduled again; deletes of
  instances on no host are finished; interrupted moves and shelves are taken up
  again (``resume.py``); allocations whose consumer is gone are deleted.
- each agent: instances of its host still spawning are spawned again; deletes
  are finished; domains with no live instance are destroyed; active instances
  whose domain vanished go to ERROR with a fault; power states the hypervisor
  reports are brought into the database (``agent/power_sync.py``).

The decisions are a pure function (``plan_host``) of the desired and actual
state, so they are unit-tested without a cloud.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from nubo.compute import clients, conductor
from nubo.compute.service import hosts
from nubo.compute.service.servers import BUILD_TOPIC
from nubo.compute.states import ON_HOST, TaskState, VmState
from nubo.compute.tables import instances
from nubo.core.runtime import Runtime

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)


@dataclass
class HostPlan:
    spawn: list[str] = field(default_factory=list)
    finish_delete: list[str] = field(default_factory=list)
    destroy_orphans: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)


def plan_host(desired: Iterable[Mapping[str, Any]], actual: Iterable[str],
              moving: Iterable[str] = ()) -> HostPlan:
    """What an agent must do on start, from the live instances the database puts
    on its host (``desired``), the domains its driver has (``actual``) and the
    instances with a move under way from or to the host (``moving``: their
    domains are kept, and one that is not here is left to the move's recovery)."""
    have, in_move = set(actual), set(moving)
    plan = HostPlan()
    wanted: set[str] = set(in_move)
    for inst in desired:
        uuid = inst["uuid"]
        wanted.add(uuid)
        if inst["task_state"] == TaskState.DELETING.value:
            plan.finish_delete.append(uuid)
        elif inst["vm_state"] == VmState.BUILDING.value:
            plan.spawn.append(uuid)
        elif VmState(inst["vm_state"]) in ON_HOST and uuid not in have | in_move:
            plan.lost.append(uuid)
    plan.destroy_orphans = sorted(have - wanted)
    return plan


async def agent_start(agent: ComputeAgent) -> None:
    from nubo.compute.agent import manager
    from nubo.compute.service import unfinished_moves

    rt = agent.rt
    desired = await conductor.instances_on_host(rt, agent.host)
    plan = plan_host(desired, await agent.driver.list_instances(),
                     await unfinished_moves.touching(rt, agent.host))
    by_uuid = {i["uuid"]: i for i in desired}
    for uuid in plan.destroy_orphans:
        log.info("destroying %s on %s: no live instance wants it", uuid, agent.host)
        await agent.driver.destroy(uuid)
    for uuid in plan.finish_delete:
        await manager.destroy(agent, by_uuid[uuid], {})
    for uuid in plan.spawn:
        inst = by_uuid[uuid]
        if inst["task_state"] != TaskState.SPAWNING.value:
            await conductor.instance_update(rt, uuid, task_state=TaskState.SPAWNING.value)
            inst = {**inst, "task_state": TaskState.SPAWNING.value}
        await manager.spawn(agent, inst, {})
    for uuid in plan.lost:
        await conductor.instance_update(rt, uuid, vm_state=VmState.ERROR.value,
                                        task_state=None, power_state=0)
        await _fault(rt, uuid, f"Instance {uuid} is missing from hypervisor {agent.host}.",
                     agent.host)
    # server actions the agent was doing when it stopped (nubo/compute/agent/actions.py)
    from nubo.compute.agent import deferred_delete
    from nubo.compute.agent.actions import resume_tasks

    still_here = [i for i in desired if i["uuid"] not in plan.lost]
    await resume_tasks(agent, still_here)
    await deferred_delete.resume_tasks(agent, still_here)
    # guests that stopped (or started) while the agent was away
    from nubo.compute.agent import power_sync

    await power_sync.sync_host(agent)


async def _fault(rt: Runtime, uuid: str, message: str, host: str) -> None:
    from nubo.compute.service import instances as records

    async with rt.db.transaction() as tx:
        await records.add_fault(tx, uuid, code=500, message=message, host=host)


async def conductor_start(rt: Runtime) -> None:
    async with rt.db.read() as conn:
        rows = (await conn.execute(select(instances.c.uuid, instances.c.vm_state,
                                          instances.c.task_state).where(
            instances.c.deleted.is_(False), instances.c.host.is_(None)))).all()
    waiting = []
    for uuid, vm_state, task_state in rows:
        if task_state == TaskState.DELETING.value:
            await conductor.delete_finished(rt, uuid)
        elif vm_state == VmState.BUILDING.value:
            await clients.delete_allocations(rt, uuid)
            if task_state != TaskState.SCHEDULING.value:
                await conductor.instance_update(rt, uuid,
                                                task_state=TaskState.SCHEDULING.value)
            waiting.append(uuid)
    if waiting:
        async with rt.db.transaction() as tx:
            tx.publish(BUILD_TOPIC, {"instance_uuids": waiting})
    # moves and shelves the restart interrupted (nubo/compute/resume.py)
    from nubo.compute import resume

    await resume.resume_all(rt)
    await delete_orphan_allocations(rt)
    await resync_quota_usage(rt)


async def resync_quota_usage(rt: Runtime) -> None:
    """Make each user's instances/cores/ram usage equal what their servers hold.
    (Reservations commit with the instance rows, so this finds nothing unless the
    database was changed by hand or by an older bug.)"""
    from nubo.compute.service import quotas

    wanted: dict[tuple[str, str], dict[str, int]] = {}
    async with rt.db.read() as conn:
        rows = await conn.execute(select(instances.c.project_id, instances.c.user_id,
                                         instances.c.flavor, instances.c.quota_held,
                                         instances.c.deleted))
        for project, user, flavor, held, deleted in rows:
            counts = wanted.setdefault((project, user), {"instances": 0, "cores": 0, "ram": 0})
            if held and not deleted:
                counts["instances"] += 1
                counts["cores"] += int(flavor["vcpus"])
                counts["ram"] += int(flavor["ram"])
        for key, extra in (await _held_by_moves(conn)).items():
            for resource, amount in extra.items():
                wanted[key][resource] += amount
        have = {key: await quotas.usage(conn, key[0], key[1]) for key in wanted}
    for (project, user), counts in wanted.items():
        delta = {k: v - have[(project, user)].get(k, 0) for k, v in counts.items()}
        delta = {k: v for k, v in delta.items() if v}
        if not delta:
            continue
        log.warning("quota usage of user %s in project %s was off by %s; corrected",
                    user, project, delta)
        await quotas.ensure_usage_rows(rt, project, user)
        async with rt.db.transaction() as tx:
            await quotas.release(tx, rt, project_id=project, user_id=user,
                                 deltas={k: -v for k, v in delta.items() if v < 0})
        grow = {k: v for k, v in delta.items() if v > 0}
        try:
            async with rt.db.transaction() as tx:
                await quotas.reserve(tx, rt, project_id=project, user_id=user, deltas=grow)
        except quotas.OverQuota:
            log.warning("user %s of project %s is over quota", user, project)


async def _held_by_moves(conn: Any) -> dict[tuple[str, str], dict[str, int]]:
    """(project, user) -> what unfinished resizes hold beyond their servers' flavors
    (the larger of the old and new flavor is reserved until the resize ends)."""
    from nubo.compute.service import migrations, unfinished_moves
    from nubo.compute.tables import migrations as migrations_t

    m, i = migrations_t.c, instances.c
    rows = await conn.execute(select(
        i.project_id, i.user_id, i.flavor, m.old_flavor, m.new_flavor).join(
        instances, i.uuid == m.instance_uuid).where(
        i.deleted.is_(False), i.quota_held.is_(True),
        m.status.in_(sorted(migrations.IN_PROGRESS))))
    out: dict[tuple[str, str], dict[str, int]] = {}
    for project, user, flavor, old, new in rows:
        extra = unfinished_moves.quota_beyond(flavor, {"old_flavor": old, "new_flavor": new})
        for resource, amount in extra.items():
            held = out.setdefault((project, user), {})
            held[resource] = held.get(resource, 0) + amount
    return out


async def delete_orphan_allocations(rt: Runtime) -> None:
    """Allocations on compute nodes whose consumer is no live instance there."""
    nodes = await hosts.list_nodes(rt)
    from nubo.compute.service import migrations

    async with rt.db.read() as conn:
        live = {u for (u,) in await conn.execute(select(instances.c.uuid).where(
            instances.c.deleted.is_(False)))}
        # a moving server's migration holds the source host's allocation
        live |= {m["uuid"] for m in await migrations.list_migrations(
            conn, migrations.MigrationQuery())
            if m["status"] in migrations.IN_PROGRESS and m["instance_uuid"] in live}
    for node in nodes:
        for consumer in await clients.consumers_on(rt, node["uuid"]) - live:
            log.info("deleting allocations of %s: no live instance", consumer)
            await clients.delete_allocations(rt, consumer)
