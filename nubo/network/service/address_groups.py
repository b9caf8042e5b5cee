"""Address groups: named sets of CIDRs a security group rule can match
(``remote_address_group_id``), with the ``add_addresses`` and ``remove_addresses``
actions.

An address group is visible to its project and to projects it is shared with
(RBAC ``access_as_shared`` on object type ``address_group``). Addresses are kept as
networks (host bits cleared, as Neutron stores them); the primary key of
``network_address_group_addresses`` keeps each one once per group.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.errors import invalid_attribute
from nubo.network.ipam import parse_cidr
from nubo.network.service import rbac, standard
from nubo.network.service.listing import Collection, ListQuery, list_rows, standard_filters

AG, A = t.address_groups, t.address_group_addresses
TYPE = "address_group"

COLLECTION = Collection(
    name="address-groups", table=AG, tagged=False, filters=standard_filters(AG),
    sort_keys={**{k: AG.c[k] for k in ("id", "name", "description", "project_id",
                                       "created_at", "updated_at", "revision_number")},
               "tenant_id": AG.c.project_id},
)


def parse_addresses(value: Any) -> list[str]:
    """A list of CIDRs as neutron-lib's ``subnet_list`` validator takes it, normalised
    to networks (``10.0.0.1/24`` is ``10.0.0.0/24``)."""
    if not isinstance(value, list):
        raise invalid_attribute("addresses", f"'{value}' is not a list")
    duplicates = sorted({str(v) for v in value if value.count(v) > 1})
    if duplicates:
        raise invalid_attribute("addresses",
                                f"Duplicate items in the list: '{', '.join(duplicates)}'")
    return list(dict.fromkeys(str(parse_cidr(v, "addresses")) for v in value))


def _order(address: str) -> tuple[int, int, int]:
    network = ipaddress.ip_network(address)
    return network.version, int(network.network_address), network.prefixlen


def _visible(rt: Runtime, ctx: RequestContext) -> list[Any]:
    if standard.is_admin(rt, ctx):
        return []
    return [rbac.visible_or_owned(TYPE, AG.c.id, AG.c.project_id, ctx.project_id)]


async def views(conn: AsyncConnection | Tx, ctx: RequestContext, rows: Sequence[Row[Any]]
                ) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    addresses: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for group_id, address in await conn.execute(
                select(A.c.address_group_id, A.c.address).where(A.c.address_group_id.in_(ids))):
            addresses[group_id].append(address)
    shared = await rbac.granted(conn, TYPE, ids, rbac.SHARED, ctx.project_id)
    out = []
    for row in rows:
        view = standard.view(row, None)
        view.update(name=row.name, addresses=sorted(addresses[row.id], key=_order),
                    shared=row.id in shared)
        out.append(view)
    return out


async def list_address_groups(rt: Runtime, ctx: RequestContext, query: ListQuery
                              ) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, _visible(rt, ctx))
        return await views(conn, ctx, rows), more


def not_found(group_id: str) -> NotFound:
    return NotFound(f"Address group {group_id} could not be found.", type="AddressGroupNotFound")


async def find_address_group(conn: AsyncConnection | Tx, rt: Runtime, ctx: RequestContext,
                             group_id: str) -> Row[Any]:
    """The group's row if the caller may see it; 404 AddressGroupNotFound otherwise."""
    row = (await conn.execute(select(AG).where(AG.c.id == group_id, *_visible(rt, ctx)))
           ).first()
    if row is None:
        raise not_found(group_id)
    return row


async def check_usable_tx(tx: Tx, rt: Runtime, ctx: RequestContext, project_id: str,
                          group_id: str) -> None:
    """A rule of ``project_id`` may match the group: it exists and the project owns it or
    has it shared (an admin may use any); 404 AddressGroupNotFound otherwise."""
    stmt = select(AG.c.id).where(AG.c.id == group_id).with_for_update(read=True)
    if not standard.is_admin(rt, ctx):
        stmt = stmt.where(rbac.visible_or_owned(TYPE, AG.c.id, AG.c.project_id, project_id))
    if (await tx.execute(stmt)).first() is None:
        raise not_found(group_id)


async def get_address_group(rt: Runtime, ctx: RequestContext, group_id: str
                            ) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_address_group(conn, rt, ctx, group_id)
        return (await views(conn, ctx, [row]))[0]


async def _reload(tx: Tx, ctx: RequestContext, group_id: str) -> dict[str, Any]:
    row = await standard.row_of(tx, AG, group_id)
    return (await views(tx, ctx, [row]))[0]


