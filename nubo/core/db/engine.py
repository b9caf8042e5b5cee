"""Database engine and transactions.

One ``Database`` per process wraps an async SQLAlchemy engine. Service functions
run one transaction each with ``async with db.transaction() as tx``; messages
recorded with ``tx.publish`` are written to the outbox in the same transaction
and go out on the bus after commit (see ``nubo.core.db.outbox``), so a crash
between commit and publish loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Engine, Table, create_engine, event, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.elements import ColumnElement

from nubo.core.errors import Conflict

log = logging.getLogger(__name__)

DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
}


def async_url(url: str) -> str:
    """Map the URL an operator writes (postgresql://, mysql://) to the async driver."""
    parsed = make_url(url)
    backend = parsed.drivername.split("+")[0]
    if backend not in DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite, postgresql or mysql")
    if "+" in parsed.drivername:
        return url
    return parsed.set(drivername=DRIVERS[backend]).render_as_string(hide_password=False)


@dataclass
class Tx:
    """An open transaction: the connection plus the messages to send on commit."""

    conn: AsyncConnection
    # the database the transaction runs on (for work that must happen apart from it)
    db: Database | None = None
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # awaited last, just before commit: a row they lock stays locked only for the commit
    before_commit: list[Callable[[Tx], Awaitable[None]]] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        self.messages.append((topic, dict(payload)))

    async def execute(self, statement: Any, params: Any = None) -> Any:
        return await self.conn.execute(statement, params)


OutboxWriter = Callable[[Tx], Any]


class Database:
    def __init__(self, url: str, *, pool_size: int = 5, echo: bool = False,
                 sqlite_threads: bool = False) -> None:
        self.url = async_url(url)
        self.backend = make_url(self.url).get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.backend == "sqlite" and sqlite_threads:
            kwargs["connect_args"] = {"timeout": 30}
        elif self.backend == "sqlite":
            from nubo.core.db import sqlite_inline

            kwargs["async_creator"] = sqlite_inline.connector(make_url(self.url), timeout=30)
            # the pool keeps as many connections as a server's would allow in all: an
            # SQLite connection is a file handle here, but opening one runs its pragmas
            kwargs.update(pool_size=pool_size * 3, max_overflow=pool_size * 3)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True,
                          pool_recycle=3600)
        # the async engine: every connection on PostgreSQL, MariaDB and threaded SQLite;
        # migrations (and tests) on inline SQLite
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self._inline: Engine | None = None
        if self.backend == "sqlite" and not sqlite_threads:
            from nubo.core.db import sqlite_inline

            # what services get on inline SQLite: sqlite_inline.InlineConnection
            parsed = make_url(self.url)
            self._inline = create_engine(
                parsed.set(drivername="sqlite"), echo=echo, poolclass=QueuePool,
                creator=sqlite_inline.sync_connector(parsed, timeout=30),
                pool_size=pool_size * 3, max_overflow=pool_size * 3)
            event.listen(self._inline, "connect", _sqlite_pragmas)
        if self.backend == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            if sqlite_threads:
                # the driver's own BEGIN only precedes writes, so a savepoint opened
                # first would begin a transaction its release commits (SQLAlchemy's
                # recipe for pysqlite); inline connections set their savepoints
                # themselves (sqlite_inline._Savepoint)
                event.listen(self.engine.sync_engine, "connect", _sqlite_autocommit)
                event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
            # SQLite has one writer: serialise our own write transactions instead of
            # letting them fail with "database is locked".
            self._write_lock: asyncio.Lock | None = asyncio.Lock()
        else:
            self._write_lock = None
        self._apart: AsyncEngine | None = None
        self.outbox_writer: OutboxWriter | None = None
        self.on_commit: Callable[[], None] | None = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One read-write transaction; commits on success, rolls back on error."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock:
            async with self._connection() as conn, conn.begin():
                tx = Tx(conn, db=self)
                yield tx
                for step in tx.before_commit:
                    await step(tx)
                if tx.messages and self.outbox_writer is not None:
                    await self.outbox_writer(tx)
        for hook in tx.after_commit:
            hook()
        if tx.messages and self.on_commit is not None:
            self.on_commit()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection (no transaction held open longer than needed)."""
        async with self._connection() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection, given back when the block ends.

        On inline SQLite it is an ``InlineConnection`` (a synchronous connection
        with an ``AsyncConnection``'s face), closed in place: SQLAlchemy's own
        async context manager closes a connection in a task of its own, and with
        nothing in a close to wait for, that task only cost (every other ready
        request checked a connection out before the pool got the last one back).
        """
        if self._inline is None:
            async with self.engine.connect() as conn:
                yield conn
            return
        from nubo.core.db.sqlite_inline import InlineConnection

        inline = InlineConnection(self._inline.connect())
        try:
            yield cast(AsyncConnection, inline)
        finally:
            inline.sync_connection.close()

    def apart(self) -> AsyncEngine:
        """An engine on the same database without a pool, for a short statement that
        must commit on its own while the caller holds one of the pool's connections
        (a second pooled connection could be waited for forever)."""
        if self._apart is None:
            from sqlalchemy.pool import NullPool

            self._apart = create_async_engine(self.url, poolclass=NullPool)
        return self._apart

    async def close(self) -> None:
        await self.engine.dispose()
        if self._inline is not None:
            self._inline.dispose()
        if self._apart is not None:
            await self._apart.dispose()


def _sqlite_autocommit(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


async def compare_and_set(
    tx: Tx,
    table: Table,
    where: ColumnElement[bool],
    generation: int,
    values: Mapping[str, Any],
    *,
    column: str = "generation",
) -> None:
    """``UPDATE … SET …, generation = g + 1 WHERE … AND generation = g``.

    Raises Conflict when another writer got there first, so concurrent claims on
    the same row never both succeed.
    """
    gen = table.c[column]
    stmt = update(table).where(where, gen == generation).values({**values, column: generation + 1})
    result = await tx.execute(stmt)
    if result.rowcount != 1:
        raise Conflict(f"concurrent update of {table.name}; retry the request")


def is_duplicate(exc: BaseException) -> bool:
    """True when a database error is a unique-constraint violation."""
    return isinstance(exc, IntegrityError) and not _is_fk_violation(exc)


def _is_fk_violation(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "foreign key" in text or "violates foreign" in text
