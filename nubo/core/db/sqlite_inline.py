"""SQLite connections that run on the event loop's thread.

Two layers, both for the all-in-one's SQLite. ``InlineConnection`` is what
``Database`` hands out: an ``AsyncConnection``'s face (``execute``, ``begin``,
``begin_nested``, ...) on a *synchronous* SQLAlchemy connection. SQLAlchemy's
asyncio extension runs every statement in a greenlet of its own and every cursor
call through an adapter, which doubled the cost of a statement that SQLite itself
answers in microseconds; its results are the same ``CursorResult`` objects
either way. Below it, for the async engine that migrations and tests still use,
``Connection`` speaks aiosqlite's interface without aiosqlite's thread.

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

from sqlalchemy import CompoundSelect, Delete, Insert, Select, Update
from sqlalchemy.engine import URL, Dialect, NestedTransaction, RootTransaction
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.exc import DBAPIError

from nubo.core.db.prebuilt import is_prebuilt


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


class _Block:
    """``async with conn.begin()`` / ``begin_nested()``: commit (or release the
    savepoint) when the block ends, roll back when it raises."""

    def __init__(self, tx: RootTransaction | NestedTransaction) -> None:
        self._tx = tx

    async def __aenter__(self) -> _Block:
        return self

    async def __aexit__(self, kind: object, exc: object, tb: object) -> None:
        if not self._tx.is_active:
            return
        if exc is None:
            self._tx.commit()
        else:
            self._tx.rollback()

    async def commit(self) -> None:
        self._tx.commit()

    async def rollback(self) -> None:
        self._tx.rollback()


class _Savepoint:
    """``async with conn.begin_nested()``: a savepoint set, released, or rolled back
    to, straight on sqlite3. SQLAlchemy's nested transaction costs about ten times
    the statement; nothing else needs to know of it (it ends within the block)."""

    def __init__(self, conn: InlineConnection) -> None:
        self._conn = conn
        self._name = ""

    async def __aenter__(self) -> _Savepoint:
        dbapi = self._conn.dbapi()
        if not dbapi.in_transaction:
            # a savepoint outside a transaction would open one that its release commits
            dbapi.execute("BEGIN")
        self._conn.savepoints += 1
        self._name = f"nubo_sp{self._conn.savepoints}"
        dbapi.execute(f"SAVEPOINT {self._name}")
        return self

    async def __aexit__(self, kind: object, exc: object, tb: object) -> None:
        dbapi = self._conn.dbapi()
        self._conn.savepoints -= 1
        try:
            if exc is not None:
                dbapi.execute(f"ROLLBACK TO SAVEPOINT {self._name}")
            dbapi.execute(f"RELEASE SAVEPOINT {self._name}")
        except sqlite3.Error as e:
            raise DBAPIError.instance(f"RELEASE SAVEPOINT {self._name}", (), e, sqlite3.Error,
                                      dialect=self._conn.dialect) from e


class Result(IteratorResult[Any]):
    """What a prebuilt statement returns: SQLAlchemy's result interface (rows,
    ``mappings()``, ``scalar()``…) over rows read at once, and ``rowcount``."""

    def __init__(self, meta: SimpleResultMetaData, rows: list[Any], rowcount: int,
                 inserted_primary_key: tuple[Any, ...] | None = None) -> None:
        super().__init__(meta, iter(rows))
        self.rowcount = rowcount
        self.inserted_primary_key = inserted_primary_key


_NO_COLUMNS = SimpleResultMetaData([])
# the renderings of one prebuilt statement's IN lists kept, by their lengths
PLANS = 64


class Prebuilt:
    """A prebuilt statement (``nubo.core.db.prebuilt``) compiled once for SQLite:
    its SQL, how parameters become the cursor's, how its rows are read. Built by
    ``compiled_for``; None there for what SQLAlchemy must run itself."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        c = statement.compile(dialect=dialect)
        self.compiled = c
        self.sql = c.string
        # IN lists (expanding parameters) are rendered per execution: the SQL once
        # per combination of list lengths (``plans``) unless a value is rendered in
        self.expanding = bool(c.post_compile_params or c.literal_execute_params)
        self.lists = frozenset(c.bind_names[b] for b in c.post_compile_params)
        self.rendered = bool(c.literal_execute_params)
        self.plans: dict[tuple[int, ...], str] = {}
        self.names = tuple(c.positiontup or ())
        self.accepted = frozenset(c.binds)
        self.binds = dict(c._bind_processors)
        columns = c._result_columns
        self.meta = SimpleResultMetaData([col[0] for col in columns]) if columns \
            else _NO_COLUMNS
        readers = [col[3]._cached_result_processor(dialect, None) for col in columns]
        self.readers = readers if any(readers) else None
        # an INSERT whose key the database makes: the row id is its key
        self.rowid_key = isinstance(statement, Insert) and bool(c.postfetch_lastrowid)

    @staticmethod
    def eligible(statement: Any, dialect: Dialect) -> Prebuilt | None:
        """Selects, deletes, and inserts and updates whose values the statement
        names, all from their parameters (no Python-side defaults, no RETURNING, no
        key read back): the rest stay with SQLAlchemy."""
        if not isinstance(statement, (Select, CompoundSelect, Update, Delete, Insert)) or (
                isinstance(statement, (Update, Insert)) and not statement._values):
            return None     # without values, each execution names what it sets
        built = Prebuilt(statement, dialect)
        c = built.compiled
        if (c.insert_prefetch or c.update_prefetch or getattr(c, "postfetch", None)
                or c.implicit_returning or c.effective_returning or not dialect.positional
                or (built.rowid_key and len(list(statement.table.primary_key)) != 1)):  # type: ignore[union-attr]
            return None
        return built

    def arguments(self, parameters: Any) -> tuple[str, list[Any]]:
        c = self.compiled
        if self.expanding and not self.rendered:
            values = c.construct_params(parameters, _no_postcompile=True)
            lengths = tuple(len(values[n]) for n in self.names if n in self.lists)
            sql = self.plans.get(lengths)
            if sql is None:
                sql = c.construct_expanded_state(parameters).statement
                if len(self.plans) < PLANS:
                    self.plans[lengths] = sql
            binds = self.binds
            args: list[Any] = []
            for n in self.names:
                f = binds.get(n)
                if n in self.lists:
                    args.extend(values[n] if f is None else [f(v) for v in values[n]])
                else:
                    args.append(values[n] if f is None else f(values[n]))
            return sql, args
        if self.expanding:
            state = c.construct_expanded_state(parameters)
            sql, names, values, binds = (state.statement, state.positiontup or (),
                                         state.parameters, state.processors)
        else:
            sql, names, binds = self.sql, self.names, self.binds
            values = c.construct_params(parameters)
        return sql, [binds[n](values[n]) if n in binds else values[n] for n in names]

    def run(self, dbapi: sqlite3.Connection, parameters: Any, dialect: Dialect) -> Result:
        if isinstance(parameters, list):    # many rows of an INSERT, say
            sql = self.sql
            many = [self.arguments(p)[1] for p in parameters]
            try:
                cursor = dbapi.executemany(sql, many)
            except sqlite3.Error as e:
                raise DBAPIError.instance(sql, many, e, sqlite3.Error, dialect=dialect) from e
            return Result(self.meta, [], cursor.rowcount)
        sql, args = self.arguments(parameters)
        try:
            cursor = dbapi.execute(sql, args)
            rows = cursor.fetchall()
        except sqlite3.Error as e:
            raise DBAPIError.instance(sql, args, e, sqlite3.Error, dialect=dialect) from e
        readers = self.readers
        if readers is not None and rows:
            rows = [tuple([v if f is None else f(v) for f, v in zip(readers, row, strict=True)])
                    for row in rows]
        return Result(self.meta, rows, cursor.rowcount,
                      (cursor.lastrowid,) if self.rowid_key else None)


