"""Power states of libvirt domains and the power actions: clean stop (ACPI, then
destroy after a timeout), start, soft and hard reboot, pause, suspend (managed
save) and resume.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nubo.compute.agent.driver import DriverError
from nubo.compute.agent.libvirt.connection import Connection, constants
from nubo.compute.states import PowerState

log = logging.getLogger(__name__)
POLL = 0.25

# virDomainState -> Nova's power state (a shut-off domain with a managed save image
# is a suspended one)
_STATES = {0: PowerState.NOSTATE, 1: PowerState.RUNNING, 2: PowerState.RUNNING,
           3: PowerState.PAUSED, 4: PowerState.RUNNING, 5: PowerState.SHUTDOWN,
           6: PowerState.CRASHED, 7: PowerState.SUSPENDED}


def power_state(state: int, managed_save: bool) -> PowerState:
    """The power state of a domain in libvirt ``state`` (VIR_DOMAIN_*), with or without
    a managed save image."""
    found = _STATES.get(state, PowerState.NOSTATE)
    if found == PowerState.SHUTDOWN and managed_save:
        return PowerState.SUSPENDED
    return found


def _state(dom: Any) -> PowerState:
    return power_state(int(dom.state()[0]), bool(dom.hasManagedSaveImage(0)))


async def state_of(conn: Connection, uuid: str) -> PowerState:
    return await conn.on_domain(uuid, _state)


async def wait_for(conn: Connection, uuid: str, wanted: PowerState, seconds: float) -> bool:
    """Whether the domain reached ``wanted`` within ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if await state_of(conn, uuid) == wanted:
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL)


def _destroy(dom: Any) -> None:
    if dom.isActive():
        dom.destroy()


async def hard_stop(conn: Connection, uuid: str) -> None:
    await conn.on_domain(uuid, _destroy)


async def clean_stop(conn: Connection, uuid: str, grace: float) -> None:
    """ACPI power button, then destroy when the guest has not powered off within
    ``grace`` seconds (a paused guest cannot hear the button: destroyed at once)."""
    state = await state_of(conn, uuid)
    if state in (PowerState.SHUTDOWN, PowerState.SUSPENDED):
        # a suspended guest powered off forgets the memory it saved
        await conn.on_domain(uuid, _drop_managed_save)
        return
    if state == PowerState.RUNNING and grace > 0:
        try:
            await conn.on_domain(uuid, lambda d: d.shutdown())
        except DriverError as e:
            log.info("clean shutdown of %s refused (%s); destroying it", uuid, e.message)
        else:
            if await wait_for(conn, uuid, PowerState.SHUTDOWN, grace):
                return
            log.info("%s did not power off within %ss; destroying it", uuid, grace)
    await hard_stop(conn, uuid)


async def start(conn: Connection, uuid: str) -> None:
    """Start a stopped domain (restoring its managed save image when it has one)."""
    def run(dom: Any) -> None:
        if not dom.isActive():
            dom.create()

    await conn.on_domain(uuid, run)


async def reboot(conn: Connection, uuid: str, *, hard: bool, grace: float) -> None:
    """Soft: a clean stop and a start (a guest that does not stop in time is reset
    as a hard reboot would); hard: destroy and start."""
    if hard:
        await hard_stop(conn, uuid)
    else:
        await clean_stop(conn, uuid, grace)
    await conn.on_domain(uuid, _drop_managed_save)
    await start(conn, uuid)


def _drop_managed_save(dom: Any) -> None:
    if dom.hasManagedSaveImage(0):
        dom.managedSaveRemove(0)


async def _require(conn: Connection, uuid: str, op: str, *allowed: PowerState) -> None:
    state = await state_of(conn, uuid)
    if state not in allowed:
        raise DriverError(f"cannot {op} a domain that is {state.name.lower()}")


async def pause(conn: Connection, uuid: str) -> None:
    await _require(conn, uuid, "pause", PowerState.RUNNING)
    await conn.on_domain(uuid, lambda d: d.suspend())


async def unpause(conn: Connection, uuid: str) -> None:
    await _require(conn, uuid, "unpause", PowerState.PAUSED)
    await conn.on_domain(uuid, lambda d: d.resume())


async def suspend(conn: Connection, uuid: str) -> None:
    """The guest's memory to disk (managed save); the domain stops."""
    await _require(conn, uuid, "suspend", PowerState.RUNNING, PowerState.PAUSED)
    await conn.on_domain(uuid, lambda d: d.managedSave(0))


async def resume(conn: Connection, uuid: str) -> None:
    await _require(conn, uuid, "resume", PowerState.SUSPENDED)
    await start(conn, uuid)


async def crash_dump(conn: Connection, uuid: str) -> None:
    """An NMI, which a guest configured for it answers with a crash dump."""
    await _require(conn, uuid, "trigger a crash dump of", PowerState.RUNNING)
    await conn.on_domain(uuid, lambda d: d.injectNMI(0))


def undefine_flags() -> int:
    """Undefine a domain with whatever libvirt keeps beside it."""
    lv = constants()
    return int(lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
               | lv.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
               | lv.VIR_DOMAIN_UNDEFINE_NVRAM)
