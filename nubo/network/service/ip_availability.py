"""Network IP availability: per network and subnet, how many addresses the pools
hold (``total_ips``) and how many ports hold (``used_ips``).

Counted as Neutron counts them (``network_ip_availability_db``): ``total_ips`` is
the size of the allocation pools, or of the whole CIDR for a subnet without
pools; ``used_ips`` every allocation on the subnet, inside the pools or not.
Networks without subnets are listed with zeros.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql import ColumnElement

from nubo.core.auth.context import RequestContext
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.network import pools
from nubo.network import tables as t
from nubo.network.service.listing import to_int

N, S, IPA = t.networks, t.subnets, t.ip_allocations
FILTERS: Mapping[str, Any] = {
    "network_id": N.c.id, "network_name": N.c.name, "project_id": N.c.project_id,
    "tenant_id": N.c.project_id,
}


def _clauses(filters: Mapping[str, list[str]]) -> tuple[list[ColumnElement[bool]],
                                                        list[int] | None]:
    """Neutron's supported filters (others are ignored, as it ignores them); the IP
    versions asked for, if any."""
    clauses = [FILTERS[k].in_(v) for k, v in filters.items() if k in FILTERS and v]
    versions = [to_int(v) for v in filters.get("ip_version", [])] or None
    return clauses, versions


async def list_availabilities(rt: Runtime, ctx: RequestContext,
                              filters: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    clauses, versions = _clauses(filters)
    async with rt.db.read() as conn:
        networks = list(await conn.execute(
            select(N.c.id, N.c.name, N.c.project_id).where(*clauses)
            .order_by(N.c.created_at, N.c.id)))
        ids = [n.id for n in networks]
        stmt = select(S).where(S.c.network_id.in_(ids)).order_by(S.c.created_at, S.c.id)
        if versions is not None:
            stmt = stmt.where(S.c.ip_version.in_(versions))
        subnets = list(await conn.execute(stmt)) if ids else []
        used: dict[str, int] = {}
        if subnets:
            used = {sid: int(n) for sid, n in await conn.execute(
                select(IPA.c.subnet_id, func.count()).where(
                    IPA.c.subnet_id.in_([s.id for s in subnets])).group_by(IPA.c.subnet_id))}
    by_network: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in subnets:
        by_network[row.network_id].append(_subnet(row, used.get(row.id, 0)))
    if versions is not None:
        # as Neutron's inner filter: networks with no subnet of the version drop out
        networks = [n for n in networks if by_network[n.id]]
    return [_network(n, by_network[n.id]) for n in networks]


def _subnet(row: Any, used: int) -> dict[str, Any]:
    cidr = ipaddress.ip_network(row.cidr)
    ranges = [pools.IpRange.of(p) for p in row.allocation_pools or []]
    return {"subnet_id": row.id, "subnet_name": row.name, "cidr": row.cidr,
            "ip_version": row.ip_version, "used_ips": used,
            "total_ips": pools.total_addresses(cidr, ranges)}


def _network(row: Any, subnets: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"network_id": row.id, "network_name": row.name, "project_id": row.project_id,
            "tenant_id": row.project_id, "subnet_ip_availability": list(subnets),
            "used_ips": sum(s["used_ips"] for s in subnets),
            "total_ips": sum(s["total_ips"] for s in subnets)}


async def get_availability(rt: Runtime, ctx: RequestContext, network_id: str
                           ) -> dict[str, Any]:
    found = await list_availabilities(rt, ctx, {"network_id": [network_id]})
    if not found:
        raise NotFound(f"Network {network_id} could not be found.", type="NetworkNotFound")
    return found[0]
