"""Subnet pools: their prefixes and prefix-length bounds, and carving subnets out of
them.

As Neutron's ``SubnetPoolReader``/``SubnetAllocator``: prefixes are merged (overlapping
and adjacent ones combined); a subnet of a requested length is cut from the smallest
free block that holds it (best fit, lowest address first), which keeps big blocks
whole for big requests.

One difference: Neutron answers 500 when a pool cannot give a subnet
(``SubnetAllocationError``); nubo answers 409 when the pool is full and 400 when a
requested CIDR is not in the pool, with Neutron's message.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nubo.core.errors import BadRequest
from nubo.network.errors import bad_request, bad_resource_request, conflict, invalid_attribute
from nubo.network.ipam import IPAddress, IPNetwork, parse_cidr, unusable_default_gateway

DEFAULT_MIN_PREFIXLEN = {4: 8, 6: 64}
QUOTA_UNIT = {4: 32, 6: 64}
"""A pool's ``default_quota`` counts IPv4 addresses (/32s) and IPv6 /64s."""


@dataclass(frozen=True)
class PrefixBounds:
    min_prefixlen: int
    max_prefixlen: int
    default_prefixlen: int


# -- prefixes ------------------------------------------------------------------------

def parse_prefixes(data: object) -> list[IPNetwork]:
    """A request's ``prefixes``: CIDRs of one IP version, merged. Host bits are
    cleared, as Neutron's IP sets clear them."""
    if not isinstance(data, list):
        raise _invalid_prefixes(f"'{data}' is not a list")
    seen: list[object] = []
    for item in data:
        if item in seen:
            raise _invalid_prefixes(f"Duplicate items in the list: '{item}'")
        seen.append(item)
    prefixes = [parse_cidr(item, "prefixes") for item in data]
    if not prefixes:
        raise bad_request("EmptySubnetPoolPrefixList", "Empty subnet pool prefix list.")
    return merge(prefixes)


def _invalid_prefixes(reason: str) -> BadRequest:
    return invalid_attribute("prefixes", reason)


def merge(prefixes: Iterable[IPNetwork]) -> list[IPNetwork]:
    """The fewest CIDRs covering exactly ``prefixes`` (all of one version)."""
    return difference(prefixes, [])


def difference(prefixes: Iterable[IPNetwork], removed: Iterable[IPNetwork]) -> list[IPNetwork]:
    """The addresses of ``prefixes`` outside ``removed``, as the fewest CIDRs."""
    version, blocks = _free_space(prefixes, removed)
    return _networks(version, blocks)


# Integer arithmetic below: tens of thousands of allocated subnets cost milliseconds,
# where ipaddress objects cost a second.
Block = tuple[int, int]
"""A CIDR as (first address, prefix length)."""


