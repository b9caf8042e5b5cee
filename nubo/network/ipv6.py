"""IPv6 subnet modes and EUI-64 addresses, as Neutron applies them.

``ipv6_ra_mode`` says who sends router advertisements and what they announce;
``ipv6_address_mode`` how ports get addresses. With ``slaac`` or
``dhcpv6-stateless`` a port's address is computed from the prefix and its MAC
(EUI-64) and never chosen from the pools: those subnets are "auto-address" subnets.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum

from nubo.network.errors import bad_request, invalid_attribute, invalid_input
from nubo.network.ipam import IPAddress, IPNetwork


class Ipv6Mode(StrEnum):
    DHCPV6_STATEFUL = "dhcpv6-stateful"
    DHCPV6_STATELESS = "dhcpv6-stateless"
    SLAAC = "slaac"


AUTO_ADDRESS_MODES = frozenset({Ipv6Mode.SLAAC, Ipv6Mode.DHCPV6_STATELESS})
"""Modes whose port addresses are EUI-64, computed from the MAC."""

ROUTER_INTERFACE_OWNERS = frozenset({
    "network:router_interface",
    "network:ha_router_replicated_interface",
    "network:router_interface_distributed",
})
"""Device owners that may take any address on an auto-address subnet."""


def parse_mode(data: object, attr: str) -> Ipv6Mode | None:
    """``ipv6_ra_mode`` or ``ipv6_address_mode`` from a request (None: not set)."""
    if data is None:
        return None
    allowed = [mode.value for mode in Ipv6Mode]
    if not isinstance(data, str) or data not in allowed:
        raise invalid_attribute(attr, f"{data} is not in {allowed}")
    return Ipv6Mode(data)


def check_modes(ip_version: int, ra_mode: Ipv6Mode | None, address_mode: Ipv6Mode | None,
                *, enable_dhcp: bool, cidr: IPNetwork | None) -> None:
    """Neutron's checks of the two modes at subnet create.

    ``cidr`` is None when the CIDR is not known yet (a subnet from a subnet pool);
    the /64 rule of auto-address modes is then not checked.
    """
    if ip_version == 4:
        for name, mode in (("ipv6_ra_mode", ra_mode), ("ipv6_address_mode", address_mode)):
            if mode is not None:
                raise invalid_input(f"{name} is not valid when ip_version is 4")
        return
    if ra_mode is None and address_mode is None:
        return
    if not enable_dhcp:
        raise invalid_input("ipv6_ra_mode or ipv6_address_mode cannot be set when "
                            "enable_dhcp is set to False")
    if ra_mode is not None and address_mode is not None and ra_mode != address_mode:
        raise invalid_input(
            f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to "
            f"'{address_mode}' is not valid. If both attributes are set, they must be "
            "the same value")
    if cidr is not None and is_auto_address(ra_mode, address_mode) and cidr.prefixlen != 64:
        raise invalid_input(f"Invalid CIDR {cidr} for IPv6 address mode. OpenStack uses "
                            "the EUI-64 address format, which requires the prefix to be /64")


def check_dhcp_disable(ra_mode: Ipv6Mode | None, address_mode: Ipv6Mode | None) -> None:
    """An update setting ``enable_dhcp: false`` on an IPv6 subnet with a mode."""
    if ra_mode is not None or address_mode is not None:
        raise invalid_input("Cannot disable enable_dhcp with ipv6 attributes set")


def is_auto_address(ra_mode: str | None, address_mode: str | None) -> bool:
    """Whether ports get EUI-64 addresses on the subnet (Neutron's
    ``is_auto_address_subnet``: either mode is slaac or dhcpv6-stateless)."""
    return address_mode in AUTO_ADDRESS_MODES or ra_mode in AUTO_ADDRESS_MODES


def eui64_address(prefix: IPNetwork, mac: str) -> ipaddress.IPv6Address:
    """The SLAAC address of ``mac`` in ``prefix`` (RFC 4291 appendix A): ``ff:fe``
    inserted in the middle of the MAC, the universal/local bit flipped, added to the
    prefix. ``mac`` is a normalised ``aa:bb:cc:dd:ee:ff`` string."""
    if prefix.version != 6:
        raise ValueError(f"EUI-64 needs an IPv6 prefix, not {prefix}")
    octets = bytes.fromhex(mac.replace(":", ""))
    if len(octets) != 6:
        raise ValueError(f"not a MAC address: {mac}")
    interface = octets[:3] + b"\xff\xfe" + octets[3:]
    interface_id = int.from_bytes(interface) ^ (0x02 << 56)
    return ipaddress.IPv6Address(int(prefix.network_address) | interface_id)


def check_fixed_ip_on_auto_subnet(prefix: IPNetwork, address: IPAddress, mac: str,
                                  subnet_id: str, device_owner: str) -> None:
    """A port other than a router interface may ask for only its own EUI-64 address
    on an auto-address subnet."""
    if device_owner in ROUTER_INTERFACE_OWNERS or address == eui64_address(prefix, mac):
        return
    raise bad_request("AllocationOnAutoAddressSubnet",
                      f"IPv6 address {address} cannot be directly assigned to a port on "
                      f"subnet {subnet_id} as the subnet is configured for automatic "
                      "addresses")
