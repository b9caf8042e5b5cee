"""Subnets: what they are, who sees them, how they are shown and listed.

A subnet is visible to its project, to the owner of its network, and to every
project its network is shared with (RBAC ``access_as_shared``) or external for
(``access_as_external``, the ``subnet-external-network`` extension): Neutron's
rules. Creating, updating and deleting are in :mod:`subnet_writes`.

Other resources read subnets through :func:`find_subnet` (as the caller may see
them) and :func:`of_network` (all of a network's, for address allocation).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.ipam import IPNetwork
from nubo.network.pools import IpRange
from nubo.network.service import rbac, standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
    to_bool,
    to_int,
)

S, N = t.subnets, t.networks
TYPE = "subnet"
NETWORK = "network"
Conn = AsyncConnection | Tx


def _shared_filter(values: list[str]) -> ColumnElement[bool]:
    wanted = {to_bool(v) for v in values}
    shared = S.c.network_id.in_(select(rbac.R.c.object_id).where(
        rbac.R.c.object_type == NETWORK, rbac.R.c.action == rbac.SHARED))
    if wanted == {True}:
        return shared
    if wanted == {False}:
        return ~shared
    return or_(shared, ~shared)


def _external_filter(values: list[str]) -> ColumnElement[bool]:
    wanted = [to_bool(v) for v in values]
    return S.c.network_id.in_(select(N.c.id).where(N.c.external.in_(wanted)))


def _any(values: list[str]) -> ColumnElement[bool]:
    return S.c.id.isnot(None)


COLLECTION = Collection(
    name="subnets", table=S,
    filters={**standard_filters(S),
             "network_id": column_filter(S.c.network_id),
             "ip_version": column_filter(S.c.ip_version, to_int),
             "cidr": column_filter(S.c.cidr),
             "gateway_ip": column_filter(S.c.gateway_ip),
             "enable_dhcp": column_filter(S.c.enable_dhcp, to_bool),
             "ipv6_ra_mode": column_filter(S.c.ipv6_ra_mode),
             "ipv6_address_mode": column_filter(S.c.ipv6_address_mode),
             "subnetpool_id": column_filter(S.c.subnetpool_id),
             "segment_id": column_filter(S.c.segment_id),
             "dns_publish_fixed_ip": column_filter(S.c.dns_publish_fixed_ip, to_bool),
             "shared": _shared_filter,
             "router:external": _external_filter,
             # list-valued attributes: accepted and ignored, as Neutron does
             "allocation_pools": _any, "dns_nameservers": _any, "host_routes": _any,
             "service_types": _any},
    sort_keys={k: S.c[k] for k in (
        "id", "name", "network_id", "ip_version", "cidr", "gateway_ip", "enable_dhcp",
        "ipv6_ra_mode", "ipv6_address_mode", "subnetpool_id", "project_id", "created_at",
        "updated_at", "revision_number", "description")},
)


def visible_clauses(rt: Runtime, ctx: RequestContext) -> list[ColumnElement[bool]]:
    """What the caller may see of ``network_subnets`` (nothing to add for admins)."""
    if standard.is_admin(rt, ctx):
        return []
    owned_networks = select(N.c.id).where(N.c.project_id == ctx.project_id)
    return [or_(S.c.project_id == ctx.project_id, S.c.network_id.in_(owned_networks),
                rbac.visible(NETWORK, S.c.network_id, ctx.project_id,
                             (rbac.SHARED, rbac.EXTERNAL)))]


def not_found(subnet_id: str) -> NotFound:
    return NotFound(f"Subnet {subnet_id} could not be found.", type="SubnetNotFound")


_FIND = prebuilt(select(S).where(S.c.id == bindparam("b_id")))
_FIND_VISIBLE = prebuilt(select(S).where(
    S.c.id == bindparam("b_id"),
    or_(S.c.project_id == bindparam("b_project"),
        S.c.network_id.in_(select(N.c.id).where(N.c.project_id == bindparam("b_project"))),
        S.c.network_id.in_(select(rbac.R.c.object_id).where(
            rbac.R.c.object_type == NETWORK, rbac.R.c.action.in_([rbac.SHARED, rbac.EXTERNAL]),
            or_(rbac.R.c.target_project == rbac.EVERYONE,
                rbac.R.c.target_project == bindparam("b_project")))))))


async def find_subnet(conn: Conn, rt: Runtime, ctx: RequestContext, subnet_id: str
                      ) -> Row[Any]:
    """The subnet's row if the caller may see it; 404 SubnetNotFound otherwise."""
    statement: Any = _FIND
    params: dict[str, Any] | None = {"b_id": subnet_id}
    if standard.is_admin(rt, ctx):
        pass
    elif ctx.project_id is None:
        statement = select(S).where(S.c.id == subnet_id, *visible_clauses(rt, ctx))
        params = None
    else:
        statement = _FIND_VISIBLE
        params = {"b_id": subnet_id, "b_project": ctx.project_id}
    row = (await conn.execute(statement, params)).first()
    if row is None:
        raise not_found(subnet_id)
    return row


