"""Subnet pool prefixes, bounds and subnet allocation (nubo.network.subnetpools)."""

from __future__ import annotations

import random
from ipaddress import ip_address, ip_network
from typing import Any

import netaddr
import pytest

from nubo.core.errors import NuboError
from nubo.network import subnetpools as sp
from nubo.network.ipam import IPNetwork
from nubo.network.subnetpools import PrefixBounds


def fault(err: pytest.ExceptionInfo[NuboError]) -> tuple[int, str, str]:
    return err.value.status, str(err.value.details.get("type")), err.value.message


def nets(*cidrs: str) -> list[IPNetwork]:
    return [ip_network(c) for c in cidrs]


# -- prefixes ------------------------------------------------------------------------

def test_prefixes_are_merged() -> None:
    assert sp.parse_prefixes(["10.0.0.0/24", "10.0.1.0/24", "10.0.0.128/25"]) == nets(
        "10.0.0.0/23")
    assert sp.parse_prefixes(["10.0.0.5/24", "192.168.0.0/16"]) == nets(
        "10.0.0.0/24", "192.168.0.0/16")
    assert sp.parse_prefixes(["2001:db8::/64", "2001:db8:0:1::/64"]) == nets("2001:db8::/63")


@pytest.mark.parametrize(("data", "status", "kind", "message"), [
    ("10.0.0.0/8", 400, "HTTPBadRequest",
     "Invalid input for prefixes. Reason: '10.0.0.0/8' is not a list."),
    (["10.0.0.0/8", "10.0.0.0/8"], 400, "HTTPBadRequest",
     "Invalid input for prefixes. Reason: Duplicate items in the list: '10.0.0.0/8'."),
    (["10.0.0.0"], 400, "HTTPBadRequest",
     "Invalid input for prefixes. Reason: '10.0.0.0' is not a valid IP subnet."),
    ([], 400, "EmptySubnetPoolPrefixList", "Empty subnet pool prefix list."),
    (["10.0.0.0/8", "2001:db8::/32"], 400, "PrefixVersionMismatch",
     "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."),
])
def test_prefixes_refused(data: Any, status: int, kind: str, message: str) -> None:
    with pytest.raises(NuboError) as err:
        sp.parse_prefixes(data)
    assert fault(err) == (status, kind, message)


def test_prefix_update_must_keep_the_current_prefixes() -> None:
    current = nets("10.0.0.0/24")
    assert sp.check_prefixes_update(current, nets("10.0.0.0/24", "10.0.1.0/24")) == nets(
        "10.0.0.0/23")
    assert sp.check_prefixes_update(current, nets("10.0.0.0/16")) == nets("10.0.0.0/16")
    with pytest.raises(NuboError) as err:
        sp.check_prefixes_update(current, nets("10.0.0.0/25", "10.1.0.0/16"))
    assert fault(err) == (400, "IllegalSubnetPoolPrefixUpdate", "Illegal update to prefixes: "
                          "Existing prefixes must be a subset of the new prefixes.")


def test_remove_prefixes() -> None:
    current = nets("10.0.0.0/16")
    assert sp.remove_prefixes(current, nets("10.0.128.0/17"), nets("10.0.0.0/24")) == nets(
        "10.0.0.0/17")
    assert sp.remove_prefixes(current, nets("192.168.0.0/16"), []) == current
    with pytest.raises(NuboError) as err:
        sp.remove_prefixes(current, nets("10.0.0.0/23"), nets("10.0.1.0/24"))
    assert fault(err) == (400, "IllegalSubnetPoolPrefixUpdate", "Illegal update to prefixes: "
                          "One or more the prefixes to be removed is in use by a subnet..")


@pytest.mark.parametrize("version", [4, 6])
def test_difference_matches_netaddr_ipsets(version: int) -> None:
    r = random.Random(11)
    base, shift, low = ((10 << 24), 8, 16) if version == 4 else (0x2001_0db8 << 96, 72, 40)
    for _ in range(300):
        def some(n: int) -> list[str]:
            return [str(ip_network((base | r.getrandbits(16) << shift,
                                    r.randrange(low, low + 14)), strict=False))
                    for _ in range(n)]
        prefixes, removed = some(r.randrange(1, 4)), some(r.randrange(0, 6))
        expected = netaddr.IPSet(prefixes) - netaddr.IPSet(removed)
        expected.compact()
        assert [str(n) for n in sp.difference(nets(*prefixes), nets(*removed))] == [
            str(c) for c in expected.iter_cidrs()]


