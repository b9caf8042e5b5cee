"""Usages: what is allocated, per provider or per project (and user)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from nubo.core.runtime import Runtime
from nubo.placement import tables as t
from nubo.placement.service.locking import provider_row

ALLOC = t.allocation
CONSUMER = t.consumer
INV = t.inventory


async def provider_usages(rt: Runtime, uuid: str) -> tuple[int, dict[str, int]]:
    """Every class the provider has inventory of (0 when unused), with its generation."""
    async with rt.db.read() as conn:
        row = await provider_row(conn, uuid)
        out = {r.resource_class: 0 for r in await conn.execute(
            select(INV.c.resource_class).where(INV.c.provider_id == row["id"]))}
        stmt = select(ALLOC.c.resource_class, func.sum(ALLOC.c.used)).where(
            ALLOC.c.provider_id == row["id"]).group_by(ALLOC.c.resource_class)
        for rc, used in await conn.execute(stmt):
            out[rc] = int(used)
    return row["generation"], out


async def project_usages(rt: Runtime, project_id: str, user_id: str | None = None,
                         consumer_type: str | None = None) -> dict[str, dict[str, Any]]:
    """consumer type -> {rc: used, ..., "consumer_count": n}, plus ``"all"``."""
    stmt = (select(CONSUMER.c.uuid, CONSUMER.c.consumer_type, ALLOC.c.resource_class,
                   ALLOC.c.used)
            .join(ALLOC, ALLOC.c.consumer_uuid == CONSUMER.c.uuid)
            .where(CONSUMER.c.project_id == project_id))
    if user_id is not None:
        stmt = stmt.where(CONSUMER.c.user_id == user_id)
    usage: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    consumers: dict[str, set[str]] = defaultdict(set)
    async with rt.db.read() as conn:
        for uuid, ctype, rc, used in await conn.execute(stmt):
            ctype = ctype or "unknown"
            if consumer_type not in (None, "all") and ctype != consumer_type:
                continue
            for group in (ctype, "all"):
                usage[group][rc] += used
                consumers[group].add(uuid)
    out = {g: {**dict(v), "consumer_count": len(consumers[g])} for g, v in usage.items()}
    if consumer_type not in (None, "all"):
        out.pop("all", None)
    return out
