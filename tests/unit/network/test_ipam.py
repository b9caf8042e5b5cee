"""Addresses, subnet CIDRs, gateways and overlaps (nubo.network.ipam)."""

from __future__ import annotations

import random
from ipaddress import ip_address, ip_network

import netaddr
import pytest

from nubo.core.errors import NuboError
from nubo.network import ipam


def fault(err: pytest.ExceptionInfo[NuboError]) -> tuple[int, str, str]:
    return err.value.status, str(err.value.details.get("type")), err.value.message


# -- addresses ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["10.0.0.1", "0.0.0.0", "255.255.255.255", "::", "::1",
                                  "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::ffff:10.0.0.1"])
def test_addresses_accepted(text: str) -> None:
    assert ipam.address_reason(text) is None
    assert ipam.parse_address(text, "gateway_ip") == ip_address(text)


@pytest.mark.parametrize("data", ["", " 10.0.0.1", "10.0.0.1 ", "10.0.0", "10.0.0.0.1",
                                  "10.0.0.256", "1" * 59, "10.0.0.-1", "10.0.0.1/32",
                                  "fe80::1%eth0", "2001:db8::g", "10.0.0.٣", None, 5,
                                  ["10.0.0.1"]])
def test_addresses_refused(data: object) -> None:
    assert ipam.address_reason(data) == f"'{data}' is not a valid IP address"


def test_leading_zeros_refused_with_the_canonical_form_recommended() -> None:
    assert ipam.address_reason("010.000.0.01") == (
        "'010.000.0.01' is not an accepted IP address, '10.0.0.1' is recommended")


def test_parse_address_names_the_attribute() -> None:
    with pytest.raises(NuboError) as err:
        ipam.parse_address("10.0.0.999", "gateway_ip")
    assert fault(err) == (400, "HTTPBadRequest", "Invalid input for gateway_ip. Reason: "
                          "'10.0.0.999' is not a valid IP address.")


def test_addresses_agree_with_netaddr_on_random_dotted_quads() -> None:
    rng = random.Random(1234)
    for _ in range(2000):
        octets = [str(rng.choice([rng.randrange(256), rng.randrange(1000)]))
                  for _ in range(4)]
        if rng.random() < 0.2:
            octets[rng.randrange(4)] = "0" + octets[0]
        text = ".".join(octets)
        try:
            expected: object = netaddr.IPAddress(text, flags=netaddr.ZEROFILL)
        except (netaddr.AddrFormatError, ValueError):
            expected = None
        if expected is None:
            assert ipam.address_reason(text) == f"'{text}' is not a valid IP address"
        elif str(expected) != text:
            assert "is recommended" in str(ipam.address_reason(text))
        else:
            assert ipam.to_address(text) == ip_address(str(expected))


# -- subnet CIDR -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "version", "network"), [
    ("10.0.0.0/24", 4, "10.0.0.0/24"),
    ("10.0.0.77/24", 4, "10.0.0.0/24"),         # host bits cleared, as Neutron does
    ("192.168.1.0/30", 4, "192.168.1.0/30"),
    ("2001:db8::/64", 6, "2001:db8::/64"),
    ("2001:DB8:0::1/64", 6, "2001:db8::/64"),
    ("2001:db8::/126", 6, "2001:db8::/126"),
])
def test_subnet_cidr(text: str, version: int, network: str) -> None:
    assert ipam.subnet_cidr(text, version, enable_dhcp=True) == ip_network(network)


@pytest.mark.parametrize("text", ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/024", "10.0.0/24",
                                  "010.0.0.0/24", "10.0.0.0/255.255.255.0", "10.0.0.0/ 24",
                                  "10.0.0.0/-1", "2001:db8::/129", "2001:db8::/x", None, 24])
def test_malformed_cidrs(text: object) -> None:
    with pytest.raises(NuboError) as err:
        ipam.subnet_cidr(text, 4, enable_dhcp=False)
    assert fault(err) == (400, "HTTPBadRequest", "Invalid input for cidr. Reason: "
                          f"'{text}' is not a valid IP subnet.")


