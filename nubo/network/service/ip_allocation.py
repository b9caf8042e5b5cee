"""Fixed IPs in the database: a network's subnets as address choice sees them, the
addresses ports hold, and allocation that never hands an address out twice.

The primary key of ``network_ip_allocations`` (subnet, address) is the guarantee: each
address is inserted in a savepoint, and when another request got it first (the insert
fails on the key) the next candidate is tried, then a fresh list of candidates. What
to allocate is planned by :mod:`nubo.network.fixed_ips`; candidates come from
:func:`nubo.network.pools.candidates` (the first free addresses of the pools, shuffled,
so concurrent requests seldom try the same one), computed from what the process knows
each subnet holds (``_Known``: read once, then kept by its own allocations and
releases, read again when it runs out and every ``KNOWN_USES`` allocations).
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.errors import NotFound
from nubo.network import tables as t
from nubo.network.fixed_ips import Held, Subnet, Want
from nubo.network.ipam import IPAddress
from nubo.network.ipv6 import is_auto_address
from nubo.network.pools import (
    IpRange,
    address_taken,
    address_values,
    candidates,
    no_more_addresses,
)
from nubo.network.service import subnets

IA, SN = t.ip_allocations, t.subnets


async def network_subnets(conn: AsyncConnection | Tx, network_id: str) -> list[Subnet]:
    """The network's subnets, oldest first."""
    rows = await subnets.of_network(conn, network_id)
    return [Subnet(id=r.id, network=ipaddress.ip_network(r.cidr),
                   pools=tuple(IpRange.of(p) for p in r.allocation_pools or []),
                   auto_address=is_auto_address(r.ipv6_ra_mode, r.ipv6_address_mode),
                   service_types=tuple(r.service_types or ()))
            for r in rows]


_EXISTING = prebuilt(select(SN.c.id).where(SN.c.id.in_(bindparam("b_ids", expanding=True))))


async def check_subnets_exist(conn: AsyncConnection | Tx, subnet_ids: Iterable[str]) -> None:
    """404 SubnetNotFound for a requested subnet that exists nowhere (one on another
    network is a 400, raised by the plan)."""
    wanted = sorted(set(subnet_ids))
    if not wanted:
        return
    found = {r[0] for r in await conn.execute(_EXISTING, {"b_ids": wanted})}
    for subnet_id in wanted:
        if subnet_id not in found:
            raise NotFound(f"Subnet {subnet_id} could not be found.", type="SubnetNotFound")


_HELD = prebuilt(select(IA.c.port_id, IA.c.subnet_id, IA.c.ip_address, SN.c.ip_version,
                        SN.c.created_at)
                 .join(SN, SN.c.id == IA.c.subnet_id)
                 .where(IA.c.port_id.in_(bindparam("b_ids", expanding=True))))
_OF_PORT = prebuilt(select(IA.c.subnet_id, IA.c.ip_address)
                    .where(IA.c.port_id == bindparam("b_port")))
_ALLOCATED = prebuilt(select(IA.c.ip_address).where(IA.c.subnet_id == bindparam("b_subnet")))


async def held(conn: AsyncConnection | Tx, port_ids: Sequence[str]) -> dict[str, list[Held]]:
    """The fixed IPs of each port: IPv4 first, then by subnet age and address."""
    out: dict[str, list[Held]] = {p: [] for p in port_ids}
    if not port_ids:
        return out
    rows = await conn.execute(_HELD, {"b_ids": list(port_ids)})
    ordered = sorted(rows, key=lambda r: (r.ip_version, r.created_at, r.subnet_id,
                                          int(ipaddress.ip_address(r.ip_address))))
    for r in ordered:
        out[r.port_id].append(Held(r.subnet_id, r.ip_address))
    return out


async def _take(tx: Tx, network_id: str, port_id: str, subnet_id: str,
                address: IPAddress) -> bool:
    """Insert one allocation in a savepoint; False when the address is taken."""
    try:
        async with tx.conn.begin_nested():
            row = {"subnet_id": subnet_id, "ip_address": str(address), "port_id": port_id,
                   "network_id": network_id}
            await tx.execute(insert_of(IA, row), row)
    except IntegrityError as exc:
        if not is_duplicate(exc):
            raise
        return False
    return True


