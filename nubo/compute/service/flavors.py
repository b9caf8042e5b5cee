"""Flavors: sizes of servers, their extra specs and who may use the private ones."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute import tables as t
from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime

F = t.flavors
SPECS = t.flavor_extra_specs
ACCESS = t.flavor_projects


@dataclass(frozen=True)
class Flavor:
    id: str            # the flavorid users see
    name: str
    vcpus: int
    ram: int           # MiB
    disk: int          # GiB root
    ephemeral: int     # GiB
    swap: int          # MiB
    rxtx_factor: float
    is_public: bool
    description: str | None
    extra_specs: dict[str, str] = field(default_factory=dict)
    disabled: bool = False
    created_at: Any = None


# (name, flavorid, vcpus, ram MiB, disk GiB): Nova's classic defaults plus small ones
DEFAULT_FLAVORS = (
    ("m1.tiny", "1", 1, 512, 1),
    ("m1.small", "2", 1, 2048, 20),
    ("m1.medium", "3", 2, 4096, 40),
    ("m1.large", "4", 4, 8192, 80),
    ("m1.xlarge", "5", 8, 16384, 160),
    ("m1.nano", "42", 1, 128, 1),
    ("m1.micro", "84", 1, 192, 1),
    ("ds512M", "c1", 1, 512, 5),
    ("ds1G", "d1", 1, 1024, 10),
)
SORT_KEYS = {"flavorid": F.c.flavorid, "id": F.c.id, "name": F.c.name,
             "memory_mb": F.c.memory_mb, "root_gb": F.c.root_gb, "vcpus": F.c.vcpus,
             "swap": F.c.swap, "ephemeral_gb": F.c.ephemeral_gb,
             "rxtx_factor": F.c.rxtx_factor, "is_public": F.c.is_public,
             "disabled": F.c.disabled, "created_at": F.c.created_at,
             "updated_at": F.c.updated_at, "description": F.c.description}


def is_admin(ctx: RequestContext) -> bool:
    return ctx.has_role("admin")


def _flavor(row: Any, specs: Mapping[str, str]) -> Flavor:
    return Flavor(id=row.flavorid, name=row.name, vcpus=row.vcpus, ram=row.memory_mb,
                  disk=row.root_gb, ephemeral=row.ephemeral_gb, swap=row.swap,
                  rxtx_factor=float(row.rxtx_factor), is_public=bool(row.is_public),
                  description=row.description, extra_specs=dict(specs),
                  disabled=bool(row.disabled), created_at=row.created_at)


async def _specs(conn: AsyncConnection, ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {i: {} for i in ids}
    if ids:
        rows = await conn.execute(select(SPECS).where(SPECS.c.flavor_id.in_(ids)))
        for r in rows:
            out[r.flavor_id][r.key] = r.value
    return out


def _visible(ctx: RequestContext) -> Any:
    """Public flavors and the private ones the caller's project was given."""
    granted = select(ACCESS.c.flavor_id).where(ACCESS.c.project_id == (ctx.project_id or ""))
    return or_(F.c.is_public.is_(True), F.c.id.in_(granted))


async def _row(conn: AsyncConnection, ctx: RequestContext | None, flavor_id: str) -> Any:
    stmt = select(F).where(F.c.flavorid == flavor_id)
    if ctx is not None and not is_admin(ctx):
        stmt = stmt.where(_visible(ctx))
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound(f"Flavor {flavor_id} could not be found.")
    return row


async def get_flavor(rt: Runtime, ctx: RequestContext, flavor_id: str) -> Flavor:
    """The flavor, or NotFound if absent or not accessible to ctx.project_id."""
    async with rt.db.read() as conn:
        row = await _row(conn, ctx, flavor_id)
        return _flavor(row, (await _specs(conn, [row.id]))[row.id])


@dataclass(frozen=True)
class ListQuery:
    is_public: bool | None = True
    min_ram: int | None = None
    min_disk: int | None = None
    sort_key: str = "flavorid"
    sort_dir: str = "asc"
    limit: int | None = None
    marker: str | None = None


def _filtered(ctx: RequestContext, q: ListQuery) -> Select[Any]:
    stmt = select(F)
    if not is_admin(ctx):
        stmt = stmt.where(_visible(ctx), F.c.disabled.is_(False))
    elif q.is_public is not None:
        stmt = stmt.where(or_(F.c.is_public.is_(q.is_public), F.c.id.in_(
            select(ACCESS.c.flavor_id).where(ACCESS.c.project_id == (ctx.project_id or ""))))
            if q.is_public else F.c.is_public.is_(False))
    if q.min_ram is not None:
        stmt = stmt.where(F.c.memory_mb >= q.min_ram)
    if q.min_disk is not None:
        stmt = stmt.where(F.c.root_gb >= q.min_disk)
    return stmt


async def list_flavors(rt: Runtime, ctx: RequestContext, q: ListQuery) -> list[Flavor]:
    if q.sort_key not in SORT_KEYS:
        raise BadRequest(f"Invalid input for query parameters sort_key. Value: {q.sort_key}.")
    if q.sort_dir not in ("asc", "desc"):
        raise BadRequest(f"Invalid input for query parameters sort_dir. Value: {q.sort_dir}.")
    column = SORT_KEYS[q.sort_key]
    order = [column.asc(), F.c.id.asc()] if q.sort_dir == "asc" else [column.desc(),
                                                                     F.c.id.desc()]
    async with rt.db.read() as conn:
        rows = list(await conn.execute(_filtered(ctx, q).order_by(*order)))
        if q.marker is not None:
            at = next((i for i, r in enumerate(rows) if r.flavorid == q.marker), None)
            if at is None:
                raise BadRequest(f"marker [{q.marker}] not found")
            rows = rows[at + 1:]
        if q.limit is not None:
            rows = rows[:q.limit]
        specs = await _specs(conn, [r.id for r in rows])
    return [_flavor(r, specs[r.id]) for r in rows]


