"""What a host should have, as the network service describes it and drivers apply it.

These are plain frozen values, built by ``nubo.network.service.host_state`` from the
database and handed to a driver; a driver never reads the database. Each value has a
``digest`` (``digest_of``): a driver remembers the digest of what it applied, and the
agent compares digests to decide what to apply again (``agent.reconcile``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson


def as_dict(value: Any) -> dict[str, Any]:
    """A state value as JSON-able dicts and lists."""
    out: dict[str, Any] = orjson.loads(orjson.dumps(dataclasses.asdict(value)))
    return out


def digest_of(value: Any) -> str:
    """A short fingerprint of a state value: equal values, equal digests."""
    return recorded(value)[0]


def recorded(value: Any) -> tuple[str, dict[str, Any]]:
    """``digest_of`` and ``as_dict`` of a state value at once."""
    raw = orjson.dumps(dataclasses.asdict(value), option=orjson.OPT_SORT_KEYS)
    out: dict[str, Any] = orjson.loads(raw)
    return hashlib.sha256(raw).hexdigest()[:20], out


@dataclass(frozen=True)
class Segment:
    """How a network reaches the host: ``vxlan`` (``segmentation_id`` = VNI), ``vlan``
    on ``physical_network``, or ``flat``."""

    network_type: str
    physical_network: str | None
    segmentation_id: int | None


@dataclass(frozen=True)
class Network:
    """A network present on the host: a bridge joined to its segment."""

    id: str
    mtu: int
    admin_state_up: bool
    segments: tuple[Segment, ...]
    # the underlay addresses of the other hosts' Linux bridge agents (their
    # ``tunneling_ip``): where a VXLAN segment floods broadcasts
    tunnel_peers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FixedIp:
    subnet_id: str
    ip_address: str
    # the subnet's CIDR, so a driver knows the prefix length and the IP version
    cidr: str


@dataclass(frozen=True)
class AddressPair:
    """An extra (address or CIDR, MAC) a port may send from (allowed address pairs)."""

    ip_address: str
    mac_address: str


@dataclass(frozen=True)
class Port:
    """A port bound to the host: a tap on its network's bridge, with the network's MTU,
    anti-spoofing (its MAC, fixed IPs and address pairs) and its security groups'
    rules when ``port_security_enabled``."""

    id: str
    network_id: str
    mac_address: str
    fixed_ips: tuple[FixedIp, ...]
    admin_state_up: bool
    mtu: int
    device_owner: str
    device_id: str
    port_security_enabled: bool
    allowed_address_pairs: tuple[AddressPair, ...]
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """A security-group rule as stored: ``protocol`` is a name or a number, ports
    and prefixes ``None`` when unset."""

    id: str
    direction: str
    ethertype: str
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None
    remote_address_group_id: str | None


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    stateful: bool
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Firewall:
    """Everything a host's firewall needs: the groups of its ports with their rules,
    the addresses of every group those rules name as ``remote_group_id`` (the
    group's members, wherever they run) and of every address group they name."""

    groups: tuple[SecurityGroup, ...] = ()
    # group id -> addresses of the ports in it (fixed IPs and address pairs)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # address group id -> its CIDRs
    address_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def remote_groups(self) -> frozenset[str]:
        """The groups whose membership this firewall depends on."""
        return frozenset(r.remote_group_id for g in self.groups for r in g.rules
                         if r.remote_group_id)


@dataclass(frozen=True)
class Route:
    destination: str
    nexthop: str


@dataclass(frozen=True)
class DhcpSubnet:
    id: str
    cidr: str
    ip_version: int
    gateway_ip: str | None
    dns_nameservers: tuple[str, ...]
    host_routes: tuple[Route, ...]
    ipv6_address_mode: str | None
    ipv6_ra_mode: str | None
    # a router interface holds the gateway address (else the subnet is isolated
    # and its metadata is reached through the DHCP port)
    routed: bool = False


@dataclass(frozen=True)
class DhcpOption:
    name: str
    value: str
    ip_version: int


@dataclass(frozen=True)
class DhcpHost:
    """One port's DHCP reservation: its MAC, its addresses on DHCP-enabled subnets,
    the host name it is given and its extra DHCP options."""

    port_id: str
    mac_address: str
    ip_addresses: tuple[str, ...]
    hostname: str
    options: tuple[DhcpOption, ...]


@dataclass(frozen=True)
class DhcpPort:
    """The network's ``network:dhcp`` port: the DHCP server's MAC and addresses."""

    id: str
    mac_address: str
    fixed_ips: tuple[FixedIp, ...]


@dataclass(frozen=True)
class Dhcp:
    """DHCP for one network: its DHCP-enabled subnets, MTU (option 26), DNS domain
    and the reservations of its ports; ``port`` when the network has a DHCP port
    (drivers that need one have the agent make it)."""

    network_id: str
    mtu: int
    dns_domain: str
    subnets: tuple[DhcpSubnet, ...]
    hosts: tuple[DhcpHost, ...]
    port: DhcpPort | None = None


@dataclass(frozen=True)
class RouterPort:
    """A router's leg on a network: the interface (``qr-``) or gateway (``qg-``)
    device, with the port's MAC and addresses."""

    id: str
    network_id: str
    mac_address: str
    fixed_ips: tuple[FixedIp, ...]
    mtu: int


@dataclass(frozen=True)
class FloatingIp:
    """1:1 NAT between ``floating_ip_address`` on the gateway and a fixed address."""

    id: str
    floating_ip_address: str
    fixed_ip_address: str
    fixed_port_id: str


@dataclass(frozen=True)
class PortForwarding:
    id: str
    floatingip_id: str
    floating_ip_address: str
    protocol: str
    internal_ip_address: str
    internal_port_start: int
    internal_port_end: int
    external_port_start: int
    external_port_end: int


@dataclass(frozen=True)
class Router:
    """A router (a ``qrouter-`` namespace): its interfaces, its gateway with the
    external subnets' gateway addresses (the default route), SNAT for the interface
    subnets when ``enable_snat``, static routes, floating IPs and port forwardings."""

    id: str
    admin_state_up: bool
    enable_snat: bool
    gateway: RouterPort | None
    # gateway addresses of the external subnets the gateway port has addresses on
    external_gateways: tuple[str, ...]
    interfaces: tuple[RouterPort, ...]
    routes: tuple[Route, ...]
    floating_ips: tuple[FloatingIp, ...]
    port_forwardings: tuple[PortForwarding, ...]

    def floating_ip_ids(self) -> frozenset[str]:
        """The floating IPs the router carries: 1:1 or through port forwardings."""
        return frozenset({f.id for f in self.floating_ips}
                         | {f.floatingip_id for f in self.port_forwardings})

    def network_ids(self) -> tuple[str, ...]:
        legs = ((self.gateway,) if self.gateway else ()) + self.interfaces
        return tuple(sorted({leg.network_id for leg in legs}))
