"""A read of every provider with what it holds: the input of listing filters and
allocation candidates (the scheduler reads a snapshot; claims re-check it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from nubo.placement import tables as t
from nubo.placement.capacity import Inventory

RP = t.resource_provider
INV = t.inventory
ALLOC = t.allocation


@dataclass
class ProviderState:
    id: int
    uuid: str
    name: str
    generation: int
    parent_provider_uuid: str | None
    root_provider_uuid: str
    inventories: dict[str, Inventory] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    traits: set[str] = field(default_factory=set)
    aggregates: set[str] = field(default_factory=set)

    def free(self, rc: str) -> int:
        inv = self.inventories.get(rc)
        return inv.free(self.used.get(rc, 0)) if inv else 0

    def can_hold(self, resources: Mapping[str, int]) -> bool:
        """Whether every amount is a valid allocation here and fits next to what is used."""
        for rc, amount in resources.items():
            inv = self.inventories.get(rc)
            if inv is None or inv.shape_error(amount) or not inv.fits(
                    self.used.get(rc, 0), amount):
                return False
        return True

    def summary(self, classes: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
        wanted = self.inventories if classes is None else [
            rc for rc in classes if rc in self.inventories]
        return {rc: {"capacity": self.inventories[rc].capacity, "used": self.used.get(rc, 0)}
                for rc in wanted}


def _state(row: Mapping[str, Any]) -> ProviderState:
    return ProviderState(row["id"], row["uuid"], row["name"], row["generation"],
                         row["parent_provider_uuid"], row["root_provider_uuid"])


async def load(conn: Any, uuids: Iterable[str] | None = None, *,
               details: bool = True) -> dict[str, ProviderState]:
    """Every provider (or those in ``uuids``) keyed by uuid, in creation order;
    without ``details`` only inventories and usage (no traits, no aggregates)."""
    stmt = select(RP).order_by(RP.c.id)
    if uuids is not None:
        stmt = stmt.where(RP.c.uuid.in_(list(uuids)))
    states = {r.uuid: _state(r._mapping) for r in await conn.execute(stmt)}
    by_id = {s.id: s for s in states.values()}
    if not by_id:
        return states
    ids = list(by_id) if uuids is not None else None
    for r in await conn.execute(_where(select(INV), INV.c.provider_id, ids)):
        by_id[r.provider_id].inventories[r.resource_class] = Inventory.of(r._mapping)
    used = select(ALLOC.c.provider_id, ALLOC.c.resource_class, func.sum(ALLOC.c.used)
                  ).group_by(ALLOC.c.provider_id, ALLOC.c.resource_class)
    for pid, rc, total in await conn.execute(_where(used, ALLOC.c.provider_id, ids)):
        if pid in by_id:
            by_id[pid].used[rc] = int(total)
    if not details:
        return states
    for r in await conn.execute(_where(select(t.provider_trait), t.provider_trait.c.provider_id,
                                       ids)):
        by_id[r.provider_id].traits.add(r.trait)
    agg = t.provider_aggregate
    for r in await conn.execute(_where(select(agg), agg.c.provider_id, ids)):
        by_id[r.provider_id].aggregates.add(r.aggregate)
    return states


def _where(stmt: Any, column: Any, ids: list[int] | None) -> Any:
    return stmt if ids is None else stmt.where(column.in_(ids))


def trees(states: Mapping[str, ProviderState]) -> dict[str, list[ProviderState]]:
    """Providers grouped by root provider uuid."""
    out: dict[str, list[ProviderState]] = defaultdict(list)
    for s in states.values():
        out[s.root_provider_uuid].append(s)
    return out
