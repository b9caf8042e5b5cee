"""The aggregates a provider is a member of (changed under the provider generation)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select

from nubo.core.runtime import Runtime
from nubo.placement import tables as t
from nubo.placement.service.locking import bump, provider_row, stale, with_retries

AGG = t.provider_aggregate


async def _aggregates(conn: Any, provider_id: int) -> list[str]:
    rows = await conn.execute(select(AGG.c.aggregate).where(AGG.c.provider_id == provider_id))
    return sorted(r.aggregate for r in rows)


async def get_aggregates(rt: Runtime, uuid: str) -> tuple[int, list[str]]:
    async with rt.db.read() as conn:
        row = await provider_row(conn, uuid)
        return row["generation"], await _aggregates(conn, row["id"])


async def replace_aggregates(rt: Runtime, uuid: str, generation: int | None,
                             aggregates: Iterable[str]) -> tuple[int, list[str]]:
    wanted = sorted(set(aggregates))

    async def attempt() -> tuple[int, list[str]]:
        async with rt.db.transaction() as tx:
            row = await provider_row(tx.conn, uuid, lock=True)
            if generation is not None and generation != row["generation"]:
                raise stale(uuid)
            await tx.execute(delete(AGG).where(AGG.c.provider_id == row["id"]))
            for agg in wanted:
                await tx.execute(insert(AGG).values(provider_id=row["id"], aggregate=agg))
            return await bump(tx, row), wanted

    return await with_retries(attempt, what="update aggregates")