async def create_flavor(rt: Runtime, values: Mapping[str, Any]) -> Flavor:
    """``values``: validated name, flavorid (None: a new uuid), vcpus, memory_mb, root_gb,
    ephemeral_gb, swap, rxtx_factor, is_public, description."""
    row = {**values, "created_at": utcnow(), "disabled": False}
    row["flavorid"] = row.get("flavorid") or str(uuid.uuid4())
    async with rt.db.read() as conn:
        await _check_unique(conn, row["name"], row["flavorid"])
    try:
        async with rt.db.transaction() as tx:
            await _check_unique(tx.conn, row["name"], row["flavorid"])
            await tx.execute(insert(F).values(row))
    except IntegrityError:
        raise Conflict(f"Flavor with name {row['name']} or ID {row['flavorid']} already "
                       "exists.") from None
    async with rt.db.read() as conn:
        return _flavor(await _row(conn, None, row["flavorid"]), {})


async def _check_unique(conn: AsyncConnection, name: str, flavorid: str) -> None:
    if (await conn.execute(select(F.c.id).where(F.c.name == name))).first():
        raise Conflict(f"Flavor with name {name} already exists.")
    if (await conn.execute(select(F.c.id).where(F.c.flavorid == flavorid))).first():
        raise Conflict(f"Flavor with ID {flavorid} already exists.")


async def delete_flavor(rt: Runtime, flavor_id: str) -> None:
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, None, flavor_id)
        await tx.execute(delete(SPECS).where(SPECS.c.flavor_id == row.id))
        await tx.execute(delete(ACCESS).where(ACCESS.c.flavor_id == row.id))
        await tx.execute(delete(F).where(F.c.id == row.id))


async def update_description(rt: Runtime, flavor_id: str, description: str | None) -> Flavor:
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, None, flavor_id)
        await tx.execute(update(F).where(F.c.id == row.id).values(
            description=description, updated_at=utcnow()))
    async with rt.db.read() as conn:
        row = await _row(conn, None, flavor_id)
        return _flavor(row, (await _specs(conn, [row.id]))[row.id])


# --- extra specs ------------------------------------------------------------------


async def get_extra_specs(rt: Runtime, ctx: RequestContext, flavor_id: str) -> dict[str, str]:
    return (await get_flavor(rt, ctx, flavor_id)).extra_specs


async def set_extra_specs(rt: Runtime, flavor_id: str, specs: Mapping[str, str]) -> None:
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, None, flavor_id)
        for key, value in specs.items():
            await tx.execute(delete(SPECS).where(SPECS.c.flavor_id == row.id, SPECS.c.key == key))
            await tx.execute(insert(SPECS).values(flavor_id=row.id, key=key, value=value))


async def delete_extra_spec(rt: Runtime, flavor_id: str, key: str) -> None:
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, None, flavor_id)
        result = await tx.execute(delete(SPECS).where(SPECS.c.flavor_id == row.id,
                                                      SPECS.c.key == key))
        if result.rowcount == 0:
            raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")


# --- access lists -----------------------------------------------------------------


async def list_access(rt: Runtime, flavor_id: str) -> list[dict[str, str]]:
    async with rt.db.read() as conn:
        row = await _row(conn, None, flavor_id)
        if row.is_public:
            raise NotFound("Access list not available for public flavors.")
        rows = await conn.execute(select(ACCESS.c.project_id).where(
            ACCESS.c.flavor_id == row.id).order_by(ACCESS.c.project_id))
        return [{"flavor_id": flavor_id, "tenant_id": r.project_id} for r in rows]


async def add_access(rt: Runtime, flavor_id: str, project_id: str) -> list[dict[str, str]]:
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, None, flavor_id)
        if row.is_public:
            raise Conflict("Can not add access to a public flavor.")
        have = await tx.execute(select(ACCESS).where(ACCESS.c.flavor_id == row.id,
                                                     ACCESS.c.project_id == project_id))
        if have.first():
            raise Conflict(f"Flavor access already exists for flavor {flavor_id} and "
                           f"project {project_id} combination.")
        await tx.execute(insert(ACCESS).values(flavor_id=row.id, project_id=project_id))
    return await list_access(rt, flavor_id)


async def remove_access(rt: Runtime, flavor_id: str, project_id: str) -> list[dict[str, str]]:
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, None, flavor_id)
        result = await tx.execute(delete(ACCESS).where(ACCESS.c.flavor_id == row.id,
                                                       ACCESS.c.project_id == project_id))
        if result.rowcount == 0:
            raise NotFound(f"Flavor access not found for {flavor_id} / {project_id} "
                           "combination.")
    return await list_access(rt, flavor_id)


async def bootstrap_defaults(rt: Runtime) -> None:
    """At the first start (no flavors at all), create the default flavors."""
    async with rt.db.read() as conn:
        if (await conn.execute(select(func.count()).select_from(F))).scalar_one():
            return
    try:
        async with rt.db.transaction() as tx:
            if (await tx.execute(select(func.count()).select_from(F))).scalar_one():
                return
            for name, flavorid, vcpus, ram, disk in DEFAULT_FLAVORS:
                await tx.execute(insert(F).values(
                    flavorid=flavorid, name=name, vcpus=vcpus, memory_mb=ram, root_gb=disk,
                    ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True, disabled=False,
                    description=None, created_at=utcnow()))
    except IntegrityError:
        pass  # another process made them first
