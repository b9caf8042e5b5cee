"""Allocation pools and the choice of addresses (nubo.network.pools)."""

from __future__ import annotations

import random
from ipaddress import IPv4Address, ip_address, ip_network
from typing import Any

import netaddr
import pytest

from nubo.core.errors import NuboError
from nubo.network import pools
from nubo.network.pools import IpRange


def fault(err: pytest.ExceptionInfo[NuboError]) -> tuple[int, str, str]:
    return err.value.status, str(err.value.details.get("type")), err.value.message


def rng(a: str, b: str) -> IpRange:
    return IpRange(ip_address(a), ip_address(b))


def neutron_generate_pools(cidr: str, gateway: str | None) -> list[str]:
    """Neutron's ``ipam.utils.generate_pools`` restated with netaddr, as the oracle."""
    net = netaddr.IPNetwork(cidr)
    first, last = netaddr.IPAddress(net.first, net.version), netaddr.IPAddress(net.last,
                                                                               net.version)
    if first == last:
        return [f"{first}-{last}"]
    if net.version == 4 and net.prefixlen <= 30:
        first, last = first + 1, last - 1
    elif net.version == 6:
        first = first + 1
    ipset = netaddr.IPSet(netaddr.IPRange(first, last))
    if gateway:
        ipset.remove(netaddr.IPAddress(gateway))
    return [f"{netaddr.IPAddress(r.first, net.version)}-"
            f"{netaddr.IPAddress(r.last, net.version)}" for r in ipset.iter_ipranges()]


# -- ranges ------------------------------------------------------------------------

def test_range_basics() -> None:
    pool = rng("10.0.0.2", "10.0.0.9")
    assert (pool.size, pool.version, str(pool)) == (8, 4, "10.0.0.2-10.0.0.9")
    assert ip_address("10.0.0.2") in pool and ip_address("10.0.0.9") in pool
    assert ip_address("10.0.0.10") not in pool and ip_address("::a") not in pool
    assert pool.as_dict() == {"start": "10.0.0.2", "end": "10.0.0.9"}
    assert IpRange.of(pool.as_dict()) == pool
    assert pool.overlaps(rng("10.0.0.9", "10.0.0.20"))
    assert not pool.overlaps(rng("10.0.0.10", "10.0.0.20"))
    with pytest.raises(ValueError):
        rng("10.0.0.9", "10.0.0.2")
    with pytest.raises(ValueError):
        rng("10.0.0.1", "::5")


# -- default pools -----------------------------------------------------------------

@pytest.mark.parametrize(("cidr", "gateway", "expected"), [
    ("10.0.0.0/24", "10.0.0.1", ["10.0.0.2-10.0.0.254"]),
    ("10.0.0.0/24", "10.0.0.254", ["10.0.0.1-10.0.0.253"]),
    ("10.0.0.0/24", "10.0.0.100", ["10.0.0.1-10.0.0.99", "10.0.0.101-10.0.0.254"]),
    ("10.0.0.0/24", None, ["10.0.0.1-10.0.0.254"]),
    ("10.0.0.0/30", "10.0.0.1", ["10.0.0.2-10.0.0.2"]),
    ("10.0.0.0/31", None, ["10.0.0.0-10.0.0.1"]),
    ("10.0.0.0/32", None, ["10.0.0.0-10.0.0.0"]),
    ("2001:db8::/64", "2001:db8::", ["2001:db8::1-2001:db8::ffff:ffff:ffff:ffff"]),
    ("2001:db8::/64", "2001:db8::1", ["2001:db8::2-2001:db8::ffff:ffff:ffff:ffff"]),
    ("2001:db8::/127", "2001:db8::", ["2001:db8::1-2001:db8::1"]),
    ("2001:db8::/128", "2001:db8::", ["2001:db8::-2001:db8::"]),
])
def test_default_pools(cidr: str, gateway: str | None, expected: list[str]) -> None:
    network = ip_network(cidr)
    found = pools.default_pools(network, ip_address(gateway) if gateway else None)
    assert [str(p) for p in found] == expected


def test_default_pools_match_neutron_on_random_subnets() -> None:
    r = random.Random(2024)
    for _ in range(300):
        version = r.choice([4, 6])
        length = r.randrange(20, 33) if version == 4 else r.randrange(100, 129)
        bits = 32 if version == 4 else 128
        network = ip_network((r.getrandbits(bits), length), strict=False)
        gateway = None
        if r.random() < 0.8:
            gateway = network[r.randrange(network.num_addresses)]
        expected = neutron_generate_pools(str(network), str(gateway) if gateway else None)
        assert [str(p) for p in pools.default_pools(network, gateway)] == expected, network


