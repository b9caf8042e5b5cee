"""A subnet's allocation pools and the choice of addresses from them.

Pools are inclusive address ranges (:class:`IpRange`). Defaults, checks and messages
follow Neutron (``ipam/utils.generate_pools``, ``ipam_backend_mixin``, the
``neutrondb_ipam`` driver); ranges are walked lazily, so an IPv6 /64 pool costs no
more than a /24.

Address choice: :func:`candidates` takes the first free addresses of the pools (a
window, 16 by default) in random order. Concurrent requests then rarely try the same
address; the one that loses the race hits the unique constraint on
(subnet, address) and is retried by the caller with a fresh list.
"""

from __future__ import annotations

import ipaddress
import random
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from nubo.core.errors import BadRequest, Conflict
from nubo.network.errors import (
    bad_request,
    conflict,
    dict_keys_reason,
    invalid_attribute,
    invalid_input,
)
from nubo.network.ipam import IPAddress, IPNetwork, Unparsable, to_address

ROUTER_PORT_OWNERS = frozenset({
    "network:router_interface",
    "network:ha_router_replicated_interface",
    "network:router_interface_distributed",
    "network:router_centralized_snat",
    "network:router_gateway",
})
"""Device owners that may take an IPv6 subnet's network address (Neutron's
``ROUTER_PORT_OWNERS``)."""

DEFAULT_WINDOW = 16


@dataclass(frozen=True)
class IpRange:
    """An inclusive range of addresses of one IP version; a pool."""

    first: IPAddress
    last: IPAddress

    def __post_init__(self) -> None:
        if self.first.version != self.last.version or int(self.first) > int(self.last):
            raise ValueError(f"not a range: {self.first}-{self.last}")

    @classmethod
    def of(cls, pool: Mapping[str, str]) -> IpRange:
        """A stored pool, ``{"start": ..., "end": ...}`` (trusted, canonical)."""
        return cls(ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"]))

    @property
    def version(self) -> int:
        return self.first.version

    @property
    def size(self) -> int:
        return int(self.last) - int(self.first) + 1

    def __contains__(self, address: object) -> bool:
        return (isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
                and address.version == self.version
                and int(self.first) <= int(address) <= int(self.last))

    def overlaps(self, other: IpRange) -> bool:
        return (self.version == other.version and int(self.first) <= int(other.last)
                and int(other.first) <= int(self.last))

    def as_dict(self) -> dict[str, str]:
        return {"start": str(self.first), "end": str(self.last)}

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


def _address(version: int, value: int) -> IPAddress:
    if version == 4:
        return ipaddress.IPv4Address(value)
    return ipaddress.IPv6Address(value)


# -- defaults and checks -------------------------------------------------------------

def usable_range(network: IPNetwork) -> IpRange:
    """The addresses pools may cover: not the network address, nor IPv4 broadcast
    (both usable on IPv4 /31 and /32, as in Neutron)."""
    first, last = int(network.network_address), int(network.broadcast_address)
    if network.version == 6:
        first = min(first + 1, last)
    elif network.prefixlen <= 30:
        first, last = first + 1, last - 1
    return IpRange(_address(network.version, first), _address(network.version, last))


def default_pools(network: IPNetwork, gateway: IPAddress | None) -> list[IpRange]:
    """Neutron's pools for a subnet created without ``allocation_pools``: the usable
    range, split around the gateway. A one-address subnet is one pool, whole."""
    if network.num_addresses == 1:
        return [IpRange(network.network_address, network.network_address)]
    usable = usable_range(network)
    if gateway is None or gateway not in usable:
        return [usable]
    pools = []
    if gateway != usable.first:
        pools.append(IpRange(usable.first, gateway - 1))
    if gateway != usable.last:
        pools.append(IpRange(gateway + 1, usable.last))
    return pools


def parse_pools(data: object, network: IPNetwork) -> list[IpRange]:
    """Requested ``allocation_pools`` for ``network``, checked as Neutron does.

    None is no pools (as ``[]``). 400 for malformed pools, pools of the wrong version
    or reaching past the subnet; 409 for pools that overlap each other.
    """
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise invalid_input("Invalid data format for allocation pools")
    pools = [_to_range(pool) for pool in data]
    for pool in pools:
        _check_inside(pool, network)
    _check_disjoint(pools, network)
    return pools


def _to_range(pool: dict[str, Any]) -> IpRange:
    reason = dict_keys_reason(pool, ("start", "end"))
    if reason:
        raise invalid_attribute("allocation_pools", reason)
    try:
        start, end = to_address(pool["start"]), to_address(pool["end"])
    except Unparsable as err:
        raise invalid_attribute("allocation_pools", err.reason) from None
    try:
        return IpRange(start, end)
    except ValueError:
        raise bad_request("InvalidAllocationPool", "The allocation pool {'start': "
                          f"'{pool['start']}', 'end': '{pool['end']}'}} is not valid.") from None


def _check_inside(pool: IpRange, network: IPNetwork) -> None:
    if pool.version != network.version:
        raise bad_request("InvalidAllocationPool", f"The allocation pool {pool} is not valid.")
    usable = usable_range(network)
    if int(pool.first) < int(usable.first) or int(pool.last) > int(usable.last):
        raise bad_request("OutOfBoundsAllocationPool", f"The allocation pool {pool} spans "
                          f"beyond the subnet cidr {network}.")


def _check_disjoint(pools: Sequence[IpRange], network: IPNetwork) -> None:
    for i, left in enumerate(pools):
        for right in pools[i + 1:]:
            if left.overlaps(right):
                raise conflict("OverlappingAllocationPools", "Found overlapping allocation "
                               f"pools: {left} {right} for subnet {network}.")


def check_gateway_outside_pools(gateway: IPAddress | None, pools: Iterable[IpRange]) -> None:
    """409 if the gateway lies in a pool (at create, and at update when the gateway or
    the pools change)."""
    if gateway is None:
        return
    for pool in pools:
        if gateway in pool:
            raise conflict("GatewayConflictWithAllocationPools",
                           f"Gateway ip {gateway} conflicts with allocation pool {pool}.")


# -- counting ------------------------------------------------------------------------

def total_addresses(network: IPNetwork, pools: Iterable[IpRange]) -> int:
    """``total_ips`` of network-ip-availabilities: the pools' sizes, or the whole
    CIDR for a subnet without pools (as Neutron counts)."""
    sizes = [pool.size for pool in pools]
    return sum(sizes) if sizes else network.num_addresses


def in_pools(address: IPAddress, pools: Iterable[IpRange]) -> bool:
    return any(address in pool for pool in pools)


# -- choosing addresses ----------------------------------------------------------------

def address_values(addresses: Iterable[str]) -> frozenset[int]:
    """Stored (canonical) addresses as integers, for :func:`free_addresses`.

    ``inet_pton`` is several times faster than ``ipaddress`` on tens of thousands of
    rows.
    """
    return frozenset(
        int.from_bytes(socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a))
        for a in addresses)