async def create_address_group(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                               ) -> dict[str, Any]:
    project_id = standard.owner(ctx, body)
    addresses = parse_addresses(body.get("addresses", []))
    async with rt.db.transaction() as tx:
        values = standard.new_values(project_id, body)
        values["name"] = body.get("name", "")
        await tx.execute(insert(AG).values(values))
        if addresses:
            await tx.execute(insert(A), [{"address_group_id": values["id"], "address": a}
                                         for a in addresses])
        tx.publish("network.address_group.create", {"id": values["id"]})
        return await _reload(tx, ctx, values["id"])


async def update_address_group(rt: Runtime, ctx: RequestContext, group_id: str,
                               body: Mapping[str, Any], *, if_match: int | None = None
                               ) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        await find_address_group(tx, rt, ctx, group_id)
        values: dict[str, Any] = {}
        if "name" in body:
            values["name"] = body["name"]
        if "description" in body:
            values["description"] = standard.description(body)
        await standard.touch(tx, AG, group_id, values, if_match=if_match)
        tx.publish("network.address_group.update", {"id": group_id})
        return await _reload(tx, ctx, group_id)


async def _held(tx: Tx, group_id: str, addresses: Iterable[str], *, lock: bool = False
                ) -> set[str]:
    stmt = select(A.c.address).where(A.c.address_group_id == group_id,
                                     A.c.address.in_(list(addresses)))
    if lock:  # a locking read sees what a concurrent request committed meanwhile
        stmt = stmt.with_for_update(read=True)
    return {r[0] for r in await tx.execute(stmt)}


async def add_addresses(rt: Runtime, ctx: RequestContext, group_id: str, value: Any
                        ) -> dict[str, Any]:
    """Add CIDRs; 400 AddressesAlreadyExist if the group holds any of them already."""
    addresses = parse_addresses(value)
    async with rt.db.transaction() as tx:
        await find_address_group(tx, rt, ctx, group_id)
        held = await _held(tx, group_id, addresses)
        if addresses and not held:
            try:
                async with tx.conn.begin_nested():
                    await tx.execute(insert(A), [
                        {"address_group_id": group_id, "address": a} for a in addresses])
            except IntegrityError as e:
                if not is_duplicate(e):
                    raise
                held = await _held(tx, group_id, addresses, lock=True)
        if held:
            raise BadRequest(f"Addresses {sorted(held, key=_order)} already exist in the "
                             f"address group {group_id}.", type="AddressesAlreadyExist")
        await standard.touch(tx, AG, group_id)
        tx.publish("network.address_group.update", {"id": group_id})
        return await _reload(tx, ctx, group_id)


async def remove_addresses(rt: Runtime, ctx: RequestContext, group_id: str, value: Any
                           ) -> dict[str, Any]:
    """Remove CIDRs; 404 AddressesNotFound if the group lacks any of them."""
    addresses = parse_addresses(value)
    async with rt.db.transaction() as tx:
        await find_address_group(tx, rt, ctx, group_id)
        missing = set(addresses) - await _held(tx, group_id, addresses)
        if missing:
            raise NotFound(f"Addresses {sorted(missing, key=_order)} not found in the address "
                           f"group {group_id}.", type="AddressesNotFound")
        if addresses:
            await tx.execute(delete(A).where(A.c.address_group_id == group_id,
                                             A.c.address.in_(addresses)))
        await standard.touch(tx, AG, group_id)
        tx.publish("network.address_group.update", {"id": group_id})
        return await _reload(tx, ctx, group_id)


async def delete_address_group(rt: Runtime, ctx: RequestContext, group_id: str, *,
                               if_match: int | None = None) -> None:
    """Delete a group no rule matches (409 AddressGroupInUse otherwise).

    The group's row is locked first: a rule being created with it as its remote
    (which holds a shared lock on it) either commits before and is seen here, or
    finds the group gone.
    """
    async with rt.db.transaction() as tx:
        await find_address_group(tx, rt, ctx, group_id)
        if if_match is not None:
            await standard.touch(tx, AG, group_id, if_match=if_match)
        await tx.execute(select(AG.c.id).where(AG.c.id == group_id).with_for_update())
        R = t.security_group_rules
        used = (await tx.execute(select(R.c.id).where(R.c.remote_address_group_id == group_id)
                                 .limit(1).with_for_update(read=True))).first()
        if used is not None:
            raise Conflict(f"Address group {group_id} is in use on one or more security "
                           "group rules.", type="AddressGroupInUse")
        await tx.execute(delete(A).where(A.c.address_group_id == group_id))
        await rbac.forget(tx, TYPE, group_id)
        await tx.execute(delete(AG).where(AG.c.id == group_id))
        tx.publish("network.address_group.delete", {"id": group_id})
