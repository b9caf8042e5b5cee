"""IP addresses and subnets as Neutron reads them: parsing, a subnet's CIDR and
gateway, and overlap between CIDRs.

Pure functions over :mod:`ipaddress` objects; no database. Messages are Neutron's
(neutron-lib's attribute validators, ``db_base_plugin_v2._validate_subnet``) so the
real clients and Tempest see the reference wording. Allocation pools and address
choice are in :mod:`nubo.network.pools`, DNS servers and host routes in
:mod:`nubo.network.subnet_options`, IPv6 modes in :mod:`nubo.network.ipv6`.

Two deliberate differences from Neutron:

- a gateway outside the subnet's CIDR is refused (Neutron takes it and assumes the
  gateway is on-link);
- a default gateway that cannot be used (IPv4 /31 and /32) is refused with a message
  saying to pass ``gateway_ip: null``, where Neutron answers 409 (/31) or stores a
  gateway outside the subnet (/32).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import TypeAlias, TypeVar

from nubo.core.errors import BadRequest
from nubo.network.errors import bad_resource_request, invalid_attribute, invalid_input

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
K = TypeVar("K")

_DIGITS = re.compile(r"[0-9]+")
_WHITESPACE = re.compile(r"\s")
_V6_ANY = ipaddress.IPv6Address("::")


class Unparsable(ValueError):
    """A value that is not an address or CIDR; ``reason`` is Neutron's sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- addresses ---------------------------------------------------------------------

def to_address(data: object) -> IPAddress:
    """``data`` as an address, accepted as neutron-lib's ``validate_ip_address`` does.

    IPv4 must be a dotted quad; leading zeros are refused with the canonical form
    recommended. IPv6 takes any textual form (scope ids are refused).
    """
    invalid = f"'{data}' is not a valid IP address"
    if not isinstance(data, str) or not data or _WHITESPACE.search(data):
        raise Unparsable(invalid)
    if ":" in data:
        if "%" in data:
            raise Unparsable(invalid)
        try:
            return ipaddress.IPv6Address(data)
        except ValueError:
            raise Unparsable(invalid) from None
    octets = data.split(".")
    if len(octets) != 4 or not all(_DIGITS.fullmatch(o) and int(o) < 256 for o in octets):
        raise Unparsable(invalid)
    address = ipaddress.IPv4Address(".".join(str(int(o)) for o in octets))
    if str(address) != data:
        raise Unparsable(f"'{data}' is not an accepted IP address, '{address}' is recommended")
    return address


def address_reason(data: object) -> str | None:
    """Why ``data`` is not an acceptable IP address, or None."""
    try:
        to_address(data)
    except Unparsable as err:
        return err.reason
    return None


def parse_address(data: object, attr: str) -> IPAddress:
    """The address in attribute ``attr``; 400 "Invalid input for <attr>" otherwise."""
    try:
        return to_address(data)
    except Unparsable as err:
        raise invalid_attribute(attr, err.reason) from None


def check_version(ip_version: int, value: IPAddress | IPNetwork, name: str) -> None:
    """Neutron's ``_validate_ip_version``: ``value`` must be of the subnet's version."""
    if value.version != ip_version:
        raise invalid_input(f"{name} '{value}' does not match the ip_version '{ip_version}'")


# -- CIDRs ---------------------------------------------------------------------------

def to_network(data: object, invalid: str) -> IPNetwork:
    """``data`` ("address/length") as a network with any host bits cleared.

    ``invalid`` is the sentence to raise :class:`Unparsable` with. The length must be
    decimal; netmask notation is refused, as neutron-lib refuses it.
    """
    if not isinstance(data, str) or _WHITESPACE.search(data) or "/" not in data:
        raise Unparsable(invalid)
    text, _, length = data.partition("/")
    try:
        address = to_address(text)
    except Unparsable:
        raise Unparsable(invalid) from None
    if not _DIGITS.fullmatch(length) or int(length) > address.max_prefixlen:
        raise Unparsable(invalid)
    return ipaddress.ip_network((address, int(length)), strict=False)


def parse_cidr(data: object, attr: str) -> IPNetwork:
    """A subnet-like CIDR attribute (``cidr``, a pool prefix), host bits cleared.

    As neutron-lib's ``validate_subnet``: IPv4 must be written canonically
    (``10.0.0.0/24``, not ``10.0.0.0/024``); a set host bit is not an error: Neutron
    stores the network (``10.0.0.1/24`` becomes ``10.0.0.0/24``).
    """
    invalid = f"'{data}' is not a valid IP subnet"
    try:
        network = to_network(data, invalid)
    except Unparsable as err:
        raise invalid_attribute(attr, err.reason) from None
    if network.version == 4:
        length = str(data).partition("/")[2]
        if str(int(length)) != length:
            raise invalid_attribute(attr, invalid)
    return network


