"""Per-project image quotas, with Glance's unified-limits names.

Limits come from ``[image]`` in the settings (-1: unlimited), or with
``use_keystone_limits`` from identity's unified limits. Each check counts
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
    def __init__(self, name: str, usage: int | None = None, limit: int | None = None
                 ) -> None:
        detail = "" if limit is None else f": the limit is {limit}, the usage is {usage}"
        super().__init__(f"Project quota {name} exceeded{detail}.", quota=name)


async def _limit(rt: Runtime, name: str, owner: str) -> int:
    if rt.settings.image.use_keystone_limits:
        return await keystone_limit(rt, name, owner)
    value: int = getattr(rt.settings.image, name)
    return value


async def keystone_limit(rt: Runtime, name: str, project_id: str) -> int:
    """The project's limit on ``name`` from identity's unified limits: its own limit,
    else the registered default, else unlimited (-1)."""
    from nubo.identity.service import catalog, limits  # in-process, as DESIGN.md allows

    services = await catalog.list_services(rt, {"type": "image"})
    if not services:
        return -1
    wanted = {"service_id": services[0]["id"], "resource_name": name}
    own = await limits.list_limits(rt, {**wanted, "project_id": project_id})
    if own:
        return int(own[0]["resource_limit"])
    registered = await limits.list_registered_limits(rt, wanted)
    return int(registered[0]["default_limit"]) if registered else -1


async def _scalar(conn: AsyncConnection, query: object) -> int:
    return int((await conn.execute(query)).scalar() or 0)  # type: ignore[call-overload]


async def check_count(rt: Runtime, conn: AsyncConnection, owner: str | None) -> None:
    if owner is None:
        return
    limit = await _limit(rt, "image_count_total", owner)
    if limit < 0:
        return
    used = await _scalar(conn, select(func.count()).select_from(t.image).where(
        t.image.c.owner == owner))
    if used >= limit:
        raise OverQuota("image_count_total", used, limit)


async def check_uploading(rt: Runtime, conn: AsyncConnection, owner: str | None) -> None:
    if owner is None:
        return
    limit = await _limit(rt, "image_count_uploading", owner)
    if limit < 0:
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
    if owner is None:
        return None
    limit = await _limit(rt, name, owner)
    if limit < 0:
        return None
    used = await _scalar(conn, select(func.coalesce(func.sum(column), 0)).where(
        t.image.c.owner == owner))
    if used >= limit * MIB:
        raise OverQuota(name, -(-used // MIB), limit)
    return limit * MIB - used
