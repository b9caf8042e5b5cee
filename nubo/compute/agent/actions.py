"""The agent's side of server actions: ask the driver, report the outcome through
``service.actions`` (the agent never writes the database itself)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nubo.compute.agent import vifs
from nubo.compute.agent.driver import DomainNotFound, DriverError
from nubo.compute.service import actions, migrations, resize, snapshots
from nubo.compute.service import evacuate as evacuation
from nubo.compute.service import live_migration as live
from nubo.compute.service import rebuild as rebuilding
from nubo.compute.service import shelve as shelving
from nubo.compute.states import PowerState, TaskState
from nubo.core.errors import NuboError

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)


async def server_action(agent: ComputeAgent, instance: dict[str, Any],
                        payload: Mapping[str, Any]) -> None:
    name = str(payload.get("action", ""))
    action = actions.AGENT_ACTIONS.get(name)
    uuid = instance["uuid"]
    if (action is None or instance["deleted"] or instance["host"] != agent.host
            or instance["task_state"] != action.task_value):
        return       # already done, or no longer wanted
    kwargs = {**action.args, **(payload.get("args") or {})}
    try:
        await getattr(agent.driver, action.driver_call)(
            instance if action.with_instance else uuid, **kwargs)
        info = await agent.driver.get_info(uuid)
    except DriverError as e:
        log.warning("%s of %s on %s failed: %s", name, uuid, agent.host, e.message)
        await actions.fail_action(agent.rt, uuid, name, host=agent.host, reason=e.message)
        return
    await actions.finish_action(agent.rt, uuid, name, host=agent.host,
                                power_state=int(info.power_state))


async def snapshot(agent: ComputeAgent, instance: dict[str, Any],
                   payload: Mapping[str, Any]) -> None:
    """Stream the driver's copy of the disk into the image made for it."""
    uuid = instance["uuid"]
    if instance["host"] != agent.host:
        return
    if not await snapshots.set_uploading(agent.rt, uuid, str(payload.get("kind"))):
        return
    try:
        disk_format, chunks = await agent.driver.snapshot_data(uuid)
        await snapshots.upload_data(agent.rt, payload, disk_format, chunks)
    except NuboError as e:
        log.warning("snapshot of %s on %s failed: %s", uuid, agent.host, e.message)
        await snapshots.finish(agent.rt, uuid, payload, host=agent.host, error=e.message)
        return
    await snapshots.finish(agent.rt, uuid, payload, host=agent.host)


# ------------------------------------------------------------ resize / migrate


async def _migration(agent: ComputeAgent, payload: Mapping[str, Any]) -> dict[str, Any]:
    async with agent.rt.db.read() as conn:
        return await migrations.get(conn, str(payload["migration_uuid"]))


async def resize_instance(agent: ComputeAgent, instance: dict[str, Any],
                          payload: Mapping[str, Any]) -> None:
    """Source: power off and hand the disk over."""
    if (instance["deleted"] or instance["host"] != agent.host
            or instance["task_state"] != TaskState.RESIZE_MIGRATING.value):
        return
    m = await _migration(agent, payload)
    await agent.driver.migrate_disk_and_power_off(instance["uuid"], m["dest_compute"])
    await resize.migrated(agent.rt, instance["uuid"], m["uuid"])


async def finish_resize(agent: ComputeAgent, instance: dict[str, Any],
                        payload: Mapping[str, Any]) -> None:
    """Destination: define the guest with the new flavor."""
    m = await _migration(agent, payload)
    if (instance["deleted"] or m["dest_compute"] != agent.host
            or instance["task_state"] != TaskState.RESIZE_MIGRATED.value):
        return
    await vifs.move_here(agent, instance)
    await agent.driver.finish_migration(resize.guest_of(instance, m["new_flavor"]))
    info = await agent.driver.get_info(instance["uuid"])
    await resize.finished(agent.rt, instance["uuid"], m["uuid"],
                          power_state=int(info.power_state))
    await _destroy_if_deleted(agent, instance["uuid"])


async def confirm_resize(agent: ComputeAgent, instance: dict[str, Any],
                         payload: Mapping[str, Any]) -> None:
    """Source: forget the old guest (unless the move stayed on this host)."""
    m = await _migration(agent, payload)
    if m["status"] != "confirming" or m["source_compute"] != agent.host:
        return
    if m["dest_compute"] != agent.host:
        await agent.driver.destroy(instance["uuid"])
    else:
        await agent.driver.confirm_migration(instance["uuid"])
    await resize.confirmed(agent.rt, instance["uuid"], m["uuid"])


async def revert_resize(agent: ComputeAgent, instance: dict[str, Any],
                        payload: Mapping[str, Any]) -> None:
    """Destination: drop the new guest (unless the move stayed on this host)."""
    m = await _migration(agent, payload)
    if m["status"] != "reverting" or m["dest_compute"] != agent.host:
        return
    if m["source_compute"] != agent.host:
        await agent.driver.destroy(instance["uuid"])
    await resize.dest_reverted(agent.rt, instance["uuid"], m["uuid"])