def _free_space(prefixes: Iterable[IPNetwork],
                removed: Iterable[IPNetwork]) -> tuple[int, list[Block]]:
    kept = list(prefixes)
    if len({p.version for p in kept}) > 1:
        raise bad_request("PrefixVersionMismatch",
                          "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
    if not kept:
        return 4, []
    version = kept[0].version
    cuts = _spans(r for r in removed if r.version == version)
    return version, _free(version, _spans(kept), cuts)


def _spans(networks: Iterable[IPNetwork]) -> list[tuple[int, int]]:
    """Sorted, merged (first, last) intervals covering ``networks``."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted((int(n.network_address), int(n.broadcast_address))
                              for n in networks):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _free(version: int, spans: list[tuple[int, int]],
          cuts: list[tuple[int, int]]) -> list[Block]:
    """``spans`` minus ``cuts`` (both sorted and merged), as CIDR blocks: one sweep."""
    bits = 32 if version == 4 else 128
    blocks: list[Block] = []
    i = 0
    for first, last in spans:
        while i < len(cuts) and cuts[i][1] < first:
            i += 1
        j = i
        while j < len(cuts) and cuts[j][0] <= last:
            blocks.extend(_cidrs(first, min(cuts[j][0] - 1, last), bits))
            first = max(first, cuts[j][1] + 1)
            j += 1
        blocks.extend(_cidrs(first, last, bits))
    return blocks


def _cidrs(first: int, last: int, bits: int) -> Iterator[Block]:
    """The fewest CIDRs covering first..last, in address order."""
    while first <= last:
        aligned = (first & -first).bit_length() - 1 if first else bits
        size = min(aligned, (last - first + 1).bit_length() - 1)
        yield first, bits - size
        first += 1 << size


def _networks(version: int, blocks: Iterable[Block]) -> list[IPNetwork]:
    return [_network(version, first, length) for first, length in blocks]


def _network(version: int, first: int, length: int) -> IPNetwork:
    if version == 4:
        return ipaddress.IPv4Network((first, length))
    return ipaddress.IPv6Network((first, length))


def _address(version: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def check_prefixes_update(current: list[IPNetwork], new: list[IPNetwork]) -> list[IPNetwork]:
    """New ``prefixes`` of a pool (merged): they must keep every current address."""
    merged = merge([*new, *current])
    if merged != merge(new):
        raise _illegal_prefix_update("Existing prefixes must be a subset of the new prefixes")
    return merged


def remove_prefixes(current: list[IPNetwork], removed: list[IPNetwork],
                    allocated: list[IPNetwork]) -> list[IPNetwork]:
    """``remove_prefixes``: refused while a subnet of the pool uses the addresses."""
    if any(a.overlaps(r) for a in allocated for r in removed if a.version == r.version):
        raise _illegal_prefix_update(
            "One or more the prefixes to be removed is in use by a subnet.")
    return difference(current, removed)


def _illegal_prefix_update(msg: str) -> BadRequest:
    return bad_request("IllegalSubnetPoolPrefixUpdate", f"Illegal update to prefixes: {msg}.")


# -- prefix lengths ------------------------------------------------------------------

def prefix_bounds(ip_version: int, min_prefixlen: int | None = None,
                  max_prefixlen: int | None = None,
                  default_prefixlen: int | None = None) -> PrefixBounds:
    """A pool's bounds, unset ones defaulted (min: 8 or 64; max: 32 or 128; default:
    min) and checked as Neutron checks them."""
    top = 32 if ip_version == 4 else 128
    low = DEFAULT_MIN_PREFIXLEN[ip_version] if min_prefixlen is None else min_prefixlen
    high = top if max_prefixlen is None else max_prefixlen
    default = low if default_prefixlen is None else default_prefixlen
    if low < 0:
        raise bad_request("UnsupportedMinSubnetPoolPrefix",
                          f"Prefix '{low}' not supported in IPv{ip_version} pool.")
    _check_bound("min_prefixlen", low, "max_prefixlen", high, low > high)
    _check_bound("max_prefixlen", high, "ip_version_max", top, high > top)
    _check_bound("default_prefixlen", default, "min_prefixlen", low, default < low)
    _check_bound("default_prefixlen", default, "max_prefixlen", high, default > high)
    return PrefixBounds(low, high, default)


def _check_bound(name: str, value: int, base_name: str, base: int, illegal: bool) -> None:
    if illegal:
        raise bad_request("IllegalSubnetPoolPrefixBounds", "Illegal prefix bounds: "
                          f"{name}={value}, {base_name}={base}.")


def check_prefixlen(prefixlen: int, bounds: PrefixBounds) -> None:
    """A subnet's prefix length must be within the pool's bounds."""
    if prefixlen > bounds.max_prefixlen:
        raise bad_request("MaxPrefixSubnetAllocationError", "Unable to allocate subnet with "
                          f"prefix length {prefixlen}, maximum allowed prefix is "
                          f"{bounds.max_prefixlen}.")
    if prefixlen < bounds.min_prefixlen:
        raise bad_request("MinPrefixSubnetAllocationError", "Unable to allocate subnet with "
                          f"prefix length {prefixlen}, minimum allowed prefix is "
                          f"{bounds.min_prefixlen}.")


def check_pool_version(ip_version: int, pool_version: int) -> None:
    """A subnet asking for a pool must be of the pool's IP version."""
    if ip_version != pool_version:
        raise bad_resource_request("subnets", f"Cannot allocate IPv{ip_version} subnet "
                                   f"from IPv{pool_version} subnet pool")


