"""Address scopes: create, list, show, update, delete.

An address scope groups subnet pools whose addresses must never overlap (checked
when a pool joins the scope or changes its prefixes, in :mod:`subnetpools`). A
scope is visible to its project and to those it is shared with: as for networks,
``shared`` stands for an RBAC grant (``access_as_shared``) to everyone, and grants
to single projects (``/v2.0/rbac-policies``) count as well.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.ipam import IPNetwork
from nubo.network.service import quotas, rbac, standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    to_bool,
    to_int,
)

A = t.address_scopes
TYPE = "address_scope"
Conn = AsyncConnection | Tx

def shared_filter(object_type: str, id_column: ColumnElement[str]
                  ) -> Callable[[list[str]], ColumnElement[bool]]:
    """The ``shared`` list filter of an RBAC-shared resource: shared with anyone."""
    def where(values: list[str]) -> ColumnElement[bool]:
        wanted = {to_bool(v) for v in values}
        shared = id_column.in_(select(rbac.R.c.object_id).where(
            rbac.R.c.object_type == object_type, rbac.R.c.action == rbac.SHARED))
        if wanted == {True}:
            return shared
        if wanted == {False}:
            return ~shared
        return or_(shared, ~shared)

    return where


COLLECTION = Collection(
    name="address_scopes", table=A,
    filters={"id": column_filter(A.c.id), "name": column_filter(A.c.name),
             "project_id": column_filter(A.c.project_id),
             "tenant_id": column_filter(A.c.project_id),
             "ip_version": column_filter(A.c.ip_version, to_int),
             "shared": shared_filter(TYPE, A.c.id)},
    sort_keys={k: A.c[k] for k in ("id", "name", "ip_version", "project_id")},
    tagged=False,
)


def visible_clauses(rt: Runtime, ctx: RequestContext) -> list[ColumnElement[bool]]:
    if standard.is_admin(rt, ctx):
        return []
    return [rbac.visible_or_owned(TYPE, A.c.id, A.c.project_id, ctx.project_id)]


def not_found(scope_id: str) -> NotFound:
    return NotFound(f"Address scope {scope_id} could not be found.",
                    type="AddressScopeNotFound")


async def find_address_scope(conn: Conn, rt: Runtime, ctx: RequestContext, scope_id: str,
                             *, lock: bool = False) -> Row[Any]:
    """The scope's row if the caller may see it (404 otherwise); ``lock`` takes it
    ``FOR UPDATE`` so the pools joining it are checked one at a time."""
    stmt = select(A).where(A.c.id == scope_id, *visible_clauses(rt, ctx))
    if lock:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise not_found(scope_id)
    return row


async def views(conn: Conn, ctx: RequestContext, rows: Sequence[Row[Any]]
                ) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    granted = await rbac.granted(conn, TYPE, ids, rbac.SHARED, ctx.project_id)
    out = []
    for row in rows:
        # Neutron's address scopes have no description, timestamps nor revision
        out.append({"id": row.id, "name": row.name, "project_id": row.project_id,
                    "tenant_id": row.project_id, "ip_version": row.ip_version,
                    "shared": row.id in granted})
    return out


async def list_address_scopes(rt: Runtime, ctx: RequestContext, query: ListQuery
                              ) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, visible_clauses(rt, ctx))
        return await views(conn, ctx, rows), more


async def get_address_scope(rt: Runtime, ctx: RequestContext, scope_id: str
                            ) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_address_scope(conn, rt, ctx, scope_id)
        return (await views(conn, ctx, [row]))[0]


async def _view_of(tx: Tx, ctx: RequestContext, scope_id: str) -> dict[str, Any]:
    row = await standard.row_of(tx, A, scope_id)
    return (await views(tx, ctx, [row]))[0]


async def create_address_scope(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                               ) -> dict[str, Any]:
    project_id = standard.owner(ctx, body)
    async with rt.db.transaction() as tx:
        await quotas.consume(tx, rt.settings.network, project_id, TYPE)
        values = standard.new_values(project_id, body)
        values.update(name=body.get("name", ""), ip_version=int(body["ip_version"]),
                      shared=bool(body.get("shared", False)))
        await tx.execute(insert(A).values(values))
        if values["shared"]:
            await rbac.set_wildcard(tx, TYPE, values["id"], rbac.SHARED, project_id, True,
                                    settings=rt.settings.network)
        tx.publish("network.address_scope.create", {"id": values["id"]})
        return await _view_of(tx, ctx, values["id"])


async def update_address_scope(rt: Runtime, ctx: RequestContext, scope_id: str,
                               body: Mapping[str, Any]) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        row = await find_address_scope(tx, rt, ctx, scope_id)
        shared = bool(await rbac.wildcard(tx, TYPE, [scope_id], rbac.SHARED))
        if "shared" in body and shared and not body["shared"]:
            raise BadRequest(f"Unable to update address scope {scope_id} : Shared address "
                             "scope can't be unshared.", type="AddressScopeUpdateError")
        if body.get("shared") and not shared:
            await rbac.set_wildcard(tx, TYPE, scope_id, rbac.SHARED, row.project_id, True,
                                    settings=rt.settings.network)
        values = {k: body[k] for k in ("name", "shared") if k in body}
        await standard.touch(tx, A, scope_id, values)
        tx.publish("network.address_scope.update", {"id": scope_id})
        return await _view_of(tx, ctx, scope_id)


async def delete_address_scope(rt: Runtime, ctx: RequestContext, scope_id: str) -> None:
    async with rt.db.transaction() as tx:
        row = await find_address_scope(tx, rt, ctx, scope_id, lock=True)
        used = (await tx.execute(select(t.subnetpools.c.id).where(
            t.subnetpools.c.address_scope_id == scope_id).limit(1))).first()
        if used is not None:
            raise Conflict(f"Unable to complete operation on address scope {scope_id}. "
                           "There are one or more subnet pools in use on the address scope.",
                           type="AddressScopeInUse")
        await rbac.forget(tx, TYPE, scope_id)
        await tx.execute(delete(A).where(A.c.id == scope_id))
        await quotas.release(tx, row.project_id, TYPE)
        tx.publish("network.address_scope.delete", {"id": scope_id})


_OF_NETWORKS = prebuilt(
    select(t.subnets.c.network_id, t.subnets.c.ip_version, t.subnetpools.c.address_scope_id)
    .join(t.subnetpools, t.subnetpools.c.id == t.subnets.c.subnetpool_id)
    .where(t.subnets.c.network_id.in_(bindparam("b_ids", expanding=True)),
           t.subnetpools.c.address_scope_id.isnot(None)))


async def of_networks(conn: Conn, network_ids: Sequence[str]
                      ) -> dict[str, dict[int, str | None]]:
    """``ipv4_address_scope`` and ``ipv6_address_scope`` of each network: the scope
    of the pools its subnets of that version came from."""
    out: dict[str, dict[int, str | None]] = {n: {4: None, 6: None} for n in network_ids}
    if not network_ids:
        return out
    rows = await conn.execute(_OF_NETWORKS, {"b_ids": list(network_ids)})
    for network_id, version, scope in rows:
        out[network_id][int(version)] = scope
    return out


def is_owner(rt: Runtime, ctx: RequestContext, row: Row[Any]) -> bool:
    """Whether the caller owns the scope (admins own every scope), as Neutron's
    ``is_address_scope_owned_by_project``."""
    return standard.is_admin(rt, ctx) or row.project_id == ctx.project_id


async def check_pool_joins_tx(tx: Tx, rt: Runtime, ctx: RequestContext, pool_id: str,
                              scope_id: str, prefixes: Sequence[IPNetwork],
                              ip_version: int) -> None:
    """A subnet pool may be in the scope: the caller sees the scope, it is of the
    pool's IP version, and no other pool of the scope has any of the pool's
    addresses. The scope's row is locked first, so pools joining at once are
    checked one after the other."""
    scope = await find_address_scope(tx, rt, ctx, scope_id, lock=True)
    if scope.ip_version != ip_version:
        raise BadRequest(f"Illegal subnetpool association: subnetpool {pool_id} cannot "
                         f"associate with address scope {scope_id} because subnetpool "
                         f"ip_version is not {scope.ip_version}.",
                         type="IllegalSubnetPoolIpVersionAssociationToAddressScope")
    P = t.subnetpools
    others = await tx.execute(select(P.c.prefixes).where(
        P.c.address_scope_id == scope_id, P.c.id != pool_id).with_for_update(read=True))
    for (stored,) in others:
        if any(new.overlaps(ipaddress.ip_network(old)) for old in stored for new in prefixes
               if new.version == ip_version):
            raise Conflict("Failed to associate address scope: subnetpools within an "
                           "address scope must have unique prefixes.",
                           type="AddressScopePrefixConflict")
