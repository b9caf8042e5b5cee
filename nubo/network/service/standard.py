"""Neutron's standard attributes, shared by every resource: ids and owners,
timestamps, ``revision_number`` (with ``If-Match`` compare-and-set) and tags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import BadRequest, NotFound, PreconditionFailed
from nubo.core.ids import new_uuid
from nubo.network import tables as t

MAX_TAG_LENGTH = 255


def new_id() -> str:
    return new_uuid()


def isotime(value: dt.datetime | None) -> str | None:
    """Neutron's timestamp format: seconds, UTC, a ``Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def owner(ctx: RequestContext, body: Mapping[str, Any]) -> str:
    """The project a new resource belongs to: ``project_id`` (or the older
    ``tenant_id``) from the body, else the caller's project."""
    project = body.get("project_id", body.get("tenant_id"))
    tenant = body.get("tenant_id")
    if tenant is not None and project is not None and tenant != project:
        raise BadRequest("'project_id' and 'tenant_id' do not match")
    if project is None:
        project = ctx.project_id
    if not isinstance(project, str) or not project:
        raise BadRequest("Invalid input for project_id: a project is required.")
    return project


def description(body: Mapping[str, Any], default: str = "") -> str:
    value = body.get("description", default)
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > 255:
        raise BadRequest(f"Invalid input for description. Reason: '{value}' is not a "
                         "valid string or exceeds 255 characters.")
    return value


def new_values(project_id: str | None, body: Mapping[str, Any]) -> dict[str, Any]:
    """The standard columns of a new row."""
    now = utcnow()
    return {"id": body.get("id") or new_id(), "project_id": project_id,
            "description": description(body), "created_at": now, "updated_at": now,
            "revision_number": 0}


def view(row: Row[Any] | Mapping[str, Any], tags: list[str] | None) -> dict[str, Any]:
    """The standard attributes of a resource as Neutron shows them."""
    m = row._mapping if isinstance(row, Row) else row
    out = {"id": m["id"], "project_id": m["project_id"], "tenant_id": m["project_id"],
           "description": m["description"], "created_at": isotime(m["created_at"]),
           "updated_at": isotime(m["updated_at"]), "revision_number": m["revision_number"]}
    if tags is not None:
        out["tags"] = tags
    return out


_BUMPS: dict[str, Any] = {}


def _bump(table: Table) -> Any:
    """The revision bump of ``touch`` without other values, one per table."""
    statement = _BUMPS.get(table.name)
    if statement is None:
        statement = _BUMPS[table.name] = prebuilt(
            update(table).where(table.c.id == bindparam("b_id")).values(
                updated_at=bindparam("b_now"), revision_number=table.c.revision_number + 1))
    return statement


async def touch(tx: Tx, table: Table, resource_id: str, values: Mapping[str, Any] | None = None,
                *, if_match: int | None = None) -> None:
    """Update a resource and bump its revision; with ``if_match``, only if its
    revision is still that one (412 otherwise)."""
    if not values and if_match is None:
        bumped = await tx.execute(_bump(table), {"b_id": resource_id, "b_now": utcnow()})
        if bumped.rowcount == 1:
            return
        raise NotFound(f"{table.name} {resource_id} could not be found.")
    stmt = (update(table).where(table.c.id == resource_id)
            .values({**(values or {}), "updated_at": utcnow(),
                     "revision_number": table.c.revision_number + 1}))
    if if_match is not None:
        stmt = stmt.where(table.c.revision_number == if_match)
    if (await tx.execute(stmt)).rowcount == 1:
        return
    current = (await tx.execute(select(table.c.revision_number)
                                .where(table.c.id == resource_id))).scalar()
    if current is None:
        raise NotFound(f"{table.name} {resource_id} could not be found.")
    raise PreconditionFailed(f"Constrained to {if_match}, but current revision is {current}",
                             type="RevisionNumberConstraintFailed")


# ------------------------------------------------------------------------ rows

# prebuilt statements by (table, whether the row's project is named)
_BY_ID: dict[tuple[str, bool], Any] = {}


