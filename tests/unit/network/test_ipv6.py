"""IPv6 modes and EUI-64 addresses (nubo.network.ipv6)."""

from __future__ import annotations

import random
from ipaddress import ip_address, ip_network

import netaddr
import pytest

from nubo.core.errors import NuboError
from nubo.network import ipv6
from nubo.network.ipv6 import Ipv6Mode

SLAAC, STATELESS, STATEFUL = Ipv6Mode.SLAAC, Ipv6Mode.DHCPV6_STATELESS, Ipv6Mode.DHCPV6_STATEFUL


def fault(err: pytest.ExceptionInfo[NuboError]) -> tuple[int, str, str]:
    return err.value.status, str(err.value.details.get("type")), err.value.message


def test_parse_mode() -> None:
    assert ipv6.parse_mode("slaac", "ipv6_ra_mode") is SLAAC
    assert ipv6.parse_mode(None, "ipv6_ra_mode") is None
    with pytest.raises(NuboError) as err:
        ipv6.parse_mode("SLAAC", "ipv6_address_mode")
    assert fault(err) == (400, "HTTPBadRequest", "Invalid input for ipv6_address_mode. "
                          "Reason: SLAAC is not in ['dhcpv6-stateful', 'dhcpv6-stateless', "
                          "'slaac'].")


@pytest.mark.parametrize(("ra", "address", "auto"), [
    (None, None, False), (SLAAC, None, True), (None, SLAAC, True), (STATELESS, None, True),
    (None, STATELESS, True), (STATEFUL, STATEFUL, False), (None, STATEFUL, False),
    (STATEFUL, None, False),
])
def test_auto_address_modes(ra: Ipv6Mode | None, address: Ipv6Mode | None, auto: bool) -> None:
    assert ipv6.is_auto_address(ra, address) is auto


@pytest.mark.parametrize(("ra", "address", "cidr"), [
    (None, None, "2001:db8::/80"), (SLAAC, SLAAC, "2001:db8::/64"),
    (STATELESS, None, "2001:db8::/64"), (None, STATEFUL, "2001:db8::/80"),
    (STATEFUL, STATEFUL, "2001:db8::/120"), (SLAAC, None, None),
])
def test_modes_accepted(ra: Ipv6Mode | None, address: Ipv6Mode | None, cidr: str | None) -> None:
    ipv6.check_modes(6, ra, address, enable_dhcp=True,
                     cidr=ip_network(cidr) if cidr else None)


@pytest.mark.parametrize(("version", "ra", "address", "dhcp", "cidr", "message"), [
    (4, SLAAC, None, True, "10.0.0.0/24", "ipv6_ra_mode is not valid when ip_version is 4"),
    (4, None, SLAAC, True, "10.0.0.0/24",
     "ipv6_address_mode is not valid when ip_version is 4"),
    (6, SLAAC, None, False, "2001:db8::/64",
     "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False"),
    (6, SLAAC, STATEFUL, True, "2001:db8::/64",
     "ipv6_ra_mode set to 'slaac' with ipv6_address_mode set to 'dhcpv6-stateful' is not "
     "valid. If both attributes are set, they must be the same value"),
    (6, None, SLAAC, True, "2001:db8::/65",
     "Invalid CIDR 2001:db8::/65 for IPv6 address mode. OpenStack uses the EUI-64 address "
     "format, which requires the prefix to be /64"),
    (6, STATELESS, None, True, "2001:db8::/48",
     "Invalid CIDR 2001:db8::/48 for IPv6 address mode. OpenStack uses the EUI-64 address "
     "format, which requires the prefix to be /64"),
])
def test_modes_refused(version: int, ra: Ipv6Mode | None, address: Ipv6Mode | None,
                       dhcp: bool, cidr: str, message: str) -> None:
    with pytest.raises(NuboError) as err:
        ipv6.check_modes(version, ra, address, enable_dhcp=dhcp, cidr=ip_network(cidr))
    assert fault(err) == (400, "InvalidInput", f"Invalid input for operation: {message}.")


def test_disabling_dhcp_with_modes_is_refused() -> None:
    ipv6.check_dhcp_disable(None, None)
    with pytest.raises(NuboError) as err:
        ipv6.check_dhcp_disable(None, STATEFUL)
    assert fault(err) == (400, "InvalidInput", "Invalid input for operation: Cannot disable "
                          "enable_dhcp with ipv6 attributes set.")


def test_eui64_known_value() -> None:
    # RFC 4291 appendix A: 00:1b:21:... -> 021b:21ff:fe...; U/L bit flipped
    assert str(ipv6.eui64_address(ip_network("2001:db8::/64"), "fa:16:3e:33:44:55")) == (
        "2001:db8::f816:3eff:fe33:4455")
    assert str(ipv6.eui64_address(ip_network("fd00:1:2:3::/64"), "00:1b:21:0a:0b:0c")) == (
        "fd00:1:2:3:21b:21ff:fe0a:b0c")


def test_eui64_matches_netaddr_on_random_macs_and_prefixes() -> None:
    r = random.Random(64)
    for _ in range(500):
        mac = ":".join(f"{r.getrandbits(8):02x}" for _ in range(6))
        prefix = ip_network((r.getrandbits(64) << 64, 64))
        expected = netaddr.EUI(mac).ipv6(int(prefix.network_address))
        assert ipv6.eui64_address(prefix, mac) == ip_address(str(expected))


def test_eui64_needs_ipv6_and_a_mac() -> None:
    with pytest.raises(ValueError):
        ipv6.eui64_address(ip_network("10.0.0.0/24"), "fa:16:3e:33:44:55")
    with pytest.raises(ValueError):
        ipv6.eui64_address(ip_network("2001:db8::/64"), "fa:16:3e:33:44")


def test_fixed_ip_on_auto_address_subnet() -> None:
    prefix, mac = ip_network("2001:db8::/64"), "fa:16:3e:33:44:55"
    own = ipv6.eui64_address(prefix, mac)
    ipv6.check_fixed_ip_on_auto_subnet(prefix, own, mac, "sub", "compute:nova")
    ipv6.check_fixed_ip_on_auto_subnet(prefix, ip_address("2001:db8::1"), mac, "sub",
                                       "network:router_interface")
    with pytest.raises(NuboError) as err:
        ipv6.check_fixed_ip_on_auto_subnet(prefix, ip_address("2001:db8::5"), mac, "sub",
                                           "compute:nova")
    assert fault(err) == (400, "AllocationOnAutoAddressSubnet", "IPv6 address 2001:db8::5 "
                          "cannot be directly assigned to a port on subnet sub as the subnet "
                          "is configured for automatic addresses")
