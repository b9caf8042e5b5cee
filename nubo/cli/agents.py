"""``nubo agent network``: one host's network agent as a process of its own,
beside a cloud whose database and bus it shares (the controller shape:
PostgreSQL or MariaDB, RabbitMQ). The host may be a network namespace of this
machine standing in for another host (``--netns``): the agent's data plane is
made inside it, while the agent reaches the database and the bus from here."""

from __future__ import annotations

import asyncio
import logging
import signal

from nubo.core.config import Settings
from nubo.core.log import setup_logging

log = logging.getLogger("nubo")


async def network_agent(settings: Settings, host: str, *, netns: str | None,
                        local_ip: str) -> None:
    """Run the Linux bridge agent of ``host`` until SIGTERM or SIGINT."""
    from nubo.cli.launcher import running
    from nubo.network import workers
    from nubo.network.agent.manager import NetworkAgent
    from nubo.network.agent.roles import COMPUTE_ROLES

    setup_logging(settings.core.log_level, settings.core.log_format)
    if netns:
        settings.network.netns_hosts[host] = {"netns": netns, "local_ip": local_ip}
    elif local_ip:
        settings.network.local_ip = local_ip
    async with running(settings, []) as rt:      # database, bus and relay; no services
        agent = NetworkAgent(rt, host, workers.make_driver(rt, host), COMPUTE_ROLES)
        await agent.start()
        log.info("network agent of %s started%s", host, f" in namespace {netns}" if netns
                 else "")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await agent.stop()
