"""``nubo agent network`` and ``nubo agent compute``: one host's network or compute
agent as a process of its own, beside a cloud whose database and bus it shares (the
controller shape: PostgreSQL or MariaDB, RabbitMQ). The host may be a network
namespace of this machine standing in for another host (``--netns``): the agent's
data plane (bridges, firewall; libvirtd and its guests) is made inside it, while
the agent reaches the database and the bus from here."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from nubo.core.config import Settings
from nubo.core.log import setup_logging
from nubo.core.runtime import Runtime

log = logging.getLogger("nubo")


async def network_agent(settings: Settings, host: str, *, netns: str | None,
                        local_ip: str) -> None:
    """Run the Linux bridge agent of ``host`` until SIGTERM or SIGINT."""
    from nubo.network import workers
    from nubo.network.agent.manager import NetworkAgent
    from nubo.network.agent.roles import COMPUTE_ROLES

    if netns:
        settings.network.netns_hosts[host] = {"netns": netns, "local_ip": local_ip}
    elif local_ip:
        settings.network.local_ip = local_ip
    await _serve(settings, "network", host, netns, lambda rt: NetworkAgent(
        rt, host, workers.make_driver(rt, host), COMPUTE_ROLES))


async def compute_agent(settings: Settings, host: str, *, netns: str | None) -> None:
    """Run the compute agent of ``host`` (``[compute] driver``) until SIGTERM or
    SIGINT. With the libvirt driver and ``netns``, the host's libvirtd runs inside
    the namespace (as for the all-in-one's namespace hosts) and so do its guests."""
    from nubo.compute import workers
    from nubo.compute.agent.manager import ComputeAgent

    if netns:
        settings.network.netns_hosts[host] = {"netns": netns}
    await _serve(settings, "compute", host, netns,
                 lambda rt: ComputeAgent(rt, host, workers.make_driver(rt, host)))


async def _serve(settings: Settings, kind: str, host: str, netns: str | None,
                 make: Callable[[Runtime], Any]) -> None:
    from nubo.cli.launcher import load_specs, running

    setup_logging(settings.core.log_level, settings.core.log_format)
    # database, bus and relay, and the services' policies (an agent calls into them)
    # but none of their workers
    specs = load_specs(settings.core.enabled_services)
    async with running(settings, specs, start=False) as rt:
        agent = make(rt)
        await agent.start()
        log.info("%s agent of %s started%s", kind, host,
                 f" in namespace {netns}" if netns else "")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await agent.stop()
