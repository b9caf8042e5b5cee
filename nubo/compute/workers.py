"""What the compute service runs beside its API in the all-in-one: the agents of
``[compute] fake_hosts`` fake hypervisors (or, with the libvirt driver, of this
machine and of its namespace hosts), then the conductor and its periodic tasks
(``periodic.py``).

Agents start first so that their queues exist before the conductor, reconciling,
hands them work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

from nubo.core.errors import ConfigError
from nubo.core.runtime import Runtime

STATE_KEY = "compute.workers"
log = logging.getLogger(__name__)


def fake_host_names(count: int) -> list[str]:
    return [f"fake-host-{n}" for n in range(1, count + 1)]


def local_host_names(rt: Runtime) -> list[str]:
    """A real hypervisor's hosts: this machine, and the hosts of ``[network]
    netns_hosts`` (network namespaces of this machine standing in for hosts)."""
    return [socket.gethostname(), *sorted(rt.settings.network.netns_hosts)]


def make_driver(rt: Runtime, host: str) -> Any:
    if rt.settings.compute.driver == "fake":
        from nubo.compute.agent.fake import FakeDriver

        return FakeDriver(host, rt.settings.compute, rt.settings.state_path)
    if rt.settings.compute.driver == "libvirt":
        from nubo.compute.agent.libvirt.driver import LibvirtDriver

        netns = rt.settings.network.netns_hosts.get(host, {}).get("netns")
        return LibvirtDriver(rt, host, netns=netns)
    raise ConfigError(f"unknown compute driver {rt.settings.compute.driver!r}; "
                      "known: fake, libvirt")


async def start(rt: Runtime) -> None:
    from nubo.compute import conductor, periodic
    from nubo.compute.agent.manager import ComputeAgent

    agents = []
    names = (fake_host_names(rt.settings.compute.fake_hosts)
             if rt.settings.compute.driver == "fake" else local_host_names(rt))
    for host in names:
        agent = ComputeAgent(rt, host, make_driver(rt, host))
        await agent.start()
        agents.append(agent)
    subscription = await conductor.start(rt)
    beats = [asyncio.create_task(_control_service(rt, binary), name=binary)
             for binary in CONTROL_SERVICES]
    beats += periodic.start(rt)
    rt.state[STATE_KEY] = (agents, subscription, beats)


CONTROL_SERVICES = ("nova-conductor", "nova-scheduler")


async def _control_service(rt: Runtime, binary: str) -> None:
    """The conductor's and scheduler's rows in os-services, kept fresh."""
    from nubo.compute.service import hosts

    service = await hosts.register_service(rt, socket.gethostname(), binary)
    while True:
        await asyncio.sleep(rt.settings.compute.report_interval)
        try:
            if not await hosts.heartbeat(rt, service["id"]):
                service = await hosts.register_service(rt, socket.gethostname(), binary)
        except Exception:
            log.exception("heartbeat of %s failed", binary)


async def stop(rt: Runtime) -> None:
    agents, subscription, beats = rt.state.pop(STATE_KEY, ([], None, []))
    for task in beats:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if subscription is not None:
        await subscription.cancel()
    for agent in agents:
        await agent.stop()