def check_quota(quota: int | None, used: Iterable[IPNetwork], prefixlen: int,
                ip_version: int) -> None:
    """``default_quota``: the project's subnets from the pool plus the new one, in
    units of /32 (IPv4) or /64 (IPv6), must not pass the quota (0 or None: none)."""
    if not quota:
        return
    unit = QUOTA_UNIT[ip_version]
    total = sum(2.0 ** (unit - n.prefixlen) for n in used) + 2.0 ** (unit - prefixlen)
    if total > quota:
        raise conflict("SubnetPoolQuotaExceeded",
                       "Per-project subnet pool prefix quota exceeded.")


# -- carving subnets -----------------------------------------------------------------

def free_blocks(prefixes: Iterable[IPNetwork], allocated: Iterable[IPNetwork]) -> list[IPNetwork]:
    """The pool's unallocated space as CIDRs, smallest blocks first, then by address."""
    version, blocks = _free_space(prefixes, allocated)
    return _networks(version, sorted(blocks, key=_best_fit))


def _best_fit(block: Block) -> tuple[int, int]:
    first, length = block
    return -length, first


def allocate_any(prefixes: Iterable[IPNetwork], allocated: Iterable[IPNetwork],
                 prefixlen: int) -> IPNetwork:
    """The subnet of length ``prefixlen`` to give a request without a CIDR: the first
    one of the smallest free block that can hold it."""
    version, blocks = _free_space(prefixes, allocated)
    fitting = [block for block in blocks if block[1] <= prefixlen]
    if not fitting:
        raise conflict("SubnetAllocationError", "Failed to allocate subnet: Insufficient "
                       f"prefix space to allocate subnet size /{prefixlen}.")
    first, _ = min(fitting, key=_best_fit)
    return _network(version, first, prefixlen)


def check_specific(prefixes: Iterable[IPNetwork], allocated: Iterable[IPNetwork],
                   cidr: IPNetwork) -> None:
    """A requested CIDR must lie in the pool (400) and be free (409)."""
    reason = ("Failed to allocate subnet: Cannot allocate requested subnet from the "
              "available set of prefixes.")
    if not any(cidr.version == p.version and p.prefixlen <= cidr.prefixlen
               and p.overlaps(cidr) for p in prefixes):
        raise bad_request("SubnetAllocationError", reason)
    if any(cidr.version == a.version and cidr.overlaps(a) for a in allocated):
        raise conflict("SubnetAllocationError", reason)


def pool_gateway(network: IPNetwork) -> IPAddress:
    """The gateway of a subnet cut from a pool without ``gateway_ip``: the address
    after the network address, IPv4 and IPv6 alike (as Neutron)."""
    value = int(network.network_address) + 1
    last = int(network.broadcast_address) - (1 if network.version == 4 else 0)
    if value > last:
        shown = _address(network.version, min(value, int(network.broadcast_address)))
        raise unusable_default_gateway(shown, network)
    return _address(network.version, value)


def network_of(gateway: IPAddress, prefixlen: int) -> IPNetwork:
    """The subnet of a pool request that gives ``gateway_ip`` and no CIDR."""
    if isinstance(gateway, ipaddress.IPv4Address):
        return ipaddress.IPv4Network((gateway, prefixlen), strict=False)
    return ipaddress.IPv6Network((gateway, prefixlen), strict=False)
