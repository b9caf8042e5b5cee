"""Statements built once, at import, and run many times.

A hot path builds its Core statements once, with bind parameters for what
changes between calls (docs/architecture.md, "Hot statements are built once").
``prebuilt(statement)`` also says so to the database layer: on the all-in-one's
SQLite, ``InlineConnection`` compiles such a statement once and runs it straight on
sqlite3, without SQLAlchemy's per-execution work (a cache key computed from the
statement's structure, an execution context, a cursor result), which cost two
to three times what SQLite itself takes. Other back ends run it as any other.

The mark is the statement object itself (its identity), so a statement derived
from a marked one (``.where(…)``, ``.limit(…)``) is an ordinary statement again.
Only statements that live as long as the process may be marked: the registry
holds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Insert, Table, Update, bindparam, insert

S = TypeVar("S")

_MARKED: dict[int, Any] = {}


def prebuilt(statement: S) -> S:
    """Mark ``statement`` as built once and kept (returns it). An UPDATE whose own
    bind parameters take its table's column names is refused here, at import: the
    other back ends refuse it when it runs (SQLAlchemy reserves those names for the
    SET clause), and SQLite's direct path would not notice."""
    if isinstance(statement, Update):
        taken = {c.name for c in statement.table.columns}
        clash = sorted(b.key for b in statement.compile().binds.values()
                       if not b._is_crud and b.key in taken)
        if clash:
            raise ValueError(f"bind parameters named as columns of {statement.table}: "
                             f"{', '.join(clash)} (name them otherwise, b_…)")
    _MARKED[id(statement)] = statement
    return statement


def is_prebuilt(statement: object) -> bool:
    return _MARKED.get(id(statement)) is statement


_INSERTS: dict[tuple[str, frozenset[str]], Insert] = {}


def insert_of(table: Table, columns: Iterable[str]) -> Insert:
    """A prebuilt INSERT of these columns of ``table``, each bound to the parameter of
    its name: run it with the row itself (or a list of rows with these keys)."""
    key = (table.fullname, frozenset(columns))
    statement = _INSERTS.get(key)
    if statement is None:
        statement = _INSERTS[key] = prebuilt(
            insert(table).values({name: bindparam(name) for name in sorted(key[1])}))
    return statement
