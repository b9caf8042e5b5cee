"""The hypervisor's power states brought into the database, as Nova's
``_sync_power_states`` does: when an agent starts and every ``[compute]
sync_power_state_interval`` seconds.

A guest that powered itself off (or was stopped behind nubo's back) makes its
ACTIVE server STOPPED; a STOPPED server whose guest runs has it stopped again;
otherwise only the recorded power state follows the hypervisor. Servers with a
task under way are left to it, and every change is a compare-and-set on the
state that was read (``conductor.power_synced``), so a user's action that starts
meanwhile wins.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nubo.compute import conductor
from nubo.compute.agent.driver import DomainNotFound, DriverError
from nubo.compute.states import ON_HOST, PowerState, VmState

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)

# the guest is gone from these server states when the hypervisor says so: stopped
STOPS = {VmState.ACTIVE: frozenset({PowerState.SHUTDOWN, PowerState.CRASHED,
                                    PowerState.SUSPENDED}),
         VmState.PAUSED: frozenset({PowerState.SHUTDOWN, PowerState.CRASHED}),
         VmState.SUSPENDED: frozenset({PowerState.SHUTDOWN, PowerState.CRASHED})}


@dataclass(frozen=True)
class Sync:
    power_state: int
    vm_state: str | None = None       # a new vm_state (STOPPED), or None to keep it
    power_off: bool = False           # the guest runs although the server is stopped


def decide(vm_state: str, task_state: str | None, recorded: int, actual: PowerState
           ) -> Sync | None:
    """What to do about one server, from its recorded state and its guest's power
    state; None: nothing."""
    if task_state is not None or actual == PowerState.NOSTATE:
        return None
    try:
        vm = VmState(vm_state)
    except ValueError:
        return None
    if vm not in ON_HOST:
        return None
    if actual in STOPS.get(vm, frozenset()):
        return Sync(int(PowerState.SHUTDOWN), VmState.STOPPED.value)
    if vm == VmState.STOPPED and actual in (PowerState.RUNNING, PowerState.PAUSED):
        return Sync(int(PowerState.SHUTDOWN), power_off=True)
    if int(actual) != int(recorded):
        return Sync(int(actual))
    return None


async def sync_host(agent: ComputeAgent) -> None:
    """One pass over the live servers the database puts on the agent's host."""
    for inst in await conductor.instances_on_host(agent.rt, agent.host):
        uuid = inst["uuid"]
        try:
            actual = (await agent.driver.get_info(uuid)).power_state
            decision = decide(inst["vm_state"], inst["task_state"],
                              int(inst["power_state"] or 0), actual)
            if decision is None:
                continue
            if decision.power_off:
                log.info("%s is stopped but its guest runs on %s: stopping it", uuid,
                         agent.host)
                await agent.driver.power_off(uuid)
            elif decision.vm_state is not None:
                log.info("the guest of %s on %s is %s: the server is now stopped", uuid,
                         agent.host, actual.name.lower())
            await conductor.power_synced(agent.rt, uuid, agent.host,
                                         seen_vm_state=inst["vm_state"],
                                         power_state=decision.power_state,
                                         vm_state=decision.vm_state)
        except (DomainNotFound, DriverError) as e:
            log.debug("power state of %s not synced: %s", uuid, e.message)


async def run_periodically(agent: ComputeAgent) -> None:
    interval = agent.rt.settings.compute.sync_power_state_interval
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            await sync_host(agent)
        except Exception:       # the next pass tries again
            log.exception("power state sync of %s failed", agent.host)