# -- bounds --------------------------------------------------------------------------

def test_bounds_defaults() -> None:
    assert sp.prefix_bounds(4) == PrefixBounds(8, 32, 8)
    assert sp.prefix_bounds(6) == PrefixBounds(64, 128, 64)
    assert sp.prefix_bounds(4, min_prefixlen=16) == PrefixBounds(16, 32, 16)
    assert sp.prefix_bounds(4, 16, 28, 24) == PrefixBounds(16, 28, 24)


@pytest.mark.parametrize(("args", "kind", "message"), [
    ((4, -1), "UnsupportedMinSubnetPoolPrefix", "Prefix '-1' not supported in IPv4 pool."),
    ((4, 24, 16), "IllegalSubnetPoolPrefixBounds",
     "Illegal prefix bounds: min_prefixlen=24, max_prefixlen=16."),
    ((4, 8, 33), "IllegalSubnetPoolPrefixBounds",
     "Illegal prefix bounds: max_prefixlen=33, ip_version_max=32."),
    ((6, 64, 129), "IllegalSubnetPoolPrefixBounds",
     "Illegal prefix bounds: max_prefixlen=129, ip_version_max=128."),
    ((4, 16, 28, 8), "IllegalSubnetPoolPrefixBounds",
     "Illegal prefix bounds: default_prefixlen=8, min_prefixlen=16."),
    ((4, 16, 28, 30), "IllegalSubnetPoolPrefixBounds",
     "Illegal prefix bounds: default_prefixlen=30, max_prefixlen=28."),
])
def test_bounds_refused(args: tuple[int, ...], kind: str, message: str) -> None:
    with pytest.raises(NuboError) as err:
        sp.prefix_bounds(*args)
    assert fault(err) == (400, kind, message)


def test_prefixlen_within_bounds() -> None:
    bounds = PrefixBounds(16, 28, 24)
    sp.check_prefixlen(16, bounds)
    sp.check_prefixlen(28, bounds)
    with pytest.raises(NuboError) as err:
        sp.check_prefixlen(29, bounds)
    assert fault(err) == (400, "MaxPrefixSubnetAllocationError", "Unable to allocate subnet "
                          "with prefix length 29, maximum allowed prefix is 28.")
    with pytest.raises(NuboError) as err:
        sp.check_prefixlen(15, bounds)
    assert fault(err) == (400, "MinPrefixSubnetAllocationError", "Unable to allocate subnet "
                          "with prefix length 15, minimum allowed prefix is 16.")


def test_pool_version() -> None:
    sp.check_pool_version(4, 4)
    with pytest.raises(NuboError) as err:
        sp.check_pool_version(6, 4)
    assert fault(err) == (400, "BadRequest", "Bad subnets request: Cannot allocate IPv6 "
                          "subnet from IPv4 subnet pool.")


def test_quota() -> None:
    sp.check_quota(None, nets("10.0.0.0/24"), 24, 4)
    sp.check_quota(0, nets("10.0.0.0/16"), 16, 4)
    sp.check_quota(512, nets("10.0.0.0/24"), 24, 4)
    with pytest.raises(NuboError) as err:
        sp.check_quota(512, nets("10.0.0.0/24"), 23, 4)
    assert fault(err) == (409, "SubnetPoolQuotaExceeded",
                          "Per-project subnet pool prefix quota exceeded.")
    sp.check_quota(2, nets("2001:db8::/64"), 64, 6)
    with pytest.raises(NuboError):
        sp.check_quota(2, nets("2001:db8::/64"), 63, 6)


# -- allocation ------------------------------------------------------------------------

def test_allocate_from_an_empty_pool_takes_the_first_block() -> None:
    assert sp.allocate_any(nets("10.10.0.0/16"), [], 24) == ip_network("10.10.0.0/24")
    assert sp.allocate_any(nets("2001:db8::/48"), [], 64) == ip_network("2001:db8::/64")


