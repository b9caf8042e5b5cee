"""Reconcile: what a host's network agent must change, from what the network
service wants on the host (``Desired``) and what the driver has (``Inventory``).

``plan`` is a pure function, so every decision is unit-tested without a cloud. A
sync looks at a ``Scope``: some ids of each kind (the objects an event named) or
all of them (on start, and when an event cannot be narrowed down). Objects outside
the scope are left alone, whatever the inventory says about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from nubo.network.agent.driver import Inventory
from nubo.network.agent.state import Dhcp, Firewall, Network, Port, Router, digest_of

ACTIVE = "ACTIVE"
DOWN = "DOWN"


@dataclass(frozen=True)
class Scope:
    """The ids a sync looks at per kind; ``None`` stands for every object of the kind."""

    ports: frozenset[str] | None = frozenset()
    networks: frozenset[str] | None = frozenset()
    dhcp: frozenset[str] | None = frozenset()
    routers: frozenset[str] | None = frozenset()
    floating_ips: frozenset[str] = frozenset()
    firewall: bool = False

    @classmethod
    def everything(cls) -> Scope:
        return cls(ports=None, networks=None, dhcp=None, routers=None, firewall=True)

    def merge(self, other: Scope) -> Scope:
        return Scope(ports=_union(self.ports, other.ports),
                     networks=_union(self.networks, other.networks),
                     dhcp=_union(self.dhcp, other.dhcp),
                     routers=_union(self.routers, other.routers),
                     floating_ips=self.floating_ips | other.floating_ips,
                     firewall=self.firewall or other.firewall)

    def is_empty(self) -> bool:
        return (self.ports == frozenset() and self.networks == frozenset()
                and self.dhcp == frozenset() and self.routers == frozenset()
                and not self.floating_ips and not self.firewall)


def _union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    return None if a is None or b is None else a | b


def within(ids: Iterable[str], wanted: frozenset[str] | None) -> list[str]:
    """``ids`` restricted to a scope's ids (all of them for ``None``)."""
    return sorted(i for i in ids if wanted is None or i in wanted)


@dataclass(frozen=True)
class Desired:
    """What the service wants on the host, for the objects of one scope."""

    networks: Mapping[str, Network] = field(default_factory=dict)
    ports: Mapping[str, Port] = field(default_factory=dict)
    # the status the database shows for each port in ``ports``
    port_status: Mapping[str, str] = field(default_factory=dict)
    dhcp: Mapping[str, Dhcp] = field(default_factory=dict)
    routers: Mapping[str, Router] = field(default_factory=dict)
    # the status the database shows for each floating IP the scope looks at
    floating_ip_status: Mapping[str, str] = field(default_factory=dict)
    firewall: Firewall | None = None


@dataclass
class Plan:
    """Removals first (routers, DHCP, ports, networks), then ensures in the opposite
    order (networks, firewall, ports, DHCP, routers), then status reports."""

    remove_routers: list[str] = field(default_factory=list)
    remove_dhcp: list[str] = field(default_factory=list)
    unplug_ports: list[str] = field(default_factory=list)
    remove_networks: list[str] = field(default_factory=list)
    ensure_networks: list[Network] = field(default_factory=list)
    firewall: Firewall | None = None
    plug_ports: list[Port] = field(default_factory=list)
    ensure_dhcp: list[Dhcp] = field(default_factory=list)
    ensure_routers: list[Router] = field(default_factory=list)
    # status reports, once the changes above are applied
    ports_up: list[str] = field(default_factory=list)
    ports_down: list[str] = field(default_factory=list)
    # interface and gateway ports of the routers in place
    router_ports_up: list[str] = field(default_factory=list)
    floating_ips_active: list[str] = field(default_factory=list)
    floating_ips_down: list[str] = field(default_factory=list)

    def changes(self) -> int:
        return sum(len(x) for x in (
            self.remove_routers, self.remove_dhcp, self.unplug_ports, self.remove_networks,
            self.ensure_networks, self.plug_ports, self.ensure_dhcp, self.ensure_routers)
        ) + (self.firewall is not None)


def _stale(applied: str | None, wanted: object) -> bool:
    return applied is None or applied != digest_of(wanted)


def plan(desired: Desired, actual: Inventory, scope: Scope) -> Plan:
    """The changes that bring the scope's objects on the host to ``desired``."""
    p = Plan()
    p.remove_routers = [r for r in within(actual.routers, scope.routers)
                        if r not in desired.routers]
    p.remove_dhcp = [n for n in within(actual.dhcp, scope.dhcp) if n not in desired.dhcp]
    p.unplug_ports = [i for i in within(actual.ports, scope.ports) if i not in desired.ports]
    p.remove_networks = [n for n in within(actual.networks, scope.networks)
                         if n not in desired.networks]
    # a network that goes takes the ports the host has on it along, named by the
    # scope or not (its DHCP port, when the change that deleted it named only the
    # network): nothing the service wants is on a network it does not want here
    gone = set(p.remove_networks)
    p.unplug_ports = sorted({*p.unplug_ports, *(
        i for i, placed in actual.ports.items()
        if placed.network_id in gone and i not in desired.ports)})
    p.ensure_networks = [n for i, n in sorted(desired.networks.items())
                         if i not in actual.networks or _stale(actual.networks[i], n)]
    if desired.firewall is not None and (
            actual.firewall is None or actual.firewall != digest_of(desired.firewall)):
        p.firewall = desired.firewall
    # a port is plugged again when its network's bridge is (re)made, as a kernel
    # bridge made anew has no ports on it
    remade = {n.id for n in p.ensure_networks}
    p.plug_ports = [port for i, port in sorted(desired.ports.items())
                    if i not in actual.ports or port.network_id in remade
                    or _stale(actual.ports[i].digest, port)]
    p.ensure_dhcp = [d for i, d in sorted(desired.dhcp.items())
                     if _stale(actual.dhcp.get(i), d)]
    p.ensure_routers = [r for i, r in sorted(desired.routers.items())
                        if i not in actual.routers or _stale(actual.routers[i].digest, r)]
    _reports(p, desired)
    return p


def _reports(p: Plan, desired: Desired) -> None:
    """Ports up when plugged and administratively up, down when unplugged or
    administratively down; a router's legs up once it is in place (even when the
    router is administratively down, as Neutron's); floating IPs active while an up
    router carries them."""
    for i, port in sorted(desired.ports.items()):
        status = desired.port_status.get(i)
        if port.admin_state_up and status != ACTIVE:
            p.ports_up.append(i)
        elif not port.admin_state_up and status == ACTIVE:
            p.ports_down.append(i)
    p.ports_down.extend(p.unplug_ports)
    for router in desired.routers.values():
        legs = ((router.gateway,) if router.gateway else ()) + router.interfaces
        p.router_ports_up.extend(sorted(leg.id for leg in legs
                                        if desired.port_status.get(leg.id) != ACTIVE))
    carried = {f for r in desired.routers.values() if r.admin_state_up
               for f in r.floating_ip_ids()}
    for fip, status in sorted(desired.floating_ip_status.items()):
        if fip in carried and status != ACTIVE:
            p.floating_ips_active.append(fip)
        elif fip not in carried and status != DOWN:
            p.floating_ips_down.append(fip)