# prebuilt statements as compiled (None: run by SQLAlchemy), by identity; the
# statements themselves are kept by ``nubo.core.db.prebuilt``
_COMPILED: dict[int, Prebuilt | None] = {}


def compiled_for(statement: Any, dialect: Dialect) -> Prebuilt | None:
    key = id(statement)
    try:
        return _COMPILED[key]
    except KeyError:
        built = _COMPILED[key] = Prebuilt.eligible(statement, dialect)
        return built


class InlineConnection:
    """The part of ``AsyncConnection`` nubo's services use, over a synchronous
    connection; each call completes in place. A prebuilt statement
    (``nubo.core.db.prebuilt``) runs straight on sqlite3, in the connection's
    transaction (begun first if none is, as SQLAlchemy begins one with a
    connection's first statement)."""

    def __init__(self, sync_connection: SyncConnection) -> None:
        self.sync_connection = sync_connection
        self._dbapi: sqlite3.Connection | None = None
        self.savepoints = 0     # open ones (their names)

    def dbapi(self) -> sqlite3.Connection:
        """The sqlite3 connection, in the transaction SQLAlchemy knows (begun first if
        none is, as SQLAlchemy begins one with a connection's first statement)."""
        sync = self.sync_connection
        if not sync.in_transaction():
            sync.begin()
        if self._dbapi is None:
            self._dbapi = sync.connection.dbapi_connection  # type: ignore[assignment]
        assert self._dbapi is not None
        return self._dbapi

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    async def execute(self, statement: Any, parameters: Any = None, *,
                      execution_options: Any = None) -> Any:
        sync = self.sync_connection
        if execution_options is None and is_prebuilt(statement):
            built = compiled_for(statement, sync.dialect)
            # a parameter that is no bind parameter would be a column to set, which
            # SQLAlchemy adds per execution
            if built is not None and _accepts(built, parameters):
                return built.run(self.dbapi(), parameters, sync.dialect)
        return sync.execute(statement, parameters, execution_options=execution_options)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync_connection.scalar(statement, parameters)

    async def scalars(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync_connection.scalars(statement, parameters)

    def begin(self) -> _Block:
        return _Block(self.sync_connection.begin())

    def begin_nested(self) -> _Savepoint:
        return _Savepoint(self)

    def in_transaction(self) -> bool:
        return self.sync_connection.in_transaction()

    async def commit(self) -> None:
        self.sync_connection.commit()

    async def rollback(self) -> None:
        self.sync_connection.rollback()

    async def run_sync(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        return fn(self.sync_connection, *args, **kw)

    async def close(self) -> None:
        self.sync_connection.close()


def _accepts(built: Prebuilt, parameters: Any) -> bool:
    if parameters is None:
        return True
    if isinstance(parameters, list):
        return bool(parameters) and not built.expanding and all(
            built.accepted.issuperset(p) for p in parameters)
    return built.accepted.issuperset(parameters)


def sync_connector(url: URL, *, timeout: float) -> Callable[[], sqlite3.Connection]:
    """The ``creator`` of the synchronous engine behind ``InlineConnection``."""
    database = url.database or ":memory:"
    uri = database.startswith("file:") or url.query.get("uri") == "true"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(database, timeout=timeout, uri=uri, check_same_thread=False)

    return connect