def test_allocate_is_best_fit() -> None:
    prefixes = nets("10.0.0.0/16", "192.168.0.0/24")
    # the /24 pool prefix is the smallest block that holds a /26
    assert sp.allocate_any(prefixes, [], 26) == ip_network("192.168.0.0/26")
    # a hole of /25 left in 10.0.0.0/24 is used before cutting a fresh /24
    allocated = nets("10.0.0.0/25", "192.168.0.0/24")
    assert sp.allocate_any(prefixes, allocated, 25) == ip_network("10.0.0.128/25")
    assert sp.allocate_any(prefixes, allocated, 24) == ip_network("10.0.1.0/24")


def test_allocation_until_exhausted() -> None:
    prefixes, allocated = nets("10.0.0.0/22"), []
    for _ in range(4):
        allocated.append(sp.allocate_any(prefixes, allocated, 24))
    assert sorted(allocated) == nets("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24",
                                     "10.0.3.0/24")
    with pytest.raises(NuboError) as err:
        sp.allocate_any(prefixes, allocated, 24)
    assert fault(err) == (409, "SubnetAllocationError", "Failed to allocate subnet: "
                          "Insufficient prefix space to allocate subnet size /24.")


def test_allocation_never_overlaps_on_random_requests() -> None:
    r = random.Random(5)
    prefixes = nets("10.0.0.0/20", "172.16.0.0/22")
    allocated: list[IPNetwork] = []
    refused = 0
    for _ in range(200):
        length = r.randrange(22, 29)
        try:
            got = sp.allocate_any(prefixes, allocated, length)
        except NuboError:
            refused += 1
            assert not [n for n in sp.free_blocks(prefixes, allocated) if n.prefixlen <= length]
            continue
        assert got.prefixlen == length
        assert any(got.network_address in p and got.broadcast_address in p for p in prefixes)
        assert not any(got.overlaps(a) for a in allocated)
        allocated.append(got)
    assert len(allocated) > 15 and refused > 100


def test_specific_cidr() -> None:
    prefixes, allocated = nets("10.10.0.0/16"), nets("10.10.1.0/24")
    sp.check_specific(prefixes, allocated, ip_network("10.10.2.0/24"))
    sp.check_specific(prefixes, allocated, ip_network("10.10.0.0/24"))
    message = ("Failed to allocate subnet: Cannot allocate requested subnet from the "
               "available set of prefixes.")
    for cidr, status in (("192.168.1.0/24", 400), ("10.0.0.0/8", 400),
                         ("10.10.1.0/25", 409), ("10.10.0.0/23", 409)):
        with pytest.raises(NuboError) as err:
            sp.check_specific(prefixes, allocated, ip_network(cidr))
        assert fault(err) == (status, "SubnetAllocationError", message), cidr


def test_pool_gateway() -> None:
    assert sp.pool_gateway(ip_network("10.0.5.0/24")) == ip_address("10.0.5.1")
    assert sp.pool_gateway(ip_network("2001:db8:1::/64")) == ip_address("2001:db8:1::1")
    for cidr in ("10.0.0.0/31", "10.0.0.0/32", "2001:db8::/128"):
        with pytest.raises(NuboError) as err:
            sp.pool_gateway(ip_network(cidr))
        assert fault(err)[:2] == (400, "InvalidInput")


def test_network_of_a_gateway() -> None:
    assert sp.network_of(ip_address("10.0.5.1"), 24) == ip_network("10.0.5.0/24")
    assert sp.network_of(ip_address("2001:db8::1"), 64) == ip_network("2001:db8::/64")


def test_allocation_among_ten_thousand_subnets() -> None:
    prefixes = nets("10.0.0.0/8")
    allocated = [ip_network((int(ip_address("10.0.0.0")) + i * 256, 24))
                 for i in range(0, 20000, 2)]
    assert sp.allocate_any(prefixes, allocated, 24) == ip_network("10.0.1.0/24")
    assert sp.allocate_any(prefixes, allocated, 23) == ip_network("10.78.32.0/23")
    assert sp.free_blocks(prefixes, allocated)[0] == ip_network("10.0.1.0/24")
