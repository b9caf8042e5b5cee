"""Inventories: what a provider offers of each resource class.

A change that would leave existing allocations over the new capacity (or
remove a class that is allocated) is refused with ``placement.inventory.inuse``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select

from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.placement import tables as t
from nubo.placement.capacity import MAX_INT, Inventory, inventory_error
from nubo.placement.service import resource_classes
from nubo.placement.service.locking import bump, provider_row, stale, with_retries

INV = t.inventory
ALLOC = t.allocation
IN_USE = "placement.inventory.inuse"
DEFAULTS: dict[str, Any] = {"reserved": 0, "min_unit": 1, "max_unit": MAX_INT,
                            "step_size": 1, "allocation_ratio": 1.0}
Fields = Mapping[str, Any]


def normalise(fields: Fields) -> dict[str, Any]:
    out = {**DEFAULTS, **{k: v for k, v in fields.items() if k in DEFAULTS or k == "total"}}
    for key in ("total", "reserved", "min_unit", "max_unit", "step_size"):
        out[key] = int(out[key])
    out["allocation_ratio"] = float(out["allocation_ratio"])
    problem = inventory_error(out)
    if problem:
        raise BadRequest(f"Unable to update inventory: {problem}.")
    return out


def _render(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("total", "reserved", "min_unit", "max_unit", "step_size",
                                "allocation_ratio")}


async def _current(conn: Any, provider_id: int) -> dict[str, dict[str, Any]]:
    rows = await conn.execute(select(INV).where(INV.c.provider_id == provider_id))
    return {r.resource_class: _render(r._mapping) for r in rows}


async def _used(conn: Any, provider_id: int) -> dict[str, int]:
    # a locking read: the newest committed rows, whatever the isolation level
    stmt = select(ALLOC.c.resource_class, ALLOC.c.used).where(
        ALLOC.c.provider_id == provider_id).with_for_update(read=True)
    used: dict[str, int] = {}
    for rc, n in await conn.execute(stmt):
        used[rc] = used.get(rc, 0) + n
    return used


async def get_inventories(rt: Runtime, uuid: str) -> tuple[int, dict[str, dict[str, Any]]]:
    async with rt.db.read() as conn:
        row = await provider_row(conn, uuid)
        return row["generation"], await _current(conn, row["id"])


async def get_inventory(rt: Runtime, uuid: str, rc: str) -> tuple[int, dict[str, Any]]:
    generation, invs = await get_inventories(rt, uuid)
    if rc not in invs:
        raise NotFound(f"No inventory of class {rc} for {uuid}")
    return generation, invs[rc]


async def replace_inventories(
    rt: Runtime, uuid: str, generation: int | None, new: Mapping[str, Fields], *,
    only: str | None = None, remove: bool = False,
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Set the provider's inventories to ``new`` (all classes, or just ``only``).

    ``generation`` None skips the client's generation check (in-process callers)
    and retries lost races; a stale client generation is a 409.
    """
    normalised = {rc: normalise(f) for rc, f in new.items()}

    async def attempt() -> tuple[int, dict[str, dict[str, Any]]]:
        async with rt.db.transaction() as tx:
            row = await provider_row(tx.conn, uuid, lock=True)
            if generation is not None and generation != row["generation"]:
                raise stale(uuid)
            await resource_classes.check_known(tx.conn, normalised)
            current = await _current(tx.conn, row["id"])
            wanted = _merge(current, normalised, only, remove)
            await check_in_use(tx.conn, row["id"], uuid, wanted)
            await tx.execute(delete(INV).where(INV.c.provider_id == row["id"]))
            for rc, fields in wanted.items():
                await tx.execute(insert(INV).values(provider_id=row["id"], resource_class=rc,
                                                    **fields))
            return await bump(tx, row), wanted

    return await with_retries(attempt, what="update inventory")


def _merge(current: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]],
           only: str | None, remove: bool) -> dict[str, dict[str, Any]]:
    if only is None:
        return new
    merged = dict(current)
    if remove:
        if only not in merged:
            raise NotFound(f"No inventory of class {only} found for delete")
        del merged[only]
    else:
        merged[only] = new[only]
    return merged


async def check_in_use(conn: Any, provider_id: int, uuid: str,
                        wanted: Mapping[str, Mapping[str, Any]]) -> None:
    for rc, used in (await _used(conn, provider_id)).items():
        if used <= 0:
            continue
        if rc not in wanted:
            raise Conflict(f"Inventory for {rc} on resource provider {uuid} in use.",
                           code=IN_USE)
        capacity = Inventory.of(wanted[rc]).capacity
        if used > capacity:
            raise Conflict(f"Unable to update inventory for resource provider {uuid}: "
                           f"{rc} has {used} allocated, more than the new capacity "
                           f"{capacity}.", code=IN_USE)
