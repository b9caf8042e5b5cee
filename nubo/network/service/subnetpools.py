"""Subnet pools: create, list, show, update, delete, add and remove prefixes, and
the locked reads subnets are carved from them with.

A pool is visible to its project and to those it is shared with: ``shared`` stands
for an RBAC grant (``access_as_shared``) to everyone, and grants to single projects
count as well. Carving a subnet locks the pool's row
first (:func:`lock_for_allocation`), so concurrent requests choose one after
the other and never get overlapping CIDRs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, NotFound
from nubo.core.runtime import Runtime
from nubo.network import subnetpools as sp
from nubo.network import tables as t
from nubo.network.errors import invalid_input
from nubo.network.ipam import IPNetwork
from nubo.network.service import address_scopes, quotas, rbac, standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
    to_bool,
    to_int,
)

P, S = t.subnetpools, t.subnets
TYPE = "subnetpool"
Conn = AsyncConnection | Tx
INTS = ("default_prefixlen", "min_prefixlen", "max_prefixlen", "default_quota", "ip_version")


def _any(values: list[str]) -> ColumnElement[bool]:
    return P.c.id.isnot(None)


COLLECTION = Collection(
    name="subnetpools", table=P,
    filters={**standard_filters(P),
             **{k: column_filter(P.c[k], to_int) for k in INTS},
             "shared": address_scopes.shared_filter(TYPE, P.c.id),
             "is_default": column_filter(P.c.is_default, to_bool),
             "address_scope_id": column_filter(P.c.address_scope_id),
             "prefixes": _any},
    sort_keys={k: P.c[k] for k in (
        "id", "name", "project_id", "is_default", "address_scope_id",
        "created_at", "updated_at", "revision_number", "description", *INTS)},
)


def visible_clauses(rt: Runtime, ctx: RequestContext) -> list[ColumnElement[bool]]:
    if standard.is_admin(rt, ctx):
        return []
    return [rbac.visible_or_owned(TYPE, P.c.id, P.c.project_id, ctx.project_id)]


def not_found(pool_id: str) -> NotFound:
    return NotFound(f"Subnet pool {pool_id} could not be found.", type="SubnetPoolNotFound")


async def find_subnetpool(conn: Conn, rt: Runtime, ctx: RequestContext, pool_id: str, *,
                          lock: bool = False) -> Row[Any]:
    """The pool's row if the caller may see it (404 SubnetPoolNotFound otherwise);
    ``lock`` takes it ``FOR UPDATE``."""
    stmt = select(P).where(P.c.id == pool_id, *visible_clauses(rt, ctx))
    if lock:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise not_found(pool_id)
    return row


def prefixes_of(row: Row[Any]) -> list[IPNetwork]:
    return [ipaddress.ip_network(p) for p in row.prefixes]


def bounds_of(row: Row[Any]) -> sp.PrefixBounds:
    return sp.PrefixBounds(row.min_prefixlen, row.max_prefixlen, row.default_prefixlen)


async def views(conn: Conn, ctx: RequestContext, rows: Sequence[Row[Any]]
                ) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    granted = await rbac.granted(conn, TYPE, ids, rbac.SHARED, ctx.project_id)
    tags = await standard.tags_of(conn, "subnetpools", ids)
    out = []
    for row in rows:
        item = standard.view(row, tags[row.id])
        item.update({k: row._mapping[k] for k in (
            "name", "ip_version", "default_prefixlen", "min_prefixlen", "max_prefixlen",
            "default_quota", "is_default", "address_scope_id")})
        item.update(prefixes=list(row.prefixes), shared=row.id in granted)
        out.append(item)
    return out


async def list_subnetpools(rt: Runtime, ctx: RequestContext, query: ListQuery
                           ) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, visible_clauses(rt, ctx))
        return await views(conn, ctx, rows), more


async def get_subnetpool(rt: Runtime, ctx: RequestContext, pool_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_subnetpool(conn, rt, ctx, pool_id)
        return (await views(conn, ctx, [row]))[0]


async def _view_of(tx: Tx, ctx: RequestContext, pool_id: str) -> dict[str, Any]:
    row = await standard.row_of(tx, P, pool_id)
    return (await views(tx, ctx, [row]))[0]


# -- what subnets use ----------------------------------------------------------------

async def default_pool(conn: Conn, rt: Runtime, ctx: RequestContext, ip_version: int
                       ) -> Row[Any]:
    """The default pool of an IP version the caller sees (``use_default_subnetpool``)."""
    row = (await conn.execute(select(P).where(
        P.c.is_default.is_(True), P.c.ip_version == ip_version, *visible_clauses(rt, ctx))
        .order_by(P.c.created_at).limit(1))).first()
    if row is None:
        raise BadRequest(f"Bad subnets request: No default subnetpool found for "
                         f"IPv{ip_version}.", type="BadRequest")
    return row


async def lock_for_allocation(tx: Tx, pool_id: str) -> None:
    """Take the pool's row ``FOR UPDATE``: subnets are carved from it one at a time."""
    await tx.execute(select(P.c.id).where(P.c.id == pool_id).with_for_update())


