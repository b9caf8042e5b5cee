"""The agent's side of server actions: ask the driver, report the outcome through
``service.actions`` (the agent never writes the database itself)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nubo.compute.agent.driver import ComputeDriver, DriverError
from nubo.compute.service import actions, snapshots
from nubo.core.errors import NuboError
from nubo.core.runtime import Runtime

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)


async def server_action(agent: ComputeAgent, instance: dict[str, Any],
                        payload: Mapping[str, Any]) -> None:
    name = str(payload.get("action", ""))
    action = actions.AGENT_ACTIONS.get(name)
    uuid = instance["uuid"]
    if (action is None or instance["deleted"] or instance["host"] != agent.host
            or instance["task_state"] != action.task.value):
        return       # already done, or no longer wanted
    try:
        await getattr(agent.driver, action.driver_call)(uuid, **action.args)
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
        data = await agent.driver.snapshot(uuid)
        await snapshots.upload(agent.rt, payload, data)
    except NuboError as e:
        log.warning("snapshot of %s on %s failed: %s", uuid, agent.host, e.message)
        await snapshots.finish(agent.rt, uuid, payload, host=agent.host, error=e.message)
        return
    await snapshots.finish(agent.rt, uuid, payload, host=agent.host)


def local_driver(rt: Runtime, host: str) -> ComputeDriver | None:
    """The driver of ``host`` when its agent runs in this process."""
    from nubo.compute import workers

    agents = rt.state.get(workers.STATE_KEY, ([], None, []))[0]
    for agent in agents:
        if agent.host == host:
            driver: ComputeDriver = agent.driver
            return driver
    return None


def register_all() -> None:
    from nubo.compute.agent.manager import register

    register(actions.AGENT_OP, server_action)
    register(snapshots.AGENT_OP, snapshot)