async def finish_revert_resize(agent: ComputeAgent, instance: dict[str, Any],
                               payload: Mapping[str, Any]) -> None:
    """Source: bring the old guest back with the old flavor."""
    m = await _migration(agent, payload)
    if m["status"] != "reverting" or m["source_compute"] != agent.host:
        return
    await vifs.move_here(agent, instance)
    await agent.driver.finish_revert_migration(resize.guest_of(instance, m["old_flavor"]))
    info = await agent.driver.get_info(instance["uuid"])
    await resize.reverted(agent.rt, instance["uuid"], m["uuid"],
                          power_state=int(info.power_state))
    await _destroy_if_deleted(agent, instance["uuid"])


async def _destroy_if_deleted(agent: ComputeAgent, uuid: str) -> None:
    """A delete during a move tells every host involved to destroy its copy; one
    that defined the guest after that message ran destroys it here."""
    from nubo.compute import conductor

    fresh = await conductor.get_instance(agent.rt, uuid, extras=False)
    if fresh is None or fresh["deleted"]:
        await agent.driver.destroy(uuid)


# ------------------------------------------------------------------- shelve


async def shelve(agent: ComputeAgent, instance: dict[str, Any],
                 payload: Mapping[str, Any]) -> None:
    """Power off and store the disk in the shelved image."""
    uuid = instance["uuid"]
    if instance["host"] != agent.host or not await shelving.set_task(
            agent.rt, uuid, TaskState.SHELVING, TaskState.SHELVING_IMAGE_UPLOADING):
        return
    try:
        if (await agent.driver.get_info(uuid)).power_state != PowerState.SHUTDOWN:
            await agent.driver.power_off(uuid)
        disk_format, chunks = await agent.driver.snapshot_data(uuid)
        await snapshots.upload_data(agent.rt, payload, disk_format, chunks)
    except NuboError as e:
        await shelving.shelved(agent.rt, uuid, payload, host=agent.host, error=e.message)
        return
    await shelving.shelved(agent.rt, uuid, payload, host=agent.host)


async def shelve_offload(agent: ComputeAgent, instance: dict[str, Any],
                         payload: Mapping[str, Any]) -> None:
    if (instance["host"] != agent.host
            or instance["task_state"] != TaskState.SHELVING_OFFLOADING.value):
        return
    await agent.driver.destroy(instance["uuid"])
    await shelving.offloaded(agent.rt, instance["uuid"], host=agent.host)


async def unshelve(agent: ComputeAgent, instance: dict[str, Any],
                   payload: Mapping[str, Any]) -> None:
    """Power the guest on where it is, or spawn it here from the shelved image."""
    uuid = instance["uuid"]
    if instance["host"] != agent.host or instance["task_state"] != \
            TaskState.UNSHELVING.value:
        return
    try:
        if uuid in await agent.driver.list_instances():
            await agent.driver.power_on(uuid)
        else:
            await vifs.move_here(agent, instance)
            image = instance["system_metadata"].get("shelved_image_id")
            await agent.driver.spawn({**instance, "image_ref": image or
                                      instance["image_ref"]})
        info = await agent.driver.get_info(uuid)
    except NuboError as e:
        await shelving.unshelve_failed(agent.rt, uuid, host=agent.host, reason=e.message)
        return
    await shelving.unshelved(agent.rt, uuid, payload, host=agent.host,
                             power_state=int(info.power_state))


async def rebuild(agent: ComputeAgent, instance: dict[str, Any],
                  payload: Mapping[str, Any]) -> None:
    """Destroy the guest and spawn it again from the (new) image."""
    uuid = instance["uuid"]
    if instance["host"] != agent.host or not await rebuilding.set_spawning(agent.rt, uuid):
        return
    try:
        await agent.driver.destroy(uuid)
        await agent.driver.spawn(instance)
        if not rebuilding.wants_power(instance):
            await agent.driver.power_off(uuid)
        info = await agent.driver.get_info(uuid)
    except NuboError as e:
        await rebuilding.rebuilt(agent.rt, uuid, host=agent.host, power_state=0,
                                 error=e.message)
        return
    await rebuilding.rebuilt(agent.rt, uuid, host=agent.host,
                             power_state=int(info.power_state))