async def allocated(tx: Tx, pool_id: str, project_id: str | None = None
                    ) -> list[IPNetwork]:
    """The CIDRs of the pool's subnets (of one project, for ``default_quota``), read
    with a lock so a concurrent allocation's commit is seen."""
    stmt = select(S.c.cidr).where(S.c.subnetpool_id == pool_id)
    if project_id is not None:
        stmt = stmt.where(S.c.project_id == project_id)
    return [ipaddress.ip_network(c) for (c,) in await tx.execute(
        stmt.with_for_update(read=True))]


# -- create, update, delete ----------------------------------------------------------

async def _check_default_unique(tx: Tx, ip_version: int, pool_id: str) -> None:
    other = (await tx.execute(select(P.c.id).where(
        P.c.is_default.is_(True), P.c.ip_version == ip_version, P.c.id != pool_id)
        .limit(1))).first()
    if other is not None:
        raise invalid_input("A default subnetpool for this IP family has already been set. "
                            "Only one default may exist per IP family")


async def create_subnetpool(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                            ) -> dict[str, Any]:
    project_id = standard.owner(ctx, body)
    prefixes = sp.parse_prefixes(body["prefixes"])
    version = prefixes[0].version
    bounds = sp.prefix_bounds(version, body.get("min_prefixlen"), body.get("max_prefixlen"),
                              body.get("default_prefixlen"))
    async with rt.db.transaction() as tx:
        values = standard.new_values(project_id, body)
        if body.get("is_default"):
            await _check_default_unique(tx, version, values["id"])
        if body.get("address_scope_id"):
            await address_scopes.check_pool_joins_tx(
                tx, rt, ctx, values["id"], body["address_scope_id"], prefixes, version)
        await quotas.consume(tx, rt.settings.network, project_id, TYPE)
        values.update(
            name=body["name"], ip_version=version, prefixes=[str(p) for p in prefixes],
            default_prefixlen=bounds.default_prefixlen, min_prefixlen=bounds.min_prefixlen,
            max_prefixlen=bounds.max_prefixlen, default_quota=body.get("default_quota"),
            shared=bool(body.get("shared", False)), is_default=bool(body.get("is_default")),
            address_scope_id=body.get("address_scope_id"))
        await tx.execute(insert(P).values(values))
        if values["shared"]:
            await rbac.set_wildcard(tx, TYPE, values["id"], rbac.SHARED, project_id, True,
                                    settings=rt.settings.network)
        if body.get("tags"):
            await standard.replace_tags(tx, "subnetpools", values["id"], body["tags"])
        tx.publish("network.subnetpool.create", {"id": values["id"]})
        return await _view_of(tx, ctx, values["id"])


def _updated_prefixes(row: Row[Any], body: Mapping[str, Any]) -> list[IPNetwork]:
    if "prefixes" not in body:
        return prefixes_of(row)
    return sp.check_prefixes_update(prefixes_of(row), sp.parse_prefixes(body["prefixes"]))


async def update_subnetpool(rt: Runtime, ctx: RequestContext, pool_id: str,
                            body: Mapping[str, Any], *, if_match: int | None = None
                            ) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        row = await find_subnetpool(tx, rt, ctx, pool_id, lock=True)
        await _update_tx(tx, rt, ctx, row, body, if_match=if_match)
        return await _view_of(tx, ctx, pool_id)


async def _update_tx(tx: Tx, rt: Runtime, ctx: RequestContext, row: Row[Any],
                     body: Mapping[str, Any], *, if_match: int | None = None) -> None:
    prefixes = _updated_prefixes(row, body)
    bounds = sp.prefix_bounds(row.ip_version, *[body.get(k, row._mapping[k]) for k in (
        "min_prefixlen", "max_prefixlen", "default_prefixlen")])
    if body.get("is_default") and not row.is_default:
        await _check_default_unique(tx, row.ip_version, row.id)
    await _check_scope_update(tx, rt, ctx, row, body, prefixes)
    values: dict[str, Any] = {k: body[k] for k in ("name", "default_quota", "is_default",
                                                   "address_scope_id") if k in body}
    if "description" in body:
        values["description"] = standard.description(body)
    values.update(prefixes=[str(p) for p in prefixes], min_prefixlen=bounds.min_prefixlen,
                  max_prefixlen=bounds.max_prefixlen,
                  default_prefixlen=bounds.default_prefixlen)
    await standard.touch(tx, P, row.id, values, if_match=if_match)
    tx.publish("network.subnetpool.update", {"id": row.id})