def _by_id(table: Table, owned: bool) -> Any:
    statement = _BY_ID.get((table.name, owned))
    if statement is None:
        where = [table.c.id == bindparam("b_id")]
        if owned:
            where.append(table.c.project_id == bindparam("b_project"))
        statement = _BY_ID[table.name, owned] = prebuilt(select(table).where(*where))
    return statement


async def row_of(conn: AsyncConnection | Tx, table: Table, row_id: str) -> Row[Any]:
    """The row with this id, known to exist (one prebuilt statement per table)."""
    return (await conn.execute(_by_id(table, False), {"b_id": row_id})).one()


async def owned_row(conn: AsyncConnection | Tx, rt: Any, ctx: RequestContext, table: Table,
                    row_id: str) -> Row[Any] | None:
    """The row with this id if the caller sees it, for resources only their project
    (and admins) see; None otherwise."""
    if is_admin(rt, ctx):
        return (await conn.execute(_by_id(table, False), {"b_id": row_id})).first()
    if ctx.project_id is None:
        return None
    return (await conn.execute(_by_id(table, True),
                               {"b_id": row_id, "b_project": ctx.project_id})).first()


# ------------------------------------------------------------------------ tags


_TAGS = prebuilt(select(t.tags.c.resource_id, t.tags.c.tag)
                 .where(t.tags.c.resource_type == bindparam("b_type"),
                        t.tags.c.resource_id.in_(bindparam("b_ids", expanding=True)))
                 .order_by(t.tags.c.tag))


async def tags_of(conn: AsyncConnection | Tx, resource_type: str, ids: Iterable[str]
                  ) -> dict[str, list[str]]:
    """The tags of each resource (sorted), in one query."""
    wanted = list(ids)
    out: dict[str, list[str]] = {i: [] for i in wanted}
    if not wanted:
        return out
    rows = await conn.execute(_TAGS, {"b_type": resource_type, "b_ids": wanted})
    for rid, tag in rows:
        out[rid].append(tag)
    return out


def check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LENGTH or "," in tag \
            or "/" in tag:
        raise BadRequest(f"Invalid input for tags. Reason: '{tag}' is not a valid tag "
                         f"(1 to {MAX_TAG_LENGTH} characters, no ',' or '/').")
    return tag


async def replace_tags(tx: Tx, resource_type: str, resource_id: str, new: Iterable[Any]
                       ) -> list[str]:
    wanted = sorted({check_tag(tag) for tag in new})
    await tx.execute(delete(t.tags).where(t.tags.c.resource_type == resource_type,
                                          t.tags.c.resource_id == resource_id))
    if wanted:
        await tx.execute(insert(t.tags), [
            {"resource_type": resource_type, "resource_id": resource_id, "tag": tag}
            for tag in wanted])
    return wanted


async def add_tag(tx: Tx, resource_type: str, resource_id: str, tag: str) -> bool:
    """Add one tag; False when the resource had it already."""
    tag = check_tag(tag)
    have = await tags_of(tx, resource_type, [resource_id])
    if tag in have[resource_id]:
        return False
    await tx.execute(insert(t.tags).values(resource_type=resource_type,
                                           resource_id=resource_id, tag=tag))
    return True


async def remove_tag(tx: Tx, resource_type: str, resource_id: str, tag: str) -> None:
    result = await tx.execute(delete(t.tags).where(
        t.tags.c.resource_type == resource_type, t.tags.c.resource_id == resource_id,
        t.tags.c.tag == tag))
    if result.rowcount == 0:
        raise NotFound(f"Tag {tag} could not be found.", type="TagNotFound")


async def drop_tags(tx: Tx, resource_type: str, resource_ids: Iterable[str]) -> None:
    """Forget the tags of deleted resources."""
    ids = list(resource_ids)
    if ids:
        await tx.execute(delete(t.tags).where(t.tags.c.resource_type == resource_type,
                                              t.tags.c.resource_id.in_(ids)))


def is_admin(rt: Any, ctx: RequestContext) -> bool:
    """Whether the caller sees every project's resources (``context_is_admin``)."""
    allowed: bool = rt.policy.enforce("context_is_admin", {}, ctx.to_policy_values())
    return allowed
