"""Which addresses a port gets: Neutron's rules turned into a plan of *wants*.

A :class:`Want` is one address to allocate: a given address on a subnet (asked for, or
the EUI-64 address of the port's MAC on a SLAAC / DHCPv6-stateless subnet), or any free
address of the first of several subnets that has one. The database side
(``nubo.network.service.ip_allocation``) turns wants into rows.

The rules are Neutron's (``ipam_pluggable_backend``, ``ipam_backend_mixin``):

- a port without ``fixed_ips`` gets one address from the IPv4 subnets (the first with a
  free address), one from the stateful IPv6 subnets, and its EUI-64 address on every
  auto-address subnet (router interfaces excepted);
- subnets with ``service_types`` serve only ports whose ``device_owner`` is listed, and
  are tried first; subnets without serve every port;
- a requested entry names a subnet, an address, or both; an address must be valid on
  its subnet; on an auto-address subnet only the port's own EUI-64 address may be asked
  for (router interfaces excepted); auto-address subnets are always added;
- an update keeps the addresses it names again (by address, or by subnet), removes the
  others, and keeps auto addresses unless the MAC changes.

Pure; no database.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nubo.network.errors import conflict, invalid_input
from nubo.network.ipam import IPAddress, IPNetwork
from nubo.network.ipv6 import check_fixed_ip_on_auto_subnet, eui64_address
from nubo.network.pools import IpRange, check_fixed_ip, subnet_for_address
from nubo.network.port_attributes import FixedIp

ROUTER_INTERFACE_OWNERS_SNAT = frozenset({
    "network:router_interface",
    "network:ha_router_replicated_interface",
    "network:router_interface_distributed",
    "network:router_centralized_snat",
})
"""Ports that take no EUI-64 address and may take any address on auto subnets."""


@dataclass(frozen=True)
class Subnet:
    """What address choice needs of a subnet."""

    id: str
    network: IPNetwork
    pools: tuple[IpRange, ...] = ()
    auto_address: bool = False  # SLAAC or DHCPv6-stateless: EUI-64 addresses
    service_types: tuple[str, ...] = ()

    @property
    def version(self) -> int:
        return self.network.version


@dataclass(frozen=True)
class Want:
    """An address to allocate: ``address`` on ``subnets[0]``, or (no address) any free
    address of the first of ``subnets`` that has one."""

    subnets: tuple[str, ...]
    address: IPAddress | None = None


@dataclass(frozen=True)
class Held:
    """An address a port holds."""

    subnet_id: str
    address: str


@dataclass
class Plan:
    """An update's changes of addresses: what stays, what goes, what to allocate."""

    keep: list[Held] = field(default_factory=list)
    remove: list[Held] = field(default_factory=list)
    add: list[Want] = field(default_factory=list)


def no_matching_subnet(network_id: str, device_owner: str) -> Exception:
    return conflict("IpAddressGenerationFailureNoMatchingSubnet", "No valid service subnet "
                    f"for the given device owner, network {network_id}, service type "
                    f"{device_owner}.")


def eligible(subnets: Sequence[Subnet], device_owner: str, network_id: str) -> list[Subnet]:
    """The subnets that may serve a port with this owner, service-typed ones first;
    409 when the network has subnets but none serves it."""
    found = [s for s in subnets if not s.service_types or device_owner in s.service_types]
    if subnets and not found:
        raise no_matching_subnet(network_id, device_owner)
    return sorted(found, key=lambda s: not s.service_types)


def _auto_wants(subnets: Iterable[Subnet], device_owner: str, mac: str,
                skip: Iterable[str] = ()) -> list[Want]:
    if device_owner in ROUTER_INTERFACE_OWNERS_SNAT:
        return []
    skipped = set(skip)
    return [Want((s.id,), eui64_address(s.network, mac)) for s in subnets
            if s.auto_address and s.id not in skipped]


def default_wants(subnets: Sequence[Subnet], device_owner: str, mac: str) -> list[Want]:
    """The addresses of a port created without ``fixed_ips`` (``subnets``: eligible)."""
    v4 = tuple(s.id for s in subnets if s.version == 4)
    v6 = tuple(s.id for s in subnets if s.version == 6 and not s.auto_address)
    wants = [Want(ids) for ids in (v4, v6) if ids]
    return wants + _auto_wants(subnets, device_owner, mac)