# -- requested pools -----------------------------------------------------------------

def test_requested_pools_are_parsed_in_order() -> None:
    data = [{"start": "10.0.0.100", "end": "10.0.0.200"},
            {"start": "10.0.0.2", "end": "10.0.0.50"}]
    assert pools.parse_pools(data, ip_network("10.0.0.0/24")) == [
        rng("10.0.0.100", "10.0.0.200"), rng("10.0.0.2", "10.0.0.50")]
    assert pools.parse_pools(None, ip_network("10.0.0.0/24")) == []
    assert pools.parse_pools([], ip_network("10.0.0.0/24")) == []


def test_pools_may_use_every_address_of_small_ipv4_subnets() -> None:
    assert pools.parse_pools([{"start": "10.0.0.0", "end": "10.0.0.1"}],
                             ip_network("10.0.0.0/31")) == [rng("10.0.0.0", "10.0.0.1")]


@pytest.mark.parametrize(("data", "status", "kind", "message"), [
    ("10.0.0.2-10.0.0.9", 400, "InvalidInput",
     "Invalid input for operation: Invalid data format for allocation pools."),
    (["10.0.0.2"], 400, "InvalidInput",
     "Invalid input for operation: Invalid data format for allocation pools."),
    ([{"start": "10.0.0.2"}], 400, "HTTPBadRequest",
     "Invalid input for allocation_pools. Reason: Validation of dictionary's keys failed. "
     "Expected keys: {'end', 'start'} Provided keys: {'start'}."),
    ([{"start": "10.0.0.2", "end": "10.0.0.300"}], 400, "HTTPBadRequest",
     "Invalid input for allocation_pools. Reason: '10.0.0.300' is not a valid IP address."),
    ([{"start": "10.0.0.9", "end": "10.0.0.2"}], 400, "InvalidAllocationPool",
     "The allocation pool {'start': '10.0.0.9', 'end': '10.0.0.2'} is not valid."),
    ([{"start": "10.0.0.2", "end": "2001:db8::1"}], 400, "InvalidAllocationPool",
     "The allocation pool {'start': '10.0.0.2', 'end': '2001:db8::1'} is not valid."),
    ([{"start": "2001:db8::1", "end": "2001:db8::9"}], 400, "InvalidAllocationPool",
     "The allocation pool 2001:db8::1-2001:db8::9 is not valid."),
    ([{"start": "10.0.0.0", "end": "10.0.0.9"}], 400, "OutOfBoundsAllocationPool",
     "The allocation pool 10.0.0.0-10.0.0.9 spans beyond the subnet cidr 10.0.0.0/24."),
    ([{"start": "10.0.0.9", "end": "10.0.0.255"}], 400, "OutOfBoundsAllocationPool",
     "The allocation pool 10.0.0.9-10.0.0.255 spans beyond the subnet cidr 10.0.0.0/24."),
    ([{"start": "10.0.1.1", "end": "10.0.1.9"}], 400, "OutOfBoundsAllocationPool",
     "The allocation pool 10.0.1.1-10.0.1.9 spans beyond the subnet cidr 10.0.0.0/24."),
    ([{"start": "10.0.0.2", "end": "10.0.0.9"}, {"start": "10.0.0.20", "end": "10.0.0.30"},
      {"start": "10.0.0.9", "end": "10.0.0.10"}], 409, "OverlappingAllocationPools",
     "Found overlapping allocation pools: 10.0.0.2-10.0.0.9 10.0.0.9-10.0.0.10 for subnet "
     "10.0.0.0/24."),
])
def test_requested_pools_refused(data: Any, status: int, kind: str, message: str) -> None:
    with pytest.raises(NuboError) as err:
        pools.parse_pools(data, ip_network("10.0.0.0/24"))
    assert fault(err) == (status, kind, message)


def test_ipv6_pools_may_not_take_the_network_address() -> None:
    with pytest.raises(NuboError) as err:
        pools.parse_pools([{"start": "2001:db8::", "end": "2001:db8::5"}],
                          ip_network("2001:db8::/64"))
    assert fault(err)[1] == "OutOfBoundsAllocationPool"
    assert pools.parse_pools([{"start": "2001:db8::1", "end": "2001:db8::ffff:ffff:ffff:ffff"}],
                             ip_network("2001:db8::/64"))