async def live_migration(agent: ComputeAgent, instance: dict[str, Any],
                         payload: Mapping[str, Any]) -> None:
    """Source: send the guest to the destination."""
    m = await _migration(agent, payload)
    if m["status"] != "running" or m["source_compute"] != agent.host:
        return
    try:
        state = await agent.driver.live_migrate(instance["uuid"], m["dest_compute"])
    except DomainNotFound:
        await live.lost(agent.rt, instance["uuid"], m["uuid"], host=agent.host,
                        reason=f"Instance {instance['uuid']} was lost during its live "
                               f"migration from {agent.host}.")
        return
    except NuboError as e:
        await live.failed(agent.rt, instance["uuid"], m["uuid"], reason=e.message)
        return
    if await live.status_of(agent.rt, m["uuid"]) == "cancelled":
        # aborted meanwhile: take the guest back
        await agent.driver.post_live_migration_at_destination(instance, state)
        await live.aborted(agent.rt, instance["uuid"], m["uuid"])
        return
    await live.sent(agent.rt, instance["uuid"], m["uuid"], state)


async def post_live_migration(agent: ComputeAgent, instance: dict[str, Any],
                              payload: Mapping[str, Any]) -> None:
    """Destination: take the guest over."""
    m = await _migration(agent, payload)
    if m["status"] != "post-migrating" or m["dest_compute"] != agent.host:
        return
    if payload.get("state") is None and \
            instance["uuid"] not in await agent.driver.list_instances():
        # taken up after a restart (the guest's state went with the lost message),
        # and the guest never arrived
        await live.lost(agent.rt, instance["uuid"], m["uuid"], host=agent.host,
                        reason=f"Instance {instance['uuid']} was lost during its live "
                               f"migration to {agent.host}.")
        return
    await vifs.move_here(agent, instance)
    if payload.get("state") is not None:
        await agent.driver.post_live_migration_at_destination(instance, payload["state"])
    info = await agent.driver.get_info(instance["uuid"])
    await live.completed(agent.rt, instance["uuid"], m["uuid"],
                         power_state=int(info.power_state))
    await _destroy_if_deleted(agent, instance["uuid"])


async def evacuate_spawn(agent: ComputeAgent, instance: dict[str, Any],
                         payload: Mapping[str, Any]) -> None:
    """Destination of an evacuation: spawn the guest again here."""
    m = await _migration(agent, payload)
    if m["status"] != "pre-migrating" or m["dest_compute"] != agent.host:
        return
    await vifs.move_here(agent, instance)
    try:
        await agent.driver.spawn(instance)
        info = await agent.driver.get_info(instance["uuid"])
    except NuboError as e:
        await evacuation.evacuated(agent.rt, instance["uuid"], m["uuid"], power_state=0,
                                   error=e.message)
        return
    await evacuation.evacuated(agent.rt, instance["uuid"], m["uuid"],
                               power_state=int(info.power_state))
    await _destroy_if_deleted(agent, instance["uuid"])


MOVE_OPERATIONS = {"resize_instance": resize_instance, "finish_resize": finish_resize,
                   "confirm_resize": confirm_resize, "revert_resize": revert_resize,
                   "finish_revert_resize": finish_revert_resize, "shelve": shelve,
                   "shelve_offload": shelve_offload, "unshelve": unshelve,
                   "rebuild": rebuild, "live_migration": live_migration,
                   "post_live_migration": post_live_migration,
                   "evacuate_spawn": evacuate_spawn}


# ------------------------------------------------------------ after a restart

# tasks whose work died with the process and cannot be taken up again (the
# message that carried the image id and the caller is gone): cleared
ABANDONED_TASKS = frozenset({TaskState.IMAGE_SNAPSHOT.value, TaskState.IMAGE_BACKUP.value,
                             TaskState.IMAGE_UPLOADING.value})


async def resume_tasks(agent: ComputeAgent, desired: list[dict[str, Any]]) -> None:
    """On start: an action the driver already did is recorded as done; one it did
    not is done again; a snapshot in flight is given up."""
    by_task = {a.task_value: a for a in actions.AGENT_ACTIONS.values() if a.task}
    have = set(await agent.driver.list_instances())
    for inst in desired:
        uuid, task = inst["uuid"], inst["task_state"]
        action = by_task.get(task)
        if action is not None and uuid in have:
            info = await agent.driver.get_info(uuid)
            if action.power_state is not None and info.power_state == action.power_state:
                await actions.finish_action(agent.rt, uuid, action.name, host=agent.host,
                                            power_state=int(info.power_state))
            else:
                await server_action(agent, inst, {"action": action.name})
        elif task in ABANDONED_TASKS:
            log.warning("snapshot of %s on %s died with the agent; task cleared",
                        uuid, agent.host)
            await actions.clear_task(agent.rt, uuid, task, reason="agent restarted")


def register_all() -> None:
    from nubo.compute.agent import deferred_delete
    from nubo.compute.agent.manager import register

    register(actions.AGENT_OP, server_action)
    register(snapshots.AGENT_OP, snapshot)
    for name, op in {**MOVE_OPERATIONS, **deferred_delete.OPERATIONS}.items():
        register(name, op)
