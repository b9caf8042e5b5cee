"""The agent's side of a server's networking, as Nova's compute manager does it:
allocate the ports of a server it builds (bound to this host), start the guest and
wait for networking to report its ports plugged (``network-vif-plugged``), attach
and detach interfaces, move port bindings here with a server, and refresh the
network info on ``network-changed`` (a floating IP came or went) or
``network-vif-deleted`` (a port was deleted under the server).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nubo.compute import conductor, network_info
from nubo.compute.agent import events
from nubo.compute.agent.driver import DomainNotFound, DriverError
from nubo.compute.service import info_cache, instance_actions, networking
from nubo.compute.states import TaskState
from nubo.core.errors import NuboError

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)
PLUGGED = "network-vif-plugged"
NOT_RESCHEDULING = "Failed to allocate the network(s), not rescheduling."
ATTACH_EVENT = "compute_attach_interface"
DETACH_EVENT = "compute_detach_interface"
ACTIONS = {ATTACH_EVENT: "attach_interface", DETACH_EVENT: "detach_interface"}


async def allocate(agent: ComputeAgent, instance: Mapping[str, Any]
                   ) -> list[dict[str, Any]] | None:
    """The network info of a server about to spawn here, its ports made or taken and
    bound to this host; None when that failed (the build is aborted, not
    rescheduled: another host would fail the same way)."""
    try:
        return await networking.allocate_for_instance(agent.rt, instance, agent.host)
    except NuboError as e:
        log.warning("networks of %s on %s: %s", instance["uuid"], agent.host, e.message)
        await conductor.build_aborted(agent.rt, instance["uuid"], agent.host,
                                      f"{NOT_RESCHEDULING} {e.message}")
        return None


def _expected(agent: ComputeAgent, info: list[dict[str, Any]]) -> list[events.Key]:
    settings = agent.rt.settings
    if (not agent.driver.waits_for_vif_plugged() or settings.compute.vif_plugging_timeout <= 0
            or "network" not in settings.core.enabled_services):
        return []       # nobody would send the events
    return [(PLUGGED, port) for port in network_info.inactive(info)]


async def spawn_guest(agent: ComputeAgent, instance: Mapping[str, Any],
                      info: list[dict[str, Any]]) -> bool:
    """Start the guest with its ports, waiting for them to be plugged as Nova's
    libvirt driver does ([compute] vif_plugging_timeout / vif_plugging_is_fatal);
    False when the build was aborted. DriverError from the driver goes up."""
    uuid = instance["uuid"]
    keys = _expected(agent, info)
    futures = agent.events.prepare(uuid, keys)
    if keys:
        # an event that came before the waiter was there: the port says it already
        fresh = await networking.refresh(agent.rt, uuid)
        for port in set(network_info.port_ids(fresh)) - set(network_info.inactive(fresh)):
            agent.events.pop(uuid, (PLUGGED, port), "completed")
    try:
        await agent.driver.spawn({**instance, "network_info": info})
    except BaseException:
        agent.events.forget(uuid, keys)
        raise
    settings = agent.rt.settings.compute
    if keys:
        log.info("%s spawned on %s; waiting for ports %s to be plugged", uuid, agent.host,
                 " ".join(tag for _name, tag in keys))
    failed, missing = await events.wait(futures, settings.vif_plugging_timeout)
    agent.events.forget(uuid, keys)
    if not (failed or missing):
        return True
    now = await conductor.get_instance(agent.rt, uuid, extras=False)
    if now is None or now["deleted"] or now["task_state"] == TaskState.DELETING.value:
        return False        # deleted while waiting: its delete destroys the guest
    ports = ", ".join(tag for _name, tag in failed + missing)
    if not settings.vif_plugging_is_fatal:
        log.warning("ports %s of %s not reported plugged; starting anyway", ports, uuid)
        return True
    await agent.driver.destroy(uuid)
    await conductor.build_aborted(agent.rt, uuid, agent.host,
                                  f"{NOT_RESCHEDULING} Virtual Interface creation failed "
                                  f"(ports not plugged: {ports}).")
    return False


async def move_here(agent: ComputeAgent, instance: Mapping[str, Any]) -> None:
    """The server comes to this host (resize, migration, evacuation, unshelve,
    revert): its ports' bindings follow it."""
    try:
        await networking.bind_ports_to_host(agent.rt, instance, agent.host)
    except NuboError as e:
        log.warning("ports of %s not bound to %s: %s", instance["uuid"], agent.host,
                    e.message)