def free_addresses(pools: Iterable[IpRange], allocated: AbstractSet[int], *,
                   start: int = 0) -> Iterator[IPAddress]:
    """The addresses of ``pools`` not in ``allocated`` (and not below ``start``),
    ascending, lazily.

    The cost is the number of allocated addresses walked over plus those yielded,
    whatever the size of the pools.
    """
    for pool in sorted(pools, key=lambda p: int(p.first)):
        for value in range(max(int(pool.first), start), int(pool.last) + 1):
            if value not in allocated:
                yield _address(pool.version, value)


def candidates(pools: Iterable[IpRange], allocated: AbstractSet[int], *,
               window: int = DEFAULT_WINDOW, rng: random.Random | None = None,
               start: int = 0) -> list[IPAddress]:
    """The first ``window`` free addresses (from ``start`` on) in random order; empty
    when none is free.

    ``window=1`` gives the first free address (Neutron's choice for DHCP ports).
    """
    found = []
    for address in free_addresses(pools, allocated, start=start):
        found.append(address)
        if len(found) >= window:
            break
    (rng or random).shuffle(found)
    return found


def no_more_addresses(network_id: str) -> Conflict:
    """409 when no subnet of the network has a free address for a port."""
    return conflict("IpAddressGenerationFailure",
                    f"No more IP addresses available on network {network_id}.")


# -- requested addresses -----------------------------------------------------------------

def subnet_accepts(network: IPNetwork, address: IPAddress, device_owner: str = "") -> bool:
    """Whether ``address`` may be a fixed IP on the subnet (Neutron's
    ``check_subnet_ip``): inside the CIDR, outside or inside the pools; never the
    IPv4 network or broadcast address; the IPv6 network address only for router
    ports or ports without an owner."""
    if address.version != network.version or address not in network:
        return False
    if network.version == 4:
        return address not in (network.network_address, network.broadcast_address)
    return (address != network.network_address or device_owner in ROUTER_PORT_OWNERS
            or device_owner == "")


def check_fixed_ip(network: IPNetwork, address: IPAddress, device_owner: str = "") -> None:
    """400 when a fixed IP requested on a given subnet is not valid on it."""
    if not subnet_accepts(network, address, device_owner):
        raise invalid_for_subnet(address)


def invalid_for_subnet(address: IPAddress) -> BadRequest:
    return bad_request("InvalidIpForSubnet", f"IP address {address} is not a valid IP "
                       "for the specified subnet.")


def subnet_for_address(address: IPAddress, subnets: Mapping[str, IPNetwork],
                       device_owner: str = "") -> str:
    """The subnet (key of ``subnets``, in order) a fixed IP without ``subnet_id``
    belongs to; 400 when none of the network's subnets accepts it."""
    for key, network in subnets.items():
        if subnet_accepts(network, address, device_owner):
            return key
    raise bad_request("InvalidIpForNetwork", f"IP address {address} is not a valid IP "
                      "for any of the subnets on the specified network.")


def address_taken(address: IPAddress, subnet_id: str) -> Conflict:
    """409 for a requested fixed IP another port holds."""
    return conflict("IpAddressAlreadyAllocated",
                    f"IP address {address} already allocated in subnet {subnet_id}")
