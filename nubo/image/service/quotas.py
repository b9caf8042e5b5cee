"""Per-project image quotas, with Glance's unified-limits names.

Limits come from ``[image]`` in the settings (-1: unlimited), or with
``use_keystone_limits`` from identity's unified limits. Each check counts
the project's current usage and refuses with 413, as Glance does, when the
usage already reaches the limit (sizes are MiB).
"""

from __future__ import annotations

from typing import Any

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


QUOTAS = ("image_size_total", "image_stage_total", "image_count_total",
          "image_count_uploading")
SIZES = frozenset({"image_size_total", "image_stage_total"})


def _usage_query(name: str, owner: str) -> Any:
    image = t.image
    if name == "image_count_total":
        return select(func.count()).select_from(image).where(image.c.owner == owner)
    if name == "image_count_uploading":
        return select(func.count()).select_from(image).where(
            image.c.owner == owner, image.c.status.in_([str(s) for s in IN_PROGRESS]))
    column = image.c.size if name == "image_size_total" else image.c.staged_size
    return select(func.coalesce(func.sum(column), 0)).where(image.c.owner == owner)


async def usage(rt: Runtime, owner: str) -> dict[str, dict[str, int]]:
    """Every quota of the project with its limit and usage (sizes in MiB, rounded up),
    as Glance's ``GET /v2/info/usage``."""
    out: dict[str, dict[str, int]] = {}
    async with rt.db.read() as conn:
        for name in QUOTAS:
            used = await _scalar(conn, _usage_query(name, owner))
            out[name] = {"limit": await _limit(rt, name, owner),
                         "usage": -(-used // MIB) if name in SIZES else used}
    return out


async def _check(rt: Runtime, conn: AsyncConnection, owner: str | None, name: str) -> None:
    if owner is None:
        return
    limit = await _limit(rt, name, owner)
    if limit < 0:
        return
    used = await _scalar(conn, _usage_query(name, owner))
    if used >= limit:
        raise OverQuota(name, used, limit)


async def check_count(rt: Runtime, conn: AsyncConnection, owner: str | None) -> None:
    await _check(rt, conn, owner, "image_count_total")


async def check_uploading(rt: Runtime, conn: AsyncConnection, owner: str | None) -> None:
    await _check(rt, conn, owner, "image_count_uploading")


async def size_room(rt: Runtime, conn: AsyncConnection, owner: str | None) -> int | None:
    """Bytes the project may still store (None: unlimited); 413 when none is left."""
    return await _room(rt, conn, owner, "image_size_total")


async def stage_room(rt: Runtime, conn: AsyncConnection, owner: str | None) -> int | None:
    return await _room(rt, conn, owner, "image_stage_total")


async def _room(rt: Runtime, conn: AsyncConnection, owner: str | None, name: str
                ) -> int | None:
    if owner is None:
        return None
    limit = await _limit(rt, name, owner)
    if limit < 0:
        return None
    used = await _scalar(conn, _usage_query(name, owner))
    if used >= limit * MIB:
        raise OverQuota(name, -(-used // MIB), limit)
    return limit * MIB - used
