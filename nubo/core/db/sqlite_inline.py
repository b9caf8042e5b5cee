"""SQLite connections that run on the event loop's thread.

SQLAlchemy's aiosqlite driver gives every connection a thread and sends each
cursor call there and back (four hand-offs per statement), which costs about
three times the statement itself. A query on a local SQLite file takes
microseconds, and the all-in-one serialises its own writes (``Database``'s write
lock), so these connections simply run sqlite3 calls in place. They speak the
small part of aiosqlite's interface that SQLAlchemy's adapter uses and are handed
to it through ``create_async_engine(async_creator=...)``.

What this gives up: a statement blocks the loop while it runs, including a wait
for another *process's* write lock (``busy_timeout``); within one process writes
never wait for each other. Set ``[database] sqlite_threads = true`` to get the
thread-per-connection driver back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.engine import URL


class Cursor:
    """An aiosqlite-style cursor over a sqlite3 cursor; every call completes at once."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Immediate:
    """Stands in for aiosqlite's request queue: SQLAlchemy's isolation-level
    setter puts ``(future, function)`` on it; the function runs right away."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as e:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(e)


class Connection:
    """An aiosqlite-style connection over a sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn   # checked by SQLAlchemy
        self._tx = _Immediate()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        return await Cursor(self._conn.cursor()).execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def connector(url: URL, *, timeout: float) -> Callable[[], Awaitable[Connection]]:
    """The ``async_creator`` for a ``sqlite+aiosqlite`` URL."""
    database = url.database or ":memory:"
    uri = database.startswith("file:") or url.query.get("uri") == "true"

    async def connect() -> Connection:
        return Connection(sqlite3.connect(database, timeout=timeout, uri=uri,
                                          check_same_thread=False))

    return connect