# ------------------------------------------------------------- interfaces


async def attach_interface(agent: ComputeAgent, instance: dict[str, Any],
                           payload: Mapping[str, Any]) -> None:
    """Plug a port the API gave the server (already bound here) into the guest."""
    uuid, port_id = instance["uuid"], str(payload.get("port_id", ""))
    if instance["deleted"] or instance["host"] != agent.host:
        return
    vif = _vif(await networking.refresh(agent.rt, uuid), port_id)
    try:
        if vif is None:
            raise DriverError(f"Port {port_id} is no longer the server's.")
        await agent.driver.attach_interface(instance, vif)
    except DriverError as e:
        log.warning("attach of %s to %s failed: %s", port_id, uuid, e.message)
        await networking.deallocate_port_for_instance(agent.rt, instance, port_id)
        await _finish(agent, uuid, ATTACH_EVENT, e.message)
        return
    await _finish(agent, uuid, ATTACH_EVENT)


async def detach_interface(agent: ComputeAgent, instance: dict[str, Any],
                           payload: Mapping[str, Any]) -> None:
    """Unplug a port from the guest, then release it (deleted if compute made it,
    else unbound)."""
    uuid, port_id = instance["uuid"], str(payload.get("port_id", ""))
    if instance["deleted"] or instance["host"] != agent.host:
        return
    vif = _vif(await networking.refresh(agent.rt, uuid), port_id)
    if vif is not None:
        try:
            await agent.driver.detach_interface(instance, vif)
        except DomainNotFound:
            pass
        except DriverError as e:
            await _finish(agent, uuid, DETACH_EVENT, e.message)
            return
    await networking.deallocate_port_for_instance(agent.rt, instance, port_id)
    await _finish(agent, uuid, DETACH_EVENT)


def _vif(info: list[dict[str, Any]], port_id: str) -> dict[str, Any] | None:
    return next((v for v in info if v["id"] == port_id), None)


async def _finish(agent: ComputeAgent, uuid: str, event: str, error: str | None = None
                  ) -> None:
    """Finish the event under its request's action; where no action has the request's
    id, under the latest one of its kind (not merely the latest: a detach asked for
    while its attach was plugging is the server's latest action by then)."""
    async with agent.rt.db.transaction() as tx:
        await instance_actions.finish_event(tx, uuid, event, host=agent.host,
                                            result="Error" if error else "Success",
                                            details=error, action=ACTIONS[event])


# ----------------------------------------------------------------- events


async def on_network_changed(agent: ComputeAgent, uuid: str, event: Mapping[str, Any]
                             ) -> None:
    instance = await conductor.get_instance(agent.rt, uuid, extras=False)
    if instance is not None and not instance["deleted"]:
        await networking.refresh(agent.rt, uuid)


async def on_vif_deleted(agent: ComputeAgent, uuid: str, event: Mapping[str, Any]) -> None:
    """A port of the server was deleted in networking: out of the guest and of the
    server's records."""
    instance = await conductor.get_instance(agent.rt, uuid, extras=False)
    port_id = str(event.get("tag") or "")
    if instance is None or instance["deleted"] or not port_id:
        return
    async with agent.rt.db.read() as conn:
        vif = _vif(await info_cache.network_info(conn, uuid), port_id)
    if vif is not None and instance["host"] == agent.host:
        try:
            await agent.driver.detach_interface(instance, vif)
        except DriverError:
            pass
    await networking.forget_port(agent.rt, uuid, port_id)


def register_all() -> None:
    from nubo.compute.agent.manager import register

    register("attach_interface", attach_interface, serial=True)
    register("detach_interface", detach_interface, serial=True)
    events.register("network-changed", on_network_changed)
    events.register("network-vif-deleted", on_vif_deleted)