_OF_NETWORK = prebuilt(select(S).where(S.c.network_id == bindparam("b_network"))
                       .order_by(S.c.created_at, S.c.id))


async def of_network(conn: Conn, network_id: str) -> list[Row[Any]]:
    """Every subnet of a network, oldest first (whoever owns them)."""
    return list(await conn.execute(_OF_NETWORK, {"b_network": network_id}))


def cidr_of(row: Row[Any]) -> IPNetwork:
    """A stored subnet's CIDR."""
    return ipaddress.ip_network(row.cidr)


def pools_of(row: Row[Any]) -> list[IpRange]:
    """A stored subnet's allocation pools."""
    return [IpRange.of(pool) for pool in row.allocation_pools or []]


# -- views ---------------------------------------------------------------------------

_EXTERNAL = prebuilt(select(N.c.id).where(N.c.id.in_(bindparam("b_ids", expanding=True)),
                                          N.c.external.is_(True)))


async def views(conn: Conn, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """Subnets as Neutron shows them, with tags and their network's ``router:external``."""
    ids = [r.id for r in rows]
    tags = await standard.tags_of(conn, "subnets", ids)
    networks = {r.network_id for r in rows}
    external: set[str] = set()
    if networks:
        external = {r[0] for r in await conn.execute(_EXTERNAL, {"b_ids": list(networks)})}
    return [view(r, tags[r.id], r.network_id in external) for r in rows]


def view(row: Row[Any], tags: list[str], external: bool) -> dict[str, Any]:
    out = standard.view(row, tags)
    out.update({
        "name": row.name, "network_id": row.network_id, "ip_version": row.ip_version,
        "subnetpool_id": row.subnetpool_id, "cidr": row.cidr, "gateway_ip": row.gateway_ip,
        "enable_dhcp": row.enable_dhcp, "ipv6_ra_mode": row.ipv6_ra_mode,
        "ipv6_address_mode": row.ipv6_address_mode,
        "allocation_pools": [dict(p) for p in row.allocation_pools or []],
        "dns_nameservers": list(row.dns_nameservers or []),
        "host_routes": [dict(r) for r in row.host_routes or []],
        "service_types": list(row.service_types or []), "segment_id": row.segment_id,
        "dns_publish_fixed_ip": row.dns_publish_fixed_ip, "router:external": external,
    })
    return out


async def list_subnets(rt: Runtime, ctx: RequestContext, query: ListQuery
                       ) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, visible_clauses(rt, ctx))
        return await views(conn, rows), more


async def get_subnet(rt: Runtime, ctx: RequestContext, subnet_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_subnet(conn, rt, ctx, subnet_id)
        return (await views(conn, [row]))[0]


# -- policy targets ------------------------------------------------------------------

async def target_of(conn: Conn, ctx: RequestContext, row: Row[Any]) -> dict[str, Any]:
    """What the subnet policies look at: the subnet's and its network's owners, and
    whether the network is shared with the caller or external."""
    net = (await conn.execute(select(N.c.project_id, N.c.external)
                              .where(N.c.id == row.network_id))).one()
    shared = await rbac.granted(conn, NETWORK, [row.network_id], rbac.SHARED, ctx.project_id)
    return {"id": row.id, "project_id": row.project_id, "tenant_id": row.project_id,
            "network_id": row.network_id, "network:project_id": net.project_id,
            "network:tenant_id": net.project_id, "shared": bool(shared),
            "router:external": bool(net.external)}


async def get_target(rt: Runtime, ctx: RequestContext, subnet_id: str) -> dict[str, Any]:
    """The policy target of a subnet the caller can see (404 otherwise)."""
    async with rt.db.read() as conn:
        row = await find_subnet(conn, rt, ctx, subnet_id)
        return await target_of(conn, ctx, row)