@pytest.mark.parametrize(("text", "version", "message"), [
    ("10.0.0.0/24", 6, "cidr '10.0.0.0/24' does not match the ip_version '6'"),
    ("2001:db8::/64", 4, "cidr '2001:db8::/64' does not match the ip_version '4'"),
    ("::/64", 6, "IPv6 subnet '::' is not supported"),
    ("::1/64", 6, "IPv6 subnet '::' is not supported"),
    ("10.0.0.0/0", 4, "0 is not allowed as CIDR prefix length"),
])
def test_refused_cidrs(text: str, version: int, message: str) -> None:
    with pytest.raises(NuboError) as err:
        ipam.subnet_cidr(text, version, enable_dhcp=False)
    assert fault(err) == (400, "InvalidInput", f"Invalid input for operation: {message}.")


@pytest.mark.parametrize(("text", "version", "message"), [
    ("10.0.0.0/31", 4, "Subnet has a prefix length that is incompatible with DHCP service "
                       "enabled"),
    ("10.0.0.0/32", 4, "Subnet has a prefix length that is incompatible with DHCP service "
                       "enabled"),
    ("2001:db8::/127", 6, "Subnet has a prefix length that is incompatible with DHCP "
                          "service enabled"),
    ("2001:db8::/128", 6, "Subnet has a prefix length that is incompatible with DHCP "
                          "service enabled"),
    ("224.0.0.0/24", 4, "Multicast IP subnet is not supported if enable_dhcp is True"),
    ("ff05::/64", 6, "Multicast IP subnet is not supported if enable_dhcp is True"),
    ("127.0.0.0/24", 4, "Loopback IP subnet is not supported if enable_dhcp is True"),
    ("0.0.0.0/8", 4, "First IP '0.0.0.0' of network is not supported if enable_dhcp is "
                     "True."),
    ("0.0.0.0/0", 4, "First IP '0.0.0.0' of network is not supported if enable_dhcp is "
                     "True."),
])
def test_cidrs_refused_only_with_dhcp(text: str, version: int, message: str) -> None:
    with pytest.raises(NuboError) as err:
        ipam.subnet_cidr(text, version, enable_dhcp=True)
    assert fault(err) == (400, "InvalidInput", f"Invalid input for operation: {message}.")
    if not text.endswith("/0"):
        assert ipam.subnet_cidr(text, version, enable_dhcp=False) == ip_network(text)


# -- gateway -----------------------------------------------------------------------

@pytest.mark.parametrize(("cidr", "gateway"), [
    ("10.0.0.0/24", "10.0.0.1"),
    ("10.0.0.0/30", "10.0.0.1"),
    ("2001:db8::/64", "2001:db8::"),      # Neutron: the subnet-router anycast address
    ("2001:db8::/127", "2001:db8::"),
    ("2001:db8::/128", "2001:db8::"),
])
def test_default_gateway(cidr: str, gateway: str) -> None:
    assert ipam.default_gateway(ip_network(cidr)) == ip_address(gateway)


@pytest.mark.parametrize("cidr", ["10.0.0.0/31", "10.0.0.0/32"])
def test_no_default_gateway_on_ipv4_31_and_32(cidr: str) -> None:
    with pytest.raises(NuboError) as err:
        ipam.default_gateway(ip_network(cidr))
    status, kind, message = fault(err)
    assert (status, kind) == (400, "InvalidInput")
    assert f"Gateway IP 10.0.0.1 cannot be the default gateway of subnet {cidr}" in message
    assert "gateway_ip to null" in message


@pytest.mark.parametrize(("cidr", "gateway"), [
    ("10.0.0.0/24", "10.0.0.254"), ("10.0.0.0/24", "10.0.0.17"),
    ("10.0.0.0/30", "10.0.0.2"), ("2001:db8::/64", "2001:db8::"),
    ("2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff"),
])
def test_gateways_accepted(cidr: str, gateway: str) -> None:
    assert ipam.parse_gateway(gateway, ip_network(cidr)) == ip_address(gateway)