@dataclass
class _Known:
    """What this process knows a subnet holds: a hint, never the guarantee (the
    table's key is). Addresses it allocated or saw taken are in ``allocated``;
    every pool address below ``floor`` was allocated when last looked at."""

    allocated: set[int]
    floor: int = 0
    uses: int = 0


# by subnet id, least recently used first
_KNOWN: OrderedDict[str, _Known] = OrderedDict()
KNOWN_SUBNETS = 256
# allocations after which a subnet's hint is read again (addresses other processes
# freed, or transactions that rolled back, become candidates again)
KNOWN_USES = 1000


async def _read_known(tx: Tx, subnet_id: str, lost: set[int]) -> _Known:
    rows = await tx.execute(_ALLOCATED, {"b_subnet": subnet_id})
    known = _KNOWN[subnet_id] = _Known(set(address_values(r[0] for r in rows)) | lost)
    _KNOWN.move_to_end(subnet_id)
    while len(_KNOWN) > KNOWN_SUBNETS:
        _KNOWN.popitem(last=False)
    return known


def _forget(subnet_id: str, addresses: Iterable[str]) -> None:
    """Addresses released: candidates again."""
    known = _KNOWN.get(subnet_id)
    if known is not None:
        for value in address_values(addresses):
            known.allocated.discard(value)
            known.floor = min(known.floor, value)


async def _any_free(tx: Tx, network_id: str, port_id: str, subnet: Subnet) -> Held | None:
    """A free address of the subnet's pools, or None when it has none left.

    Candidates come from what this process knows the subnet holds, read from the
    database once and then kept up to date by its own allocations (a large
    external network holds thousands of addresses). Another process's allocation
    shows up as a collision and the next candidate is tried; a read again before
    saying that nothing is free, and every ``KNOWN_USES`` allocations."""
    lost: set[int] = set()  # addresses others took while we tried them
    known = _KNOWN.get(subnet.id)
    fresh = known is None or known.uses >= KNOWN_USES
    if known is None or fresh:
        known = await _read_known(tx, subnet.id, lost)
    known.uses += 1
    while True:
        found = candidates(subnet.pools, known.allocated, start=known.floor)
        if not found:
            if fresh:
                return None
            known, fresh = await _read_known(tx, subnet.id, lost), True
            continue
        known.floor = min(int(a) for a in found)
        for address in found:
            taken = await _take(tx, network_id, port_id, subnet.id, address)
            known.allocated.add(int(address))
            if taken:
                return Held(subnet.id, str(address))
            lost.add(int(address))
        # every candidate went to others: look again (a read in a transaction that
        # keeps its first snapshot, as MariaDB's, does not show them: ``lost`` does)
        known, fresh = await _read_known(tx, subnet.id, lost), True


async def allocate_tx(tx: Tx, network_id: str, port_id: str, wants: Sequence[Want],
                      subnets: Sequence[Subnet]) -> list[Held]:
    """Allocate every want to the port; 409 IpAddressAlreadyAllocated for a given address
    that is taken, 409 IpAddressGenerationFailure when no subnet has a free one."""
    by_id: Mapping[str, Subnet] = {s.id: s for s in subnets}
    out = []
    for want in wants:
        if want.address is not None:
            subnet_id = want.subnets[0]
            if not await _take(tx, network_id, port_id, subnet_id, want.address):
                raise address_taken(want.address, subnet_id)
            out.append(Held(subnet_id, str(want.address)))
            continue
        for subnet_id in want.subnets:
            got = await _any_free(tx, network_id, port_id, by_id[subnet_id])
            if got is not None:
                out.append(got)
                break
        else:
            raise no_more_addresses(network_id)
    return out


async def release_tx(tx: Tx, port_id: str, addresses: Iterable[Held] | None = None) -> None:
    """Free some of a port's addresses, or all of them (None)."""
    if addresses is None:
        freed = await tx.execute(_OF_PORT, {"b_port": port_id})
        for subnet_id, address in freed:
            _forget(subnet_id, [address])
        await tx.execute(delete(IA).where(IA.c.port_id == port_id))
        return
    for h in addresses:
        _forget(h.subnet_id, [h.address])
        await tx.execute(delete(IA).where(IA.c.port_id == port_id,
                                          IA.c.subnet_id == h.subnet_id,
                                          IA.c.ip_address == h.address))
