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

from typing import Any, TypeVar

S = TypeVar("S")

_MARKED: dict[int, Any] = {}


def prebuilt(statement: S) -> S:
    """Mark ``statement`` as built once and kept (returns it)."""
    _MARKED[id(statement)] = statement
    return statement


def is_prebuilt(statement: object) -> bool:
    return _MARKED.get(id(statement)) is statement