def test_null_gateway_is_no_gateway() -> None:
    assert ipam.parse_gateway(None, ip_network("10.0.0.0/24")) is None


@pytest.mark.parametrize(("cidr", "gateway", "kind", "message"), [
    ("10.0.0.0/24", "10.0.0.0", "InvalidInput",
     "Invalid input for operation: Gateway is not valid on subnet."),
    ("10.0.0.0/24", "10.0.0.255", "InvalidInput",
     "Invalid input for operation: Gateway is not valid on subnet."),
    ("10.0.0.0/24", "100.0.0.1", "InvalidInput",
     "Invalid input for operation: Gateway IP 100.0.0.1 is outside the subnet 10.0.0.0/24."),
    ("2001:db8::/64", "2001:db9::1", "InvalidInput",
     "Invalid input for operation: Gateway IP 2001:db9::1 is outside the subnet "
     "2001:db8::/64."),
    ("10.0.0.0/24", "2001:db8::1", "InvalidInput",
     "Invalid input for operation: gateway_ip '2001:db8::1' does not match the "
     "ip_version '4'."),
    ("10.0.0.0/24", "10.0.0.1/32", "HTTPBadRequest",
     "Invalid input for gateway_ip. Reason: '10.0.0.1/32' is not a valid IP address."),
])
def test_gateways_refused(cidr: str, gateway: str, kind: str, message: str) -> None:
    with pytest.raises(NuboError) as err:
        ipam.parse_gateway(gateway, ip_network(cidr))
    assert fault(err) == (400, kind, message)


# -- overlap -----------------------------------------------------------------------

def test_overlapping_returns_every_clash_in_order() -> None:
    others = {"a": ip_network("10.0.0.0/24"), "b": ip_network("10.0.1.0/24"),
              "c": ip_network("10.0.0.0/16"), "d": ip_network("2001:db8::/64"),
              "e": ip_network("10.0.0.128/25")}
    assert ipam.overlapping(ip_network("10.0.0.0/25"), others) == ["a", "c"]
    assert ipam.overlapping(ip_network("10.0.0.0/8"), others) == ["a", "b", "c", "e"]
    assert ipam.overlapping(ip_network("10.0.2.0/24"), others) == ["c"]
    assert ipam.overlapping(ip_network("192.168.0.0/24"), others) == []
    assert ipam.overlapping(ip_network("::/0"), others) == ["d"]


def test_overlap_matches_netaddr_on_random_cidrs() -> None:
    rng = random.Random(99)
    for _ in range(500):
        def cidr() -> str:
            length = rng.randrange(16, 31)
            base = (10 << 24) | rng.getrandbits(16) << 8
            return str(ip_network((base, length), strict=False))
        a, b = cidr(), cidr()
        expected = bool(netaddr.IPSet([a]) & netaddr.IPSet([b]))
        assert bool(ipam.overlapping(ip_network(a), {"b": ip_network(b)})) is expected


def test_network_overlap_does_not_name_the_other_subnet() -> None:
    with pytest.raises(NuboError) as err:
        ipam.check_network_overlap(ip_network("10.0.0.0/24"), "net-1",
                                   {"secret-subnet": ip_network("10.0.0.0/23")})
    assert fault(err) == (400, "InvalidInput", "Invalid input for operation: Requested "
                          "subnet with cidr: 10.0.0.0/24 for network: net-1 overlaps with "
                          "another subnet.")
    assert "secret-subnet" not in err.value.message
    ipam.check_network_overlap(ip_network("10.0.2.0/24"), "net-1",
                               {"s": ip_network("10.0.0.0/23")})


def test_router_overlap_names_both_subnets() -> None:
    attached = {"old": ip_network("10.0.0.0/16")}
    with pytest.raises(NuboError) as err:
        ipam.check_router_overlap("new", ip_network("10.0.5.0/24"), attached)
    assert fault(err) == (400, "BadRequest", "Bad router request: Cidr 10.0.5.0/24 of "
                          "subnet new overlaps with cidr 10.0.0.0/16 of subnet old.")
    ipam.check_router_overlap("new", ip_network("10.1.0.0/24"), attached)
