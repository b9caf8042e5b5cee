"""Which part of a host a networking event touches: from a bus message (ids only)
to the ``Scope`` the host's agent syncs.

Events name objects by id; the agent widens them with what it knows it has (the
ports on a network, the routers carrying a floating IP), and, where an event cannot
be narrowed down (a subnet that is gone already), syncs every object of the kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from nubo.network.agent.reconcile import Scope
from nubo.network.agent.roles import Role
from nubo.network.service import host_state

if TYPE_CHECKING:
    from nubo.network.agent.manager import NetworkAgent

Payload = Mapping[str, Any]
Narrow = Callable[["NetworkAgent", str, Payload], Awaitable[Scope]]
NOTHING = Scope()
CHANGES = ("create", "update", "delete")


def _ids(*ids: str | None) -> frozenset[str]:
    return frozenset(i for i in ids if i)


async def _port(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    pid = str(p["id"])
    scope = NOTHING
    if Role.L2 in agent.roles:
        if (p.get("host") == agent.host and verb in ("bind", "unbind")) or (
                verb in CHANGES and (pid in agent.known.ports or p.get("host") == agent.host)):
            scope = Scope(ports=_ids(pid), firewall=True)
    if Role.DHCP in agent.roles and verb in CHANGES:
        nid = p.get("network_id") or await host_state.port_network(agent.rt, pid)
        scope = scope.merge(Scope(dhcp=_ids(nid) if nid else None))
    return scope


def _on_network(agent: NetworkAgent, nid: str) -> Scope:
    """A network and everything this host has on it."""
    ports = frozenset(i for i, port in agent.known.ports.items() if port.network_id == nid)
    routers = frozenset(r for r, placed in agent.known.routers.items()
                        if nid in placed.network_ids)
    return Scope(ports=ports, networks=_ids(nid),
                 dhcp=_ids(nid) if Role.DHCP in agent.roles else frozenset(),
                 routers=routers if Role.L3 in agent.roles else frozenset())


def _serves_all(agent: NetworkAgent) -> bool:
    """A DHCP or L3 host has every network with DHCP or routers, not only its ports'."""
    return bool(agent.roles & {Role.DHCP, Role.L3})


async def _network(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    nid = str(p["id"])
    if verb == "create" or (nid not in agent.known.networks and not _serves_all(agent)):
        return NOTHING
    return _on_network(agent, nid)


async def _segment(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    nid = p.get("network_id")
    if not nid:
        return Scope(networks=None, ports=None)
    if nid not in agent.known.networks and not _serves_all(agent):
        return NOTHING
    return _on_network(agent, str(nid))


async def _subnet(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    nid = p.get("network_id") or await host_state.subnet_network(agent.rt, str(p["id"]))
    scope = NOTHING
    if Role.DHCP in agent.roles:
        scope = Scope(dhcp=_ids(nid) if nid else None)
    if Role.L3 in agent.roles:      # a gateway address may have changed
        routers = (frozenset(r for r, placed in agent.known.routers.items()
                             if nid in placed.network_ids) if nid else None)
        scope = scope.merge(Scope(routers=routers))
    return scope


async def _router(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    return Scope(routers=_ids(str(p["id"]))) if Role.L3 in agent.roles else NOTHING


async def _floatingip(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    if Role.L3 not in agent.roles:
        return NOTHING
    fid = str(p["id"])
    now = await host_state.floating_ip_router(agent.rt, fid)
    carrying = [r for r, placed in agent.known.routers.items() if fid in placed.floating_ip_ids]
    return Scope(routers=_ids(now, p.get("router_id"), *carrying), floating_ips=_ids(fid))


async def _group(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    """A group's rules or members changed: the firewalls that use them."""
    if Role.L2 not in agent.roles or verb == "create":
        return NOTHING
    group = p["id"]
    used = agent.remote_groups if verb == "members" else agent.groups | agent.remote_groups
    return Scope(firewall=True) if group in used else NOTHING


async def _rule(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    group = p.get("security_group_id")
    if Role.L2 not in agent.roles or (group is not None and group not in agent.groups):
        return NOTHING
    return Scope(firewall=True) if agent.known.ports else NOTHING


async def _firewall(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    if Role.L2 in agent.roles and agent.known.ports:
        return Scope(firewall=True)
    return NOTHING


async def _agent(agent: NetworkAgent, verb: str, p: Payload) -> Scope:
    """Another host's tunnel endpoint came or moved: this host's networks flood to it."""
    if Role.L2 not in agent.roles or p.get("host") == agent.host:
        return NOTHING
    scope = NOTHING
    for nid in agent.known.networks:
        scope = scope.merge(_on_network(agent, nid))
    return scope


NOUNS: dict[str, Narrow] = {
    "port": _port, "network": _network, "segment": _segment, "subnet": _subnet,
    "router": _router, "floatingip": _floatingip, "security_group": _group,
    "security_group_rule": _rule, "address_group": _firewall, "agent": _agent,
}
# the topics a host's agent listens to, by the roles that care
PATTERNS: dict[str, frozenset[Role]] = {
    "network.port.*": frozenset({Role.L2, Role.DHCP}),
    "network.network.*": frozenset({Role.L2, Role.DHCP, Role.L3}),
    "network.segment.*": frozenset({Role.L2, Role.DHCP, Role.L3}),
    "network.subnet.*": frozenset({Role.DHCP, Role.L3}),
    "network.router.*": frozenset({Role.L3}),
    "network.floatingip.*": frozenset({Role.L3}),
    "network.security_group.*": frozenset({Role.L2}),
    "network.security_group_rule.*": frozenset({Role.L2}),
    "network.address_group.*": frozenset({Role.L2}),
    "network.agent.*": frozenset({Role.L2}),
}


async def scope_of(agent: NetworkAgent, topic: str, payload: Payload) -> Scope:
    """What ``agent``'s host must sync after the event ``topic`` (``network.<noun>.<verb>``)."""
    parts = topic.split(".")
    narrow = NOUNS.get(parts[1]) if len(parts) == 3 else None
    if narrow is None or "id" not in payload:
        return NOTHING
    return await narrow(agent, parts[2], payload)
