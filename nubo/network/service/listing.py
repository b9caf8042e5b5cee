"""Neutron's list conventions in SQL: attribute filters (a repeated parameter
means any of its values), ``changed_since``, tag filters, sorting on several keys,
and keyset pagination with ``limit``, ``marker`` and ``page_reverse``.

A resource declares a ``Collection``: its table, the attributes it can be filtered
and sorted on, and how. The API turns query parameters into a ``ListQuery``; the
service adds the caller's visibility and calls ``list_rows``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Table, and_, false, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.errors import BadRequest, NotFound
from nubo.network import tables as t

Filter = Callable[[list[str]], ColumnElement[bool]]
Convert = Callable[[str], Any]


def to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadRequest(f"Invalid input for operation: '{value}' cannot be converted to boolean.",
                     type="InvalidInput")


def to_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"Invalid input for operation: '{value}' is not an integer.",
                         type="InvalidInput") from None


def column_filter(column: ColumnElement[Any], convert: Convert = str) -> Filter:
    """``column IN (values)``; an empty value matches NULL as well as ''."""

    def where(values: list[str]) -> ColumnElement[bool]:
        converted = [convert(v) for v in values if v != "" or convert is str]
        clause: ColumnElement[bool] = column.in_(converted) if converted else false()
        if "" in values:
            clause = or_(clause, column.is_(None))
        return clause

    return where


def standard_filters(table: Table) -> dict[str, Filter]:
    """The filters every resource with standard attributes has."""
    out: dict[str, Filter] = {
        "id": column_filter(table.c.id),
        "revision_number": column_filter(table.c.revision_number, to_int),
    }
    if "project_id" in table.c:
        out["project_id"] = out["tenant_id"] = column_filter(table.c.project_id)
    for name in ("name", "description"):
        if name in table.c:
            out[name] = column_filter(table.c[name])
    return out


@dataclass(frozen=True)
class Collection:
    """What a resource's list can be filtered and sorted on."""

    name: str  # the collection ("networks"): tag resource type and link names
    table: Table
    filters: Mapping[str, Filter]
    sort_keys: Mapping[str, ColumnElement[Any]]
    tagged: bool = True


@dataclass(frozen=True)
class ListQuery:
    filters: Mapping[str, list[str]] = field(default_factory=dict)
    sorts: Sequence[tuple[str, bool]] = ()  # (attribute, ascending)
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False
    tags: Sequence[str] = ()
    tags_any: Sequence[str] = ()
    not_tags: Sequence[str] = ()
    not_tags_any: Sequence[str] = ()
    changed_since: Any = None


def where_clauses(coll: Collection, query: ListQuery) -> list[ColumnElement[bool]]:
    """The query's filters as SQL; 400 for an attribute the resource can't filter on."""
    clauses: list[ColumnElement[bool]] = []
    unknown = sorted(set(query.filters) - set(coll.filters))
    if unknown:
        raise BadRequest(f"{unknown} is invalid attribute for filtering", type="HTTPBadRequest")
    for name, values in query.filters.items():
        clauses.append(coll.filters[name](values))
    if query.changed_since is not None and "updated_at" in coll.table.c:
        clauses.append(coll.table.c.updated_at >= query.changed_since)
    clauses.extend(_tag_clauses(coll, query))
    return clauses


def _tag_clauses(coll: Collection, query: ListQuery) -> list[ColumnElement[bool]]:
    if not (query.tags or query.tags_any or query.not_tags or query.not_tags_any):
        return []
    if not coll.tagged:
        raise BadRequest(f"{coll.name} have no tags to filter on")
    ident = coll.table.c.id

    def having(tag: str) -> ColumnElement[bool]:
        return ident.in_(select(t.tags.c.resource_id).where(
            t.tags.c.resource_type == coll.name, t.tags.c.tag == tag))

    out: list[ColumnElement[bool]] = []
    if query.tags:
        out.append(and_(*[having(tag) for tag in query.tags]))
    if query.tags_any:
        out.append(or_(*[having(tag) for tag in query.tags_any]))
    if query.not_tags:
        out.append(~and_(*[having(tag) for tag in query.not_tags]))
    if query.not_tags_any:
        out.append(~or_(*[having(tag) for tag in query.not_tags_any]))
    return out


def _order(coll: Collection, query: ListQuery) -> list[tuple[ColumnElement[Any], bool]]:
    order: list[tuple[ColumnElement[Any], bool]] = []
    for key, ascending in query.sorts:
        if key not in coll.sort_keys:
            raise BadRequest(f"{key} is an invalid attribute for sort_key",
                             type="HTTPBadRequest")
        order.append((coll.sort_keys[key], ascending != query.page_reverse))
    if not any(col is coll.table.c.id for col, _ in order):
        order.append((coll.table.c.id, not query.page_reverse))
    return order


async def _after_marker(conn: AsyncConnection, coll: Collection, query: ListQuery,
                        order: list[tuple[ColumnElement[Any], bool]]) -> ColumnElement[bool]:
    """Rows strictly after the marker in ``order`` (keyset pagination)."""
    marker = (await conn.execute(select(*[col for col, _ in order])
                                 .where(coll.table.c.id == query.marker))).first()
    if marker is None:
        raise NotFound(f"Marker {query.marker} could not be found.")
    alternatives: list[ColumnElement[bool]] = []
    for i, (col, ascending) in enumerate(order):
        equal = [c == marker[j] for j, (c, _) in enumerate(order[:i])]
        beyond = col > marker[i] if ascending else col < marker[i]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


async def list_rows(conn: AsyncConnection, coll: Collection, query: ListQuery,
                    visible: Sequence[ColumnElement[bool]] = (),
                    base: Select[Any] | None = None) -> tuple[list[Row[Any]], bool]:
    """The rows of one page in the asked order, and whether more follow it."""
    stmt = base if base is not None else select(coll.table)
    stmt = stmt.where(*visible, *where_clauses(coll, query))
    order = _order(coll, query)
    if query.marker:
        stmt = stmt.where(await _after_marker(conn, coll, query, order))
    stmt = stmt.order_by(*[col.asc() if asc else col.desc() for col, asc in order])
    if query.limit is not None:
        stmt = stmt.limit(query.limit + 1)
    rows = list(await conn.execute(stmt))
    more = query.limit is not None and len(rows) > query.limit
    if more:
        rows = rows[:query.limit]
    if query.page_reverse:
        rows.reverse()
    return rows, more
