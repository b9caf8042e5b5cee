"""Per-project image quotas, with Glance's unified-limits names.

Limits come from ``[image]`` in the settings (-1: unlimited). Each check counts
the project's current usage and refuses with 413, as Glance does, when the
usage already reaches the limit (sizes are MiB).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.errors import PayloadTooLarge
from nubo.core.runtime import Runtime
from nubo.image import tables as t
from nubo.image.service.records import IN_PROGRESS

MIB = 1024 * 1024


class OverQuota(PayloadTooLarge):
    def __init__(self, name: str, usage: int, limit: int) -> None:
        super().__init__(f"Project quota {name} exceeded: the limit is {limit}, "
                         f"the usage is {usage}.", quota=name)


def _limit(rt: Runtime, name: str) -> int:
    value: int = getattr(rt.settings.image, name)
    return value


async def _scalar(conn: AsyncConnection, query: object) -> int:
    return int((await conn.execute(query)).scalar() or 0)  # type: ignore[call-overload]


async def check_count(rt: Runtime, conn: AsyncConnection, owner: str | None) -> None:
    limit = _limit(rt, "image_count_total")
    if limit < 0 or owner is None:
        return
    used = await _scalar(conn, select(func.count()).select_from(t.image).where(
        t.image.c.owner == owner))
    if used >= limit:
        raise OverQuota("image_count_total", used, limit)


async def check_uploading(rt: Runtime, conn: AsyncConnection, owner: str | None) -> None:
    limit = _limit(rt, "image_count_uploading")
    if limit < 0 or owner is None:
        return
    used = await _scalar(conn, select(func.count()).select_from(t.image).where(
        t.image.c.owner == owner, t.image.c.status.in_([str(s) for s in IN_PROGRESS])))
    if used >= limit:
        raise OverQuota("image_count_uploading", used, limit)


async def size_room(rt: Runtime, conn: AsyncConnection, owner: str | None) -> int | None:
    """Bytes the project may still store (None: unlimited); 413 when none is left."""
    return await _room(rt, conn, owner, "image_size_total", t.image.c.size)


async def stage_room(rt: Runtime, conn: AsyncConnection, owner: str | None) -> int | None:
    return await _room(rt, conn, owner, "image_stage_total", t.image.c.staged_size)


async def _room(rt: Runtime, conn: AsyncConnection, owner: str | None, name: str,
                column: object) -> int | None:
    limit = _limit(rt, name)
    if limit < 0 or owner is None:
        return None
    used = await _scalar(conn, select(func.coalesce(func.sum(column), 0)).where(
        t.image.c.owner == owner))
    if used >= limit * MIB:
        raise OverQuota(name, -(-used // MIB), limit)
    return limit * MIB - used