def subnet_cidr(data: object, ip_version: int, *, enable_dhcp: bool) -> IPNetwork:
    """The network of a subnet create request's ``cidr``, checked as Neutron does.

    ``enable_dhcp`` turns on the checks Neutron makes only for DHCP-enabled subnets
    (among them: no IPv4 prefix longer than /30, no IPv6 longer than /126).
    """
    network = parse_cidr(data, "cidr")
    check_version(ip_version, network, "cidr")
    if network.version == 6 and network.network_address == _V6_ANY:
        raise invalid_input("IPv6 subnet '::' is not supported")
    if enable_dhcp:
        check_dhcp_cidr(network)
    if network.prefixlen == 0:
        raise invalid_input("0 is not allowed as CIDR prefix length")
    return network


def check_dhcp_cidr(network: IPNetwork) -> None:
    """What Neutron refuses when DHCP is enabled on a subnet (at create, or when an
    update turns DHCP on)."""
    if network.prefixlen > network.max_prefixlen - 2:
        raise invalid_input(
            "Subnet has a prefix length that is incompatible with DHCP service enabled")
    if network.is_multicast:
        raise invalid_input("Multicast IP subnet is not supported if enable_dhcp is True")
    if network.is_loopback:
        raise invalid_input("Loopback IP subnet is not supported if enable_dhcp is True")
    if network.version == 4 and int(network.network_address) == 0:
        # Neutron's sentence ends with a full stop inside its own template's
        raise invalid_input(
            "First IP '0.0.0.0' of network is not supported if enable_dhcp is True.")


# -- gateway -------------------------------------------------------------------------

def default_gateway(network: IPNetwork) -> IPAddress:
    """The gateway of a subnet created without ``gateway_ip``.

    Neutron takes the first host for IPv4 and the network address itself (the
    subnet-router anycast address) for IPv6. IPv4 /31 and /32 have no usable first
    host: refused, asking for ``gateway_ip: null``.
    """
    if network.version == 6:
        return network.network_address
    gateway = network.network_address + 1
    if network.prefixlen >= 31:
        raise unusable_default_gateway(gateway, network)
    return gateway


def unusable_default_gateway(gateway: IPAddress, network: IPNetwork) -> BadRequest:
    return invalid_input(f"Gateway IP {gateway} cannot be the default gateway of subnet "
                         f"{network}; set gateway_ip to null or to an address of the subnet")


def parse_gateway(data: object, network: IPNetwork) -> IPAddress | None:
    """A requested ``gateway_ip`` (None: no gateway), checked against the subnet."""
    if data is None:
        return None
    gateway = parse_address(data, "gateway_ip")
    check_version(network.version, gateway, "gateway_ip")
    check_gateway(network, gateway)
    return gateway


def check_gateway(network: IPNetwork, gateway: IPAddress) -> None:
    """Refuse a gateway outside the subnet, its network address or IPv4 broadcast."""
    if gateway not in network:
        raise invalid_input(f"Gateway IP {gateway} is outside the subnet {network}")
    if network.version == 4 and gateway in (network.network_address,
                                            network.broadcast_address):
        raise invalid_input("Gateway is not valid on subnet")


# -- overlap ---------------------------------------------------------------------------

def overlapping(network: IPNetwork, others: Mapping[K, IPNetwork]) -> list[K]:
    """The keys of ``others`` whose CIDR shares an address with ``network``."""
    return [key for key, other in others.items()
            if other.version == network.version and network.overlaps(other)]


def check_network_overlap(network: IPNetwork, network_id: str,
                          existing: Mapping[str, IPNetwork]) -> None:
    """A new subnet must not overlap another subnet of its network.

    Neutron does not name the other subnet (it may be another project's).
    """
    if overlapping(network, existing):
        raise invalid_input(f"Requested subnet with cidr: {network} for network: "
                            f"{network_id} overlaps with another subnet")


def check_router_overlap(subnet_id: str, network: IPNetwork,
                         attached: Mapping[str, IPNetwork]) -> None:
    """A subnet joining a router must not overlap a subnet already on it."""
    clash = overlapping(network, attached)
    if clash:
        other = clash[0]
        raise router_overlap(subnet_id, network, other, attached[other])


def router_overlap(subnet_id: str, network: IPNetwork, other_id: str,
                   other: IPNetwork) -> BadRequest:
    return bad_resource_request(
        "router", f"Cidr {network} of subnet {subnet_id} overlaps with cidr {other} "
                  f"of subnet {other_id}")