def subnet_of(entry: FixedIp, subnets: Sequence[Subnet], network_id: str,
              device_owner: str) -> Subnet:
    """The subnet a requested entry is on (Neutron's ``_get_subnet_for_fixed_ip``)."""
    if not subnets:
        raise invalid_input("IP allocation requires subnets for network")
    if entry.subnet_id is not None:
        for subnet in subnets:
            if subnet.id == entry.subnet_id:
                if entry.address is not None:
                    check_fixed_ip(subnet.network, entry.address, device_owner)
                return subnet
        raise invalid_input(f"Failed to create port on network {network_id}, because "
                            f"fixed_ips included invalid subnet {entry.subnet_id}")
    assert entry.address is not None
    key = subnet_for_address(entry.address, {s.id: s.network for s in subnets},
                             device_owner)
    return next(s for s in subnets if s.id == key)


def _entry_wants(entries: Sequence[FixedIp], subnets: Sequence[Subnet], network_id: str,
                 device_owner: str, mac: str) -> list[Want]:
    """Requested entries as wants (Neutron's ``_test_fixed_ips_for_port``)."""
    wants = []
    for entry in entries:
        subnet = subnet_of(entry, subnets, network_id, device_owner)
        if entry.address is not None:
            if subnet.auto_address:
                check_fixed_ip_on_auto_subnet(subnet.network, entry.address, mac, subnet.id,
                                              device_owner)
            wants.append(Want((subnet.id,), entry.address))
        elif device_owner in ROUTER_INTERFACE_OWNERS_SNAT or not subnet.auto_address:
            wants.append(Want((subnet.id,)))
    return wants


def requested_wants(entries: Sequence[FixedIp], subnets: Sequence[Subnet], network_id: str,
                    device_owner: str, mac: str) -> list[Want]:
    """The addresses of a port created with ``fixed_ips`` (``subnets``: eligible)."""
    wants = _entry_wants(entries, subnets, network_id, device_owner, mac)
    given = [w.subnets[0] for w in wants if w.address is not None]
    return wants + _auto_wants(subnets, device_owner, mac, skip=given)


def is_eui64(address: str) -> bool:
    """Whether an address looks like an EUI-64 one (``ff:fe`` in the interface id)."""
    ip = ipaddress.ip_address(address)
    return ip.version == 6 and (int(ip) >> 24) & 0xFFFF == 0xFFFE


def update_plan(held: Sequence[Held], entries: Sequence[FixedIp] | None,
                subnets: Sequence[Subnet], network_id: str, device_owner: str, mac: str, *,
                mac_changed: bool = False) -> Plan:
    """An update's address changes (Neutron's ``_get_changed_ips_for_port`` and
    ``_update_ips_for_port``); ``entries`` None: ``fixed_ips`` not in the update.

    A new MAC gives new EUI-64 addresses on auto-address subnets."""
    by_id = {s.id: s for s in subnets}
    if entries is None:
        if not mac_changed:
            return Plan(keep=list(held))
        entries = [FixedIp(h.subnet_id, ipaddress.ip_address(h.address)) for h in held]
    if mac_changed:
        entries = [e for e in entries if not (e.address and _auto(by_id, e.subnet_id))]
    plan, added, maybe_remove = _match(held, entries)
    router = device_owner in ROUTER_INTERFACE_OWNERS_SNAT
    for h in maybe_remove:
        optional = _auto(by_id, h.subnet_id) and not router and not mac_changed
        (plan.keep if optional else plan.remove).append(h)
    plan.add = _entry_wants(added, subnets, network_id, device_owner, mac)
    handled = {h.subnet_id for h in plan.keep} | {w.subnets[0] for w in plan.add}
    plan.add += _auto_wants(subnets, device_owner, mac, skip=handled)
    return plan


def _match(held: Sequence[Held], entries: Sequence[FixedIp]
           ) -> tuple[Plan, list[FixedIp], list[Held]]:
    """Requested entries matched with held addresses: first by address, then by subnet
    (an EUI-64 address matched by subnet is allocated again). Returns the plan so far,
    the entries to allocate and the held addresses that may go."""
    plan = Plan()
    left = list(held)
    added: list[FixedIp] = []
    again: list[Held] = []
    for entry in (e for e in entries if e.address is not None):
        match = next((h for h in left if h.address == str(entry.address)), None)
        if match is None:
            added.append(entry)
        else:
            left.remove(match)
            plan.keep.append(match)
    for entry in (e for e in entries if e.address is None):
        match = next((h for h in left if h.subnet_id == entry.subnet_id), None)
        if match is None:
            added.append(entry)
            continue
        left.remove(match)
        if is_eui64(match.address):
            again.append(match)
            added.append(entry)
        else:
            plan.keep.append(match)
    return plan, added, left + again


def _auto(by_id: dict[str, Subnet], subnet_id: str | None) -> bool:
    subnet = by_id.get(subnet_id or "")
    return subnet is not None and subnet.auto_address