def test_gateway_inside_a_pool_conflicts() -> None:
    given = [rng("10.0.0.10", "10.0.0.20"), rng("10.0.0.1", "10.0.0.5")]
    with pytest.raises(NuboError) as err:
        pools.check_gateway_outside_pools(ip_address("10.0.0.1"), given)
    assert fault(err) == (409, "GatewayConflictWithAllocationPools",
                          "Gateway ip 10.0.0.1 conflicts with allocation pool "
                          "10.0.0.1-10.0.0.5.")
    pools.check_gateway_outside_pools(ip_address("10.0.0.6"), given)
    pools.check_gateway_outside_pools(None, given)


# -- counting ------------------------------------------------------------------------

def test_total_addresses() -> None:
    network = ip_network("10.0.0.0/24")
    assert pools.total_addresses(network, [rng("10.0.0.2", "10.0.0.254")]) == 253
    assert pools.total_addresses(network, [rng("10.0.0.2", "10.0.0.3"),
                                           rng("10.0.0.10", "10.0.0.19")]) == 12
    assert pools.total_addresses(network, []) == 256
    assert pools.total_addresses(ip_network("2001:db8::/64"),
                                 [rng("2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff")]) == 2**64 - 1
    assert pools.in_pools(ip_address("10.0.0.3"), [rng("10.0.0.2", "10.0.0.3")])
    assert not pools.in_pools(ip_address("10.0.0.4"), [rng("10.0.0.2", "10.0.0.3")])


# -- choosing addresses ----------------------------------------------------------------

class CountingSet(frozenset[int]):
    """A frozenset that counts membership tests: the work of a walk."""

    lookups = 0

    def __contains__(self, value: object) -> bool:
        type(self).lookups += 1
        return super().__contains__(value)


def test_address_values() -> None:
    assert pools.address_values(["10.0.0.1", "2001:db8::1"]) == {
        int(ip_address("10.0.0.1")), int(ip_address("2001:db8::1"))}


def test_free_addresses_skip_allocated_and_walk_pools_in_address_order() -> None:
    given = [rng("10.0.0.20", "10.0.0.22"), rng("10.0.0.2", "10.0.0.4")]
    used = pools.address_values(["10.0.0.3", "10.0.0.20"])
    assert [str(a) for a in pools.free_addresses(given, used)] == [
        "10.0.0.2", "10.0.0.4", "10.0.0.21", "10.0.0.22"]
    # from a starting address on (what is below it is known to be taken)
    start = int(ip_address("10.0.0.4"))
    assert [str(a) for a in pools.free_addresses(given, used, start=start)] == [
        "10.0.0.4", "10.0.0.21", "10.0.0.22"]
    assert [str(a) for a in pools.candidates(given, used, start=start + 1, window=1)] == [
        "10.0.0.21"]


def test_candidates_are_the_first_free_addresses_in_random_order() -> None:
    pool = [rng("10.0.0.2", "10.0.0.254")]
    used = pools.address_values(f"10.0.0.{i}" for i in range(2, 50) if i % 3)
    free_first = [a for a in pools.free_addresses(pool, used)][:16]
    found = pools.candidates(pool, used, rng=random.Random(7))
    assert sorted(found) == free_first
    assert found != free_first          # shuffled (this seed does not give the sorted order)
    assert pools.candidates(pool, used, rng=random.Random(7)) == found
    assert pools.candidates(pool, used, window=1) == free_first[:1]


def test_candidates_spread_over_the_window() -> None:
    pool = [rng("10.0.0.2", "10.0.0.254")]
    r = random.Random(3)
    firsts = {pools.candidates(pool, frozenset(), window=16, rng=r)[0] for _ in range(400)}
    assert firsts == {IPv4Address(int(ip_address("10.0.0.2")) + i) for i in range(16)}


