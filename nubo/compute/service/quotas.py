"""Compute quotas: limits (project, per user, quota class) and usage bookkeeping.

Usage lives in ``quota_usages`` rows per (project, user, resource); the row with
user ``""`` is the project's total. ``reserve`` and ``release`` run inside the
caller's transaction and move both rows with a compare-and-set on ``generation``,
after a locking read, so concurrent reservations never exceed a limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute import tables as t
from nubo.core.db.engine import Tx, compare_and_set
from nubo.core.errors import BadRequest, Conflict, Forbidden
from nubo.core.runtime import Runtime

PROJECT = ""  # the user_id of a project's total usage row
UNLIMITED = -1
DEFAULT_CLASS = "default"

# every quota Nova shows, with its default limit
DEFAULTS: dict[str, int] = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "metadata_items": 128,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "floating_ips": 10,
    "fixed_ips": -1,
    "security_groups": 10,
    "security_group_rules": 20,
}
NETWORK_QUOTAS = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
INJECTED_FILE_QUOTAS = ("injected_files", "injected_file_content_bytes",
                        "injected_file_path_bytes")
# resources whose usage is kept in quota_usages (the rest are counted or per request)
TRACKED = ("instances", "cores", "ram", "server_groups")


class OverQuota(Forbidden):
    """403: a reservation would take a resource past its limit."""

    def __init__(self, resource: str, requested: int, used: int, limit: int) -> None:
        super().__init__(f"Quota exceeded for {resource}: Requested {requested}, but already "
                         f"used {used} of {limit} {resource}")
        self.resource, self.requested, self.used, self.limit = resource, requested, used, limit


def default_limits(rt: Runtime) -> dict[str, int]:
    """The configured defaults: ``[compute] quota_<resource>`` where set."""
    compute = rt.settings.compute
    return {name: int(getattr(compute, f"quota_{name}", value))
            for name, value in DEFAULTS.items()}


async def class_limits(conn: AsyncConnection, rt: Runtime,
                       class_name: str = DEFAULT_CLASS) -> dict[str, int]:
    limits = default_limits(rt)
    c = t.quota_classes.c
    rows = await conn.execute(select(c.resource, c.hard_limit).where(c.class_name == class_name))
    limits.update({r.resource: r.hard_limit for r in rows if r.resource in limits})
    return limits


async def project_limits(conn: AsyncConnection, rt: Runtime, project_id: str,
                         user_id: str | None = None) -> dict[str, int]:
    """The limits that apply to a project (or to one user in it)."""
    limits = await class_limits(conn, rt)
    q = t.quotas.c
    rows = await conn.execute(select(q.resource, q.hard_limit).where(q.project_id == project_id))
    limits.update({r.resource: r.hard_limit for r in rows if r.resource in limits})
    if user_id is not None:
        u = t.project_user_quotas.c
        rows = await conn.execute(select(u.resource, u.hard_limit).where(
            u.project_id == project_id, u.user_id == user_id))
        limits.update({r.resource: r.hard_limit for r in rows if r.resource in limits})
    return limits


async def usage(conn: AsyncConnection, project_id: str, user_id: str | None = None
                ) -> dict[str, int]:
    """In-use counts of the tracked resources (project total unless a user is given)."""
    u = t.quota_usages.c
    rows = await conn.execute(select(u.resource, u.in_use).where(
        u.project_id == project_id, u.user_id == (user_id or PROJECT)))
    found = {r.resource: int(r.in_use) for r in rows}
    return {name: found.get(name, 0) for name in TRACKED}


def exceeds(limit: int, used: int, delta: int) -> bool:
    """Whether taking ``delta`` more of a resource with ``used`` in use breaks ``limit``."""
    return delta > 0 and limit != UNLIMITED and used + delta > limit


def check_limit(resource: str, limit: int, used: int, delta: int) -> None:
    if exceeds(limit, used, delta):
        raise OverQuota(resource, delta, used, limit)


async def _ensure_row(tx: Tx, project_id: str, user_id: str, resource: str) -> None:
    u = t.quota_usages
    values = {"project_id": project_id, "user_id": user_id, "resource": resource,
              "in_use": 0, "generation": 0}
    dialect = tx.conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        await tx.execute(pg_insert(u).values(values).on_conflict_do_nothing())
    else:
        prefix = "OR IGNORE" if dialect == "sqlite" else "IGNORE"
        await tx.execute(insert(u).values(values).prefix_with(prefix))


async def _locked_row(tx: Tx, project_id: str, user_id: str, resource: str) -> Any:
    u = t.quota_usages.c
    stmt = select(u.in_use, u.generation).where(
        u.project_id == project_id, u.user_id == user_id, u.resource == resource
    ).with_for_update()
    row = (await tx.execute(stmt)).first()
    if row is None:
        await _ensure_row(tx, project_id, user_id, resource)
        row = (await tx.execute(stmt)).first()
    return row


async def serialize(tx: Tx, project_id: str, user_id: str, resource: str) -> None:
    """Lock one usage row until the caller's transaction ends, so that checks of a
    counted resource (count, compare, insert) by concurrent requests run one at a time."""
    await _locked_row(tx, project_id, user_id, resource)


async def _move(tx: Tx, project_id: str, user_id: str, resource: str, delta: int,
                limit: int | None) -> None:
    """Add ``delta`` to one usage row, checking ``limit`` (None: no check)."""
    u = t.quota_usages
    for _attempt in range(20):
        row = await _locked_row(tx, project_id, user_id, resource)
        if limit is not None:
            check_limit(resource, limit, int(row.in_use), delta)
        where = (u.c.project_id == project_id) & (u.c.user_id == user_id) & (
            u.c.resource == resource)
        try:
            await compare_and_set(tx, u, where, row.generation,
                                  {"in_use": max(0, int(row.in_use) + delta)})
            return
        except Conflict:
            continue
    raise Conflict(f"Too many concurrent quota updates of {resource}; retry the request.")


async def reserve(tx: Tx, rt: Runtime, *, project_id: str, user_id: str,
                  deltas: Mapping[str, int]) -> None:
    """Take ``deltas`` of tracked resources for a user of a project, or raise OverQuota.

    Reads the limits (3 queries) and locks the project's and the user's usage rows
    of those resources in one query, checks every resource (in name order, the
    project before the user, so the first one over names the error), then moves
    each row with a compare-and-set."""
    wanted = {k: v for k, v in deltas.items() if v}
    unknown = set(wanted) - set(TRACKED)
    if unknown:
        raise BadRequest(f"Unknown quota resources {sorted(unknown)}.")
    if not wanted:
        return
    limits = await project_limits(tx.conn, rt, project_id)
    user_limits = await _user_limits(tx.conn, project_id, user_id, limits)
    rows = await _locked_rows(tx, project_id, user_id, sorted(wanted))
    moves: list[tuple[str, str, Any, int, int | None]] = []
    for resource in sorted(wanted):
        delta = wanted[resource]
        for who, limit in ((PROJECT, limits[resource]), (user_id, user_limits[resource])):
            row = rows[(who, resource)]
            check_limit(resource, limit, int(row.in_use), delta)
            moves.append((who, resource, row, delta, limit if delta > 0 else None))
    u = t.quota_usages
    for who, resource, row, delta, checked in moves:
        where = (u.c.project_id == project_id) & (u.c.user_id == who) & (
            u.c.resource == resource)
        try:
            await compare_and_set(tx, u, where, row.generation,
                                  {"in_use": max(0, int(row.in_use) + delta)})
        except Conflict:   # cannot happen under the row lock; read again to be sure
            await _move(tx, project_id, who, resource, delta, checked)


async def _user_limits(conn: AsyncConnection, project_id: str, user_id: str,
                       project: Mapping[str, int]) -> dict[str, int]:
    """The project's limits with the user's own ones over them."""
    u = t.project_user_quotas.c
    rows = await conn.execute(select(u.resource, u.hard_limit).where(
        u.project_id == project_id, u.user_id == user_id))
    return {**project, **{r.resource: r.hard_limit for r in rows if r.resource in project}}


async def _locked_rows(tx: Tx, project_id: str, user_id: str, resources: list[str]
                       ) -> dict[tuple[str, str], Any]:
    """(user_id, resource) -> the locked usage row, for the project total and the
    user, made first where missing."""
    u = t.quota_usages.c
    stmt = select(u.user_id, u.resource, u.in_use, u.generation).where(
        u.project_id == project_id, u.user_id.in_([PROJECT, user_id]),
        u.resource.in_(resources)).order_by(u.user_id, u.resource).with_for_update()
    rows = {(r.user_id, r.resource): r for r in await tx.execute(stmt)}
    missing = [(who, res) for who in (PROJECT, user_id) for res in resources
               if (who, res) not in rows]
    if missing:
        for who, res in missing:
            await _ensure_row(tx, project_id, who, res)
        rows = {(r.user_id, r.resource): r for r in await tx.execute(stmt)}
    return rows


async def release(tx: Tx, rt: Runtime, *, project_id: str, user_id: str,
                  deltas: Mapping[str, int]) -> None:
    """Give back ``deltas`` (positive numbers) taken by ``reserve``; never below zero."""
    await reserve(tx, rt, project_id=project_id, user_id=user_id,
                  deltas={k: -abs(v) for k, v in deltas.items() if v})


async def ensure_usage_rows(rt: Runtime, project_id: str, user_id: str,
                            resources: tuple[str, ...] = TRACKED) -> None:
    """Create missing usage rows in a transaction of their own, so that the first
    concurrent reservations of a new project only ever lock existing rows."""
    async with rt.db.read() as conn:
        u = t.quota_usages.c
        rows = await conn.execute(select(u.user_id, u.resource).where(
            u.project_id == project_id, u.user_id.in_([PROJECT, user_id])))
        have = {(r.user_id, r.resource) for r in rows}
    for who, res in [(who, res) for who in (PROJECT, user_id) for res in resources
                     if (who, res) not in have]:
        # one row per transaction: concurrent first requests of a project insert the
        # same rows, and several rows in one transaction deadlock each other (InnoDB)
        for attempt in range(5):
            try:
                async with rt.db.transaction() as tx:
                    await _ensure_row(tx, project_id, who, res)
                break
            except DBAPIError as e:
                if attempt == 4 or "deadlock" not in str(e.orig).lower():
                    raise


# --- limits as the quota APIs change them -----------------------------------------


async def set_project_limits(tx: Tx, project_id: str, values: Mapping[str, int],
                             user_id: str | None = None) -> None:
    table = t.project_user_quotas if user_id else t.quotas
    for resource, limit in values.items():
        where = [table.c.project_id == project_id, table.c.resource == resource]
        row: dict[str, Any] = {"project_id": project_id, "resource": resource,
                               "hard_limit": limit}
        if user_id:
            where.append(table.c.user_id == user_id)
            row["user_id"] = user_id
        await tx.execute(delete(table).where(*where))
        await tx.execute(insert(table).values(row))


async def delete_project_limits(tx: Tx, project_id: str, user_id: str | None = None) -> None:
    if user_id:
        u = t.project_user_quotas.c
        await tx.execute(delete(t.project_user_quotas).where(
            u.project_id == project_id, u.user_id == user_id))
    else:
        await tx.execute(delete(t.quotas).where(t.quotas.c.project_id == project_id))
        await tx.execute(delete(t.project_user_quotas).where(
            t.project_user_quotas.c.project_id == project_id))


async def set_class_limits(tx: Tx, class_name: str, values: Mapping[str, int]) -> None:
    c = t.quota_classes
    for resource, limit in values.items():
        await tx.execute(delete(c).where(c.c.class_name == class_name, c.c.resource == resource))
        await tx.execute(insert(c).values(class_name=class_name, resource=resource,
                                          hard_limit=limit))
