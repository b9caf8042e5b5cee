"""What the networking service runs beside its API in the all-in-one: the Nova
notifier's sender and one network agent per host.

The local host is the network node (Linux bridge, DHCP, L3 and metadata agents).
When compute runs fake hypervisors (``[compute] fake_hosts``), each of them gets a
network agent too (Linux bridge), so a port bound to any compute host is plugged by
its host's agent; with the Linux bridge data plane, a fake hypervisor's agent keeps
the fake data plane unless the host is one of ``[network] netns_hosts``.
"""

from __future__ import annotations

import socket
from typing import Any

from nubo.core.errors import ConfigError
from nubo.core.runtime import Runtime
from nubo.network import public_network
from nubo.network.agent.driver import NetworkDriver
from nubo.network.agent.roles import COMPUTE_ROLES, NETWORK_NODE_ROLES, Role

STATE_KEY = "network.workers"


def _fake_hypervisors(rt: Runtime) -> list[str]:
    compute = rt.settings.compute
    if "compute" not in rt.settings.core.enabled_services or compute.driver != "fake":
        return []
    from nubo.compute.workers import fake_host_names

    return fake_host_names(compute.fake_hosts)


def agent_hosts(rt: Runtime) -> dict[str, frozenset[Role]]:
    """The hosts this process runs network agents for, with their roles: this one,
    the fake hypervisors and, with the Linux bridge data plane, the namespace hosts
    of ``[network] netns_hosts``."""
    hosts = {socket.gethostname(): NETWORK_NODE_ROLES}
    network = rt.settings.network
    extra = [*_fake_hypervisors(rt)]
    if network.agent_driver == "linuxbridge":
        extra += list(network.netns_hosts)
    for name in extra:
        hosts[name] = hosts.get(name, frozenset()) | COMPUTE_ROLES
    return hosts


def make_driver(rt: Runtime, host: str) -> NetworkDriver:
    """The host's data plane: ``[network] agent_driver``'s, but a fake one for a fake
    hypervisor that is no namespace host (its guests have no taps to plug)."""
    network = rt.settings.network
    where = network.netns_hosts.get(host, {})
    if network.agent_driver == "fake" or (
            network.agent_driver == "linuxbridge" and not where
            and host in _fake_hypervisors(rt) and host != socket.gethostname()):
        from nubo.network.agent.fake import FakeDriver

        return FakeDriver(host, network, rt.settings.state_path)
    if network.agent_driver == "linuxbridge":
        from nubo.network.agent.linuxbridge.driver import LinuxBridgeDriver
        from nubo.network.compute_client import CloudMetadata

        bridges = dict(network.bridge_mappings)
        if public_network.wanted(rt.settings) and not where:
            bridges.setdefault(public_network.PHYSNET, network.public_bridge)
        return LinuxBridgeDriver(host, network, rt.settings.state_path,
                                 netns=where.get("netns"), local_ip=where.get("local_ip", ""),
                                 bridge_mappings=bridges,
                                 metadata=None if where else CloudMetadata(rt))
    raise ConfigError(f"unknown network agent driver {network.agent_driver!r}; "
                      "known: fake, linuxbridge")


async def start(rt: Runtime) -> None:
    from nubo.network import notifier
    from nubo.network.agent.manager import NetworkAgent

    if public_network.wanted(rt.settings):      # before the agents that use it
        from nubo.core.owner import owner_of

        await public_network.ensure_bridge(rt.settings.network,
                                           owner_of(rt.settings.state_path))
    sender = await notifier.start(rt)
    agents: list[Any] = []
    rt.state[STATE_KEY] = (sender, agents)
    for host, roles in sorted(agent_hosts(rt).items()):
        agent = NetworkAgent(rt, host, make_driver(rt, host), roles)
        await agent.start()
        agents.append(agent)


async def stop(rt: Runtime) -> None:
    sender, agents = rt.state.pop(STATE_KEY, (None, []))
    for agent in agents:
        await agent.stop()
    if sender is not None:
        await sender.cancel()
