"""Compute quotas: limits (project, per user, quota class) and usage bookkeeping.

Usage lives in ``quota_usages`` rows per (project, user, resource); the row with
user ``""`` is the project's total. ``reserve`` and ``release`` run inside the
caller's transaction and move both rows with a compare-and-set on ``generation``,
after a locking read, so concurrent reservations never exceed a limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    delete,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute import tables as t
from nubo.core.db.engine import Tx, compare_and_set
from nubo.core.db.prebuilt import prebuilt
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


def _limits_query() -> Any:
    """The default class's, the project's and one user's limits in one query, each
    row tagged with the level it comes from (0 class, 1 project, 2 user)."""
    c, q, u = t.quota_classes.c, t.quotas.c, t.project_user_quotas.c
    return union_all(
        select(literal_column("0").label("level"), c.resource, c.hard_limit)
        .where(c.class_name == DEFAULT_CLASS),
        select(literal_column("1"), q.resource, q.hard_limit)
        .where(q.project_id == bindparam("project_id")),
        select(literal_column("2"), u.resource, u.hard_limit)
        .where(u.project_id == bindparam("project_id"), u.user_id == bindparam("user_id")))


_LIMITS = prebuilt(_limits_query())


async def _levels(conn: AsyncConnection | Tx, rt: Runtime, project_id: str,
                  user_id: str | None) -> tuple[dict[str, int], dict[str, int]]:
    """The project's limits and the user's (the project's with the user's own
    ones over them), from one query."""
    project = default_limits(rt)
    own: dict[str, int] = {}
    rows = await conn.execute(_LIMITS, {"project_id": project_id, "user_id": user_id or ""})
    for level, resource, limit in sorted(rows, key=lambda r: r[0]):
        if resource in project:
            if level < 2:
                project[resource] = limit
            else:
                own[resource] = limit
    return project, {**project, **own}


async def project_limits(conn: AsyncConnection, rt: Runtime, project_id: str,
                         user_id: str | None = None) -> dict[str, int]:
    """The limits that apply to a project (or to one user in it)."""
    project, user = await _levels(conn, rt, project_id, user_id)
    return user if user_id is not None else project


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

    Reads the limits (one query) and locks the project's and the user's usage rows
    of those resources (one query), checks every resource (in name order, the
    project before the user, so the first one over names the error), then moves
    every row in one compare-and-set. Giving back (negative deltas) checks nothing
    and so reads no limits."""
    wanted = {k: v for k, v in deltas.items() if v}
    unknown = set(wanted) - set(TRACKED)
    if unknown:
        raise BadRequest(f"Unknown quota resources {sorted(unknown)}.")
    if not wanted:
        return
    growing = any(v > 0 for v in wanted.values())
    limits: dict[str, int] = {}
    user_limits: dict[str, int] = {}
    if growing:
        limits, user_limits = await _levels(tx, rt, project_id, user_id)
    rows = await _locked_rows(tx, project_id, user_id, sorted(wanted))
    if growing:
        for resource in sorted(wanted):
            for who, limit in ((PROJECT, limits[resource]), (user_id, user_limits[resource])):
                check_limit(resource, limit, int(rows[(who, resource)].in_use),
                            wanted[resource])
    params: dict[str, Any] = {"b_project": project_id, "b_user": user_id,
                              "b_resources": sorted(wanted)}
    for resource in TRACKED:
        params[f"d_{resource}"] = wanted.get(resource, 0)
        for who, prefix in ((PROJECT, "gp"), (user_id, "gu")):
            row = rows.get((who, resource))
            params[f"{prefix}_{resource}"] = row.generation if row is not None else -1
    if (await tx.execute(_MOVE, params)).rowcount == 2 * len(wanted):
        return
    # cannot happen under the row locks; move row by row, reading again, to be sure
    for resource in sorted(wanted):
        delta = wanted[resource]
        for who, checked in ((PROJECT, limits), (user_id, user_limits)):
            await _move(tx, project_id, who, resource, delta,
                        checked[resource] if delta > 0 else None)


def _move_statement() -> Any:
    """Add each resource's delta (``d_<resource>``) to the project's and the user's
    usage rows, never below zero, where each row still has the generation read
    (``gp_<resource>``, ``gu_<resource>``); one statement for every row."""
    u = t.quota_usages.c
    by_resource = {"value": u.resource, "else_": 0}

    def per_resource(prefix: str) -> Any:
        return case({r: bindparam(f"{prefix}_{r}", type_=Integer) for r in TRACKED},
                    **by_resource)

    moved = u.in_use + per_resource("d")
    expected = case((u.user_id == PROJECT, per_resource("gp")), else_=per_resource("gu"))
    return (update(t.quota_usages)
            .where(u.project_id == bindparam("b_project"),
                   u.user_id.in_([PROJECT, bindparam("b_user")]),
                   u.resource.in_(bindparam("b_resources", expanding=True)),
                   u.generation == expected)
            .values(in_use=case((moved < 0, 0), else_=moved), generation=u.generation + 1))


_MOVE = prebuilt(_move_statement())


def _locked_rows_query() -> Any:
    u = t.quota_usages.c
    return select(u.user_id, u.resource, u.in_use, u.generation).where(
        u.project_id == bindparam("project_id"),
        u.user_id.in_([PROJECT, bindparam("user_id")]),
        u.resource.in_(bindparam("resources", expanding=True))
    ).order_by(u.user_id, u.resource).with_for_update()


_LOCKED_ROWS = prebuilt(_locked_rows_query())


async def _locked_rows(tx: Tx, project_id: str, user_id: str, resources: list[str]
                       ) -> dict[tuple[str, str], Any]:
    """(user_id, resource) -> the locked usage row, for the project total and the
    user, made first where missing."""
    params = {"project_id": project_id, "user_id": user_id, "resources": resources}
    rows = {(r.user_id, r.resource): r for r in await tx.execute(_LOCKED_ROWS, params)}
    missing = [(who, res) for who in (PROJECT, user_id) for res in resources
               if (who, res) not in rows]
    if missing:
        for who, res in missing:
            await _ensure_row(tx, project_id, who, res)
        rows = {(r.user_id, r.resource): r for r in await tx.execute(_LOCKED_ROWS, params)}
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
