"""The agent's side of soft delete and restore: power the guest off or on and
report through ``service.soft_delete`` (the guest itself is kept until the server
is reclaimed or force-deleted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nubo.compute.service import soft_delete as deferred
from nubo.compute.states import PowerState, TaskState
from nubo.core.errors import NuboError

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent


async def soft_delete(agent: ComputeAgent, instance: dict[str, Any],
                      payload: Mapping[str, Any]) -> None:
    uuid = instance["uuid"]
    if instance["host"] != agent.host or \
            instance["task_state"] != TaskState.SOFT_DELETING.value:
        return
    power = int(PowerState.NOSTATE)
    if uuid in await agent.driver.list_instances():
        if (await agent.driver.get_info(uuid)).power_state != PowerState.SHUTDOWN:
            await agent.driver.power_off(uuid)
        power = int((await agent.driver.get_info(uuid)).power_state)
    await deferred.soft_deleted(agent.rt, uuid, host=agent.host, power_state=power)


async def restore(agent: ComputeAgent, instance: dict[str, Any],
                  payload: Mapping[str, Any]) -> None:
    uuid = instance["uuid"]
    if instance["host"] != agent.host or instance["task_state"] != TaskState.RESTORING.value:
        return
    try:
        if (await agent.driver.get_info(uuid)).power_state != PowerState.RUNNING:
            await agent.driver.power_on(uuid)
        info = await agent.driver.get_info(uuid)
    except NuboError as e:
        await deferred.restored(agent.rt, uuid, host=agent.host, power_state=0,
                                error=e.message)
        return
    await deferred.restored(agent.rt, uuid, host=agent.host,
                            power_state=int(info.power_state))


OPERATIONS = {"soft_delete": soft_delete, "restore": restore}
# what a restarted agent does again: the task a server was left in, and its operation
RESUMABLE = {TaskState.SOFT_DELETING.value: soft_delete, TaskState.RESTORING.value: restore}


async def resume_tasks(agent: ComputeAgent, desired: list[dict[str, Any]]) -> None:
    """On start: soft deletes and restores the agent was doing are done again (both
    only power the guest off or on, so doing them twice is harmless)."""
    for inst in desired:
        op = RESUMABLE.get(inst["task_state"] or "")
        if op is not None:
            await op(agent, inst, {})