def test_no_candidate_when_the_pools_are_full() -> None:
    pool = [rng("10.0.0.2", "10.0.0.5")]
    used = pools.address_values(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"])
    assert pools.candidates(pool, used) == []
    assert pools.candidates([], frozenset()) == []
    err = pools.no_more_addresses("net-1")
    assert (err.status, err.details["type"], err.message) == (
        409, "IpAddressGenerationFailure", "No more IP addresses available on network net-1.")


def test_a_slash_16_with_60000_used_addresses_is_walked_once() -> None:
    pool = [rng("10.1.0.1", "10.1.255.254")]
    used_list = [str(IPv4Address(int(ip_address("10.1.0.1")) + i)) for i in range(60000)]
    used = CountingSet(pools.address_values(used_list))
    CountingSet.lookups = 0
    found = pools.candidates(pool, used, rng=random.Random(1))
    assert sorted(str(a) for a in found) == sorted(
        str(IPv4Address(int(ip_address("10.1.0.1")) + 60000 + i)) for i in range(16))
    assert CountingSet.lookups == 60000 + 16


def test_a_huge_ipv6_pool_is_not_materialised() -> None:
    pool = [rng("2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff")]
    used = CountingSet(pools.address_values(["2001:db8::1", "2001:db8::2"]))
    CountingSet.lookups = 0
    found = pools.candidates(pool, used, rng=random.Random(1))
    assert min(found) == ip_address("2001:db8::3") and len(found) == 16
    assert CountingSet.lookups == 18


def test_candidates_property_on_random_pools() -> None:
    r = random.Random(42)
    network = ip_network("10.0.0.0/24")
    for _ in range(200):
        starts = sorted(r.sample(range(1, 255), 4))
        given = [rng(str(network[starts[0]]), str(network[starts[1]])),
                 rng(str(network[starts[2]] + 1), str(network[starts[3]] + 1))]
        members = [a for p in given for a in map(IPv4Address, range(int(p.first),
                                                                     int(p.last) + 1))]
        used_addresses = {a for a in members if r.random() < 0.7}
        used = frozenset(int(a) for a in used_addresses)
        window = r.randrange(1, 20)
        found = pools.candidates(given, used, window=window, rng=r)
        free = [a for a in members if a not in used_addresses]
        assert sorted(found) == free[:window]


# -- requested addresses -----------------------------------------------------------------

@pytest.mark.parametrize(("cidr", "address", "owner", "accepted"), [
    ("10.0.0.0/24", "10.0.0.5", "compute:nova", True),
    ("10.0.0.0/24", "10.0.0.1", "compute:nova", True),       # outside pools is fine
    ("10.0.0.0/24", "10.0.0.0", "network:router_interface", False),
    ("10.0.0.0/24", "10.0.0.255", "", False),
    ("10.0.0.0/24", "10.0.1.5", "", False),
    ("10.0.0.0/24", "2001:db8::5", "", False),
    ("10.0.0.0/32", "10.0.0.0", "", False),
    ("2001:db8::/64", "2001:db8::", "compute:nova", False),
    ("2001:db8::/64", "2001:db8::", "network:router_interface", True),
    ("2001:db8::/64", "2001:db8::", "network:router_gateway", True),
    ("2001:db8::/64", "2001:db8::", "", True),
    ("2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff", "compute:nova", True),
])
def test_subnet_accepts(cidr: str, address: str, owner: str, accepted: bool) -> None:
    network, ip = ip_network(cidr), ip_address(address)
    assert pools.subnet_accepts(network, ip, owner) is accepted
    if accepted:
        pools.check_fixed_ip(network, ip, owner)
    else:
        with pytest.raises(NuboError) as err:
            pools.check_fixed_ip(network, ip, owner)
        assert fault(err) == (400, "InvalidIpForSubnet", f"IP address {ip} is not a valid "
                              "IP for the specified subnet.")


def test_subnet_for_address() -> None:
    subnets = {"v4": ip_network("10.0.0.0/24"), "v6": ip_network("2001:db8::/64")}
    assert pools.subnet_for_address(ip_address("10.0.0.9"), subnets) == "v4"
    assert pools.subnet_for_address(ip_address("2001:db8::9"), subnets) == "v6"
    with pytest.raises(NuboError) as err:
        pools.subnet_for_address(ip_address("10.0.0.255"), subnets)
    assert fault(err) == (400, "InvalidIpForNetwork", "IP address 10.0.0.255 is not a valid "
                          "IP for any of the subnets on the specified network.")


def test_address_taken() -> None:
    err = pools.address_taken(ip_address("10.0.0.5"), "sub-1")
    assert (err.status, err.details["type"], err.message) == (
        409, "IpAddressAlreadyAllocated", "IP address 10.0.0.5 already allocated in subnet sub-1")
