"""Resource providers: create, show, list with filters, update, delete."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, Conflict
from nubo.core.runtime import Runtime
from nubo.placement import tables as t
from nubo.placement.queries import AggregateQuery, TraitQuery
from nubo.placement.service import snapshot
from nubo.placement.service.locking import provider_row

RP = t.resource_provider
DUPLICATE_NAME = "placement.duplicate_name"


def render(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"uuid": row["uuid"], "name": row["name"], "generation": row["generation"],
            "parent_provider_uuid": row["parent_provider_uuid"],
            "root_provider_uuid": row["root_provider_uuid"]}


def _render_state(s: snapshot.ProviderState) -> dict[str, Any]:
    return {"uuid": s.uuid, "name": s.name, "generation": s.generation,
            "parent_provider_uuid": s.parent_provider_uuid,
            "root_provider_uuid": s.root_provider_uuid}


async def create_provider(rt: Runtime, name: str, *, uuid: str | None = None,
                          parent_provider_uuid: str | None = None) -> dict[str, Any]:
    uuid = uuid or str(uuidlib.uuid4())
    now = utcnow()
    async with rt.db.transaction() as tx:
        await _check_unique(tx.conn, uuid, name)
        root = uuid
        if parent_provider_uuid is not None:
            root = (await _parent(tx.conn, parent_provider_uuid))["root_provider_uuid"]
        row = {"uuid": uuid, "name": name, "generation": 0, "created_at": now,
               "updated_at": now, "parent_provider_uuid": parent_provider_uuid,
               "root_provider_uuid": root}
        try:
            await tx.execute(insert(RP).values(**row))
        except IntegrityError:
            raise Conflict(f"Conflicting resource provider name: {name} already exists.",
                           code=DUPLICATE_NAME) from None
    return render(row)


async def _check_unique(conn: Any, uuid: str, name: str) -> None:
    same_uuid = (await conn.execute(select(RP.c.id).where(RP.c.uuid == uuid))).first()
    if same_uuid is not None:
        raise Conflict(f"Conflicting resource provider uuid: {uuid} already exists.")
    same_name = (await conn.execute(select(RP.c.id).where(RP.c.name == name))).first()
    if same_name is not None:
        raise Conflict(f"Conflicting resource provider name: {name} already exists.",
                       code=DUPLICATE_NAME)


async def _parent(conn: Any, parent_uuid: str) -> Mapping[str, Any]:
    row = (await conn.execute(select(RP).where(RP.c.uuid == parent_uuid))).first()
    if row is None:
        raise BadRequest(f"parent provider UUID does not exist: {parent_uuid}")
    found: Mapping[str, Any] = row._mapping
    return found


async def get_provider(rt: Runtime, uuid: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return render(await provider_row(conn, uuid))


@dataclass
class ProviderFilter:
    name: str | None = None
    uuid: str | None = None
    in_tree: str | None = None
    member_of: AggregateQuery = field(default_factory=AggregateQuery)
    required: TraitQuery = field(default_factory=TraitQuery)
    resources: dict[str, int] = field(default_factory=dict)

    def matches(self, s: snapshot.ProviderState, root: str | None) -> bool:
        if self.name is not None and s.name != self.name:
            return False
        if self.uuid is not None and s.uuid != self.uuid:
            return False
        if self.in_tree is not None and s.root_provider_uuid != root:
            return False
        if self.member_of and not self.member_of.matches(s.aggregates):
            return False
        if not self.required.matches(s.traits):
            return False
        return s.can_hold(self.resources)


async def list_providers(rt: Runtime, f: ProviderFilter) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        states = await snapshot.load(conn)
    root = None
    if f.in_tree is not None:
        anchor = states.get(f.in_tree)
        if anchor is None:
            return []
        root = anchor.root_provider_uuid
    return [_render_state(s) for s in states.values() if f.matches(s, root)]


async def update_provider(rt: Runtime, uuid: str, name: str, *,
                          parent_provider_uuid: str | None,
                          allow_reparent: bool) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        row = await provider_row(tx.conn, uuid, lock=True)
        if name != row["name"]:
            taken = (await tx.execute(select(RP.c.id).where(RP.c.name == name))).first()
            if taken is not None:
                raise Conflict(f"Conflicting resource provider name: {name} already exists.",
                               code=DUPLICATE_NAME)
        values: dict[str, Any] = {"name": name, "updated_at": utcnow()}
        old_parent = row["parent_provider_uuid"]
        if parent_provider_uuid != old_parent:
            if old_parent is not None and not allow_reparent:
                raise BadRequest("re-parenting a provider is not currently allowed.")
            values.update(await _reparent(tx.conn, row, parent_provider_uuid))
        await tx.execute(update(RP).where(RP.c.id == row["id"]).values(**values))
        return render(await provider_row(tx.conn, uuid))


async def _reparent(conn: Any, row: Mapping[str, Any], parent: str | None) -> dict[str, Any]:
    """New parent and root; the whole subtree moves to the new root."""
    states = await snapshot.load(conn)
    subtree = _descendants(states, row["uuid"]) | {row["uuid"]}
    if parent is None:
        new_root = row["uuid"]
    else:
        if parent in subtree:
            raise BadRequest("creating loop in the provider tree is not allowed.")
        new_root = (await _parent(conn, parent))["root_provider_uuid"]
    await conn.execute(update(RP).where(RP.c.uuid.in_(subtree)).values(
        root_provider_uuid=new_root))
    return {"parent_provider_uuid": parent, "root_provider_uuid": new_root}


def _descendants(states: Mapping[str, snapshot.ProviderState], uuid: str) -> set[str]:
    out: set[str] = set()
    frontier = {uuid}
    while frontier:
        children = {s.uuid for s in states.values() if s.parent_provider_uuid in frontier}
        frontier = children - out
        out |= children
    return out


async def delete_provider(rt: Runtime, uuid: str) -> None:
    async with rt.db.transaction() as tx:
        row = await provider_row(tx.conn, uuid, lock=True)
        held = await tx.execute(select(func.count()).select_from(t.allocation).where(
            t.allocation.c.provider_id == row["id"]))
        if held.scalar_one():
            raise Conflict(f"Unable to delete resource provider {uuid}: Resource provider "
                           "has allocations.", code="placement.resource_provider.inuse")
        child = await tx.execute(select(RP.c.id).where(RP.c.parent_provider_uuid == uuid))
        if child.first() is not None:
            raise Conflict(f"Unable to delete parent resource provider {uuid}: It has child "
                           "resource providers.",
                           code="placement.resource_provider.cannot_delete_parent")
        for table in (t.inventory, t.provider_trait, t.provider_aggregate):
            await tx.execute(delete(table).where(table.c.provider_id == row["id"]))
        await tx.execute(delete(RP).where(RP.c.id == row["id"]))