async def _check_scope_update(tx: Tx, rt: Runtime, ctx: RequestContext, row: Row[Any],
                              body: Mapping[str, Any], prefixes: list[IPNetwork]) -> None:
    """Neutron's checks of a pool in (or joining) an address scope: the caller owns
    the scope it is in, the new scope takes its prefixes, and no network is left
    with subnets of one IP version in two scopes."""
    if row.address_scope_id:
        scope = await address_scopes.find_address_scope(tx, rt, ctx, row.address_scope_id)
        if not address_scopes.is_owner(rt, ctx, scope):
            raise BadRequest(f"Illegal subnetpool update : subnetpool {row.id} cannot be "
                             "updated when associated with shared address scope "
                             f"{row.address_scope_id}.", type="IllegalSubnetPoolUpdate")
    scope_id = body.get("address_scope_id", row.address_scope_id)
    if scope_id:
        await address_scopes.check_pool_joins_tx(tx, rt, ctx, row.id, scope_id, prefixes,
                                                 row.ip_version)
    if scope_id != row.address_scope_id:
        await _check_network_affinity(tx, row.id, row.ip_version)


async def _check_network_affinity(tx: Tx, pool_id: str, ip_version: int) -> None:
    """Re-scoping a pool must not leave a network whose subnets of one version come
    from this pool and from elsewhere."""
    networks = select(S.c.network_id).where(S.c.subnetpool_id == pool_id)
    other = (await tx.execute(select(S.c.id).where(
        S.c.network_id.in_(networks), S.c.ip_version == ip_version,
        or_(S.c.subnetpool_id.is_(None), S.c.subnetpool_id != pool_id)).limit(1))).first()
    if other is not None:
        raise BadRequest("Subnets of the same address family hosted on the same network "
                         "must all participate in the same address scope.",
                         type="NetworkAddressScopeAffinityError")


async def delete_subnetpool(rt: Runtime, ctx: RequestContext, pool_id: str, *,
                            if_match: int | None = None) -> None:
    async with rt.db.transaction() as tx:
        row = await find_subnetpool(tx, rt, ctx, pool_id, lock=True)
        if if_match is not None:
            await standard.touch(tx, P, pool_id, if_match=if_match)
        used = (await tx.execute(select(S.c.id).where(S.c.subnetpool_id == pool_id)
                                 .limit(1))).first()
        if used is not None:
            raise BadRequest("Unable to delete subnet pool: Subnet pool has existing "
                             "allocations.", type="SubnetPoolDeleteError")
        await rbac.forget(tx, TYPE, pool_id)
        await standard.drop_tags(tx, "subnetpools", [pool_id])
        await tx.execute(delete(P).where(P.c.id == pool_id))
        await quotas.release(tx, row.project_id, TYPE)
        tx.publish("network.subnetpool.delete", {"id": pool_id})


# -- prefix operations ---------------------------------------------------------------

async def add_prefixes(rt: Runtime, ctx: RequestContext, pool_id: str, data: list[Any]
                       ) -> list[str]:
    """``add_prefixes``: the pool's prefixes with ``data`` merged in."""
    added = sp.parse_prefixes(data)
    async with rt.db.transaction() as tx:
        row = await find_subnetpool(tx, rt, ctx, pool_id, lock=True)
        body = {"prefixes": [*row.prefixes, *(str(p) for p in added)]}
        await _update_tx(tx, rt, ctx, row, body)
        return list((await _view_of(tx, ctx, pool_id))["prefixes"])


async def remove_prefixes(rt: Runtime, ctx: RequestContext, pool_id: str, data: list[Any]
                          ) -> list[str]:
    """``remove_prefixes``: refused while a subnet of the pool has the addresses."""
    removed = sp.parse_prefixes(data)
    async with rt.db.transaction() as tx:
        row = await find_subnetpool(tx, rt, ctx, pool_id, lock=True)
        current = prefixes_of(row)
        if not any(r.overlaps(c) for r in removed for c in current if r.version == c.version):
            return list(row.prefixes)
        kept = sp.remove_prefixes(current, removed, await allocated(tx, pool_id))
        await standard.touch(tx, P, pool_id, {"prefixes": [str(p) for p in kept]})
        tx.publish("network.subnetpool.update", {"id": pool_id})
        return [str(p) for p in kept]
