"""``POST /reshaper`` (1.30): move inventory and the allocations against it between
providers in one step, e.g. from a compute node to a new child provider.

Inventories are replaced first (no in-use check yet), then the allocations
are written against the new inventories, and only then is every changed
provider checked: what is allocated must fit what is offered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert

from nubo.core.errors import BadRequest
from nubo.core.runtime import Runtime
from nubo.placement import tables as t
from nubo.placement.service import resource_classes
from nubo.placement.service.allocations import ConsumerWrite, write_in
from nubo.placement.service.inventories import check_in_use, normalise
from nubo.placement.service.locking import bump, lock_providers, stale, with_retries

INV = t.inventory


async def reshape(rt: Runtime, inventories: Mapping[str, tuple[int, Mapping[str, Any]]],
                  writes: Sequence[ConsumerWrite]) -> None:
    """``inventories``: provider uuid -> (its generation, its complete new inventories)."""
    wanted = {rp: (gen, {rc: normalise(f) for rc, f in invs.items()})
              for rp, (gen, invs) in inventories.items()}

    async def attempt() -> None:
        async with rt.db.transaction() as tx:
            rows = await lock_providers(tx, wanted)
            for rp, (gen, invs) in wanted.items():
                row = rows.get(rp)
                if row is None:
                    raise BadRequest(f"Resource provider {rp} in inventories not found.")
                if row["generation"] != gen:
                    raise stale(rp)
                await resource_classes.check_known(tx.conn, invs)
                await tx.execute(delete(INV).where(INV.c.provider_id == row["id"]))
                for rc, fields in invs.items():
                    await tx.execute(insert(INV).values(provider_id=row["id"],
                                                        resource_class=rc, **fields))
            bumped = await write_in(tx, writes) if writes else set()
            for rp, (_, invs) in wanted.items():
                await check_in_use(tx.conn, rows[rp]["id"], rp, invs)
                if rp not in bumped:
                    await bump(tx, rows[rp])

    await with_retries(attempt, what="reshape")
