"""The SQLite connections that run on the event loop behave as the threaded
aiosqlite ones do: results, row counts, generated ids, rollbacks, constraint
errors (translated by SQLAlchemy), and readers that see only committed rows.
Prebuilt statements, which the inline connection runs straight on sqlite3, give
what SQLAlchemy's own execution gives."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from nubo.core.db.base import UTCDateTime
from nubo.core.db.engine import Database, is_duplicate
from nubo.core.db.prebuilt import insert_of, is_prebuilt, prebuilt
from nubo.core.db.sqlite_inline import Connection, InlineConnection, Result, compiled_for

meta = MetaData()
items = Table("items", meta, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("name", String(20), unique=True, nullable=False))


@pytest.fixture(params=[False, True], ids=["inline", "threads"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}", sqlite_threads=request.param)
    async with database.engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    yield database
    await database.close()


async def test_inline_is_the_default_for_sqlite(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'y.db'}")
    try:
        async with database.read() as conn:
            assert isinstance(conn, InlineConnection)
            assert (await conn.execute(select(1))).scalar() == 1
        async with database.engine.connect() as conn:   # the async engine (migrations)
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, Connection)
    finally:
        await database.close()


async def test_writes_ids_counts_and_reads(db: Database) -> None:
    async with db.transaction() as tx:
        first = await tx.execute(insert(items).values(name="a"))
        await tx.execute(insert(items), [{"name": "b"}, {"name": "c"}])
        changed = await tx.execute(update(items).where(items.c.name != "a")
                                   .values(name=items.c.name + "!"))
    assert first.inserted_primary_key == (1,)
    assert changed.rowcount == 2
    async with db.read() as conn:
        rows = (await conn.execute(select(items.c.name).order_by(items.c.id))).scalars().all()
    assert rows == ["a", "b!", "c!"]


async def test_rollback_and_constraint_errors(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(insert(items).values(name="a"))
    with pytest.raises(IntegrityError) as err:
        async with db.transaction() as tx:
            await tx.execute(insert(items).values(name="z"))
            await tx.execute(insert(items).values(name="a"))
    assert is_duplicate(err.value)
    async with db.read() as conn:
        assert (await conn.execute(select(items.c.name))).scalars().all() == ["a"]


async def test_readers_see_only_committed_rows(db: Database) -> None:
    inside, done = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as tx:
            await tx.execute(insert(items).values(name="late"))
            inside.set()
            await done.wait()

    task = asyncio.create_task(writer())
    await inside.wait()
    async with db.read() as conn:
        assert (await conn.execute(select(items.c.name))).scalars().all() == []
    done.set()
    await task
    async with db.read() as conn:
        assert (await conn.execute(select(items.c.name))).scalars().all() == ["late"]


async def test_a_failed_savepoint_undoes_only_itself(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(insert(items).values(name="a"))
        with pytest.raises(IntegrityError):
            async with tx.conn.begin_nested():
                await tx.execute(insert(items).values(name="b"))
                await tx.execute(insert(items).values(name="a"))
        async with tx.conn.begin_nested():
            await tx.execute(insert(items).values(name="c"))
    async with db.read() as conn:
        names = (await conn.execute(select(items.c.name).order_by(items.c.name))).scalars()
        assert names.all() == ["a", "c"]


async def test_savepoints_nest_and_a_first_one_commits_nothing_alone(db: Database) -> None:
    """A savepoint opened before any write is still inside the transaction: its
    release does not commit, the transaction's rollback undoes it."""
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            async with tx.conn.begin_nested():
                await tx.execute(insert(items).values(name="early"))
            raise RuntimeError("rolled back")
    async with db.transaction() as tx:
        async with tx.conn.begin_nested():
            await tx.execute(insert(items).values(name="outer"))
            with pytest.raises(IntegrityError):
                async with tx.conn.begin_nested():
                    await tx.execute(insert(items).values(name="inner"))
                    await tx.execute(insert(items).values(name="outer"))
            async with tx.conn.begin_nested():
                await tx.execute(insert(items).values(name="second"))
    async with db.read() as conn:
        names = (await conn.execute(select(items.c.name).order_by(items.c.name))).scalars()
        assert names.all() == ["outer", "second"]


# ------------------------------------------------------------ prebuilt statements

things = Table("things", meta, Column("id", Integer, primary_key=True, autoincrement=True),
               Column("name", String(20), unique=True, nullable=False),
               Column("seen", UTCDateTime, nullable=True), Column("data", JSON, nullable=True),
               Column("on", Boolean, nullable=False, default=False))
T0 = dt.datetime(2026, 11, 22, 1, 2, 3, 456789)
_BY_NAME = prebuilt(select(things).where(things.c.name == bindparam("name")))
_AMONG = prebuilt(select(things.c.name, things.c.data).where(
    things.c.name.in_(bindparam("names", expanding=True)), things.c.on.is_(True)
).order_by(things.c.id))
_SEEN = prebuilt(update(things).where(things.c.name == bindparam("b_name")).values(
    seen=bindparam("b_seen"), data=bindparam("b_data", type_=JSON)))
_RENAME = prebuilt(update(things).where(things.c.name == bindparam("b_name")).values(
    name=bindparam("b_new")))
_GONE = prebuilt(delete(things).where(things.c.name.in_(bindparam("names", expanding=True))))
_UNDERLYING = prebuilt(select(things.c.name))


async def _seed(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(insert(things), [
            {"name": "a", "seen": T0, "data": {"k": [1, 2]}, "on": True},
            {"name": "b", "seen": None, "data": None, "on": True},
            {"name": "c", "seen": T0, "data": [3], "on": False}])


def _ran_straight(conn: Any, result: Any) -> bool:
    """Whether an inline connection ran the statement on sqlite3 itself."""
    return isinstance(conn, InlineConnection) and isinstance(result, Result)


async def test_prebuilt_statements_read_as_sqlalchemy_reads(db: Database) -> None:
    await _seed(db)
    async with db.transaction() as tx:
        # the same rows, types and keys as SQLAlchemy's own execution gives
        result = await tx.execute(_BY_NAME, {"name": "a"})
        assert _ran_straight(tx.conn, result) == isinstance(tx.conn, InlineConnection)
        row = result.mappings().first()
        again = (await tx.execute(select(things).where(things.c.name == "a"))
                 ).mappings().first()
        assert dict(row) == dict(again) == {"id": 1, "name": "a", "seen": T0,
                                            "data": {"k": [1, 2]}, "on": True}
        assert (await tx.execute(_BY_NAME, {"name": "zz"})).mappings().first() is None
        result = await tx.execute(_AMONG, {"names": ["c", "b", "a", "x"]})
        assert _ran_straight(tx.conn, result) == isinstance(tx.conn, InlineConnection)
        found = result.all()
        assert [(r.name, r.data) for r in found] == [("a", {"k": [1, 2]}), ("b", None)]
        assert (await tx.execute(_AMONG, {"names": []})).all() == []
        assert (await tx.execute(_UNDERLYING)).scalars().all() == ["a", "b", "c"]


async def test_prebuilt_writes_count_rows_and_commit_with_the_transaction(
        db: Database) -> None:
    await _seed(db)
    t1 = T0 + dt.timedelta(days=1)
    async with db.transaction() as tx:
        changed = await tx.execute(_SEEN, {"b_name": "b", "b_seen": t1, "b_data": {"x": 1}})
        assert changed.rowcount == 1
        assert _ran_straight(tx.conn, changed) == isinstance(tx.conn, InlineConnection)
        assert (await tx.execute(_SEEN, {"b_name": "none", "b_seen": t1, "b_data": None})
                ).rowcount == 0
        assert (await tx.execute(_GONE, {"names": ["c", "x"]})).rowcount == 1
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute(_GONE, {"names": ["a"]})
            raise RuntimeError("rolled back")
    async with db.read() as conn:
        rows = (await conn.execute(select(things.c.name, things.c.seen, things.c.data)
                                   .order_by(things.c.id))).all()
    assert [tuple(r) for r in rows] == [("a", T0, {"k": [1, 2]}), ("b", t1, {"x": 1})]


async def test_prebuilt_constraint_errors_are_sqlalchemy_errors(db: Database) -> None:
    await _seed(db)
    with pytest.raises(IntegrityError) as caught:
        async with db.transaction() as tx:
            await tx.execute(_RENAME, {"b_name": "b", "b_new": "a"})
    assert is_duplicate(caught.value)
    async with db.read() as conn:
        assert (await conn.execute(_UNDERLYING)).scalars().all() == ["a", "b", "c"]


async def test_what_sqlalchemy_adds_per_execution_stays_with_it(db: Database) -> None:
    await _seed(db)
    plain = update(things).where(things.c.name == bindparam("b_name"))
    prebuilt(plain)
    async with db.transaction() as tx:
        # a statement derived from a prebuilt one is an ordinary one
        derived = _UNDERLYING.where(things.c.on.is_(True))
        assert not is_prebuilt(derived)
        assert (await tx.execute(derived)).scalars().all() == ["a", "b"]
        # a parameter naming a column: SQLAlchemy sets that column
        result = await tx.execute(plain, {"b_name": "a", "on": False})
        assert result.rowcount == 1 and not _ran_straight(tx.conn, result)
        result = await tx.execute(_SEEN, {"b_name": "b", "b_seen": T0, "b_data": None,
                                          "on": False})
        assert result.rowcount == 1 and not _ran_straight(tx.conn, result)
        # inserts stay with SQLAlchemy (defaults, generated ids)
        made = prebuilt(insert(things))
        assert (await tx.execute(made, {"name": "d"})).inserted_primary_key == (4,)
        if isinstance(tx.conn, InlineConnection):
            assert compiled_for(made, tx.conn.dialect) is None
    async with db.read() as conn:
        on = dict((await conn.execute(select(things.c.name, things.c.on))).all())
    assert on == {"a": False, "b": False, "c": False, "d": False}


async def test_a_prebuilt_first_statement_begins_the_transaction(db: Database) -> None:
    await _seed(db)
    async with db.read() as conn:
        result = await conn.execute(_BY_NAME, {"name": "b"})
        assert _ran_straight(conn, result) == isinstance(conn, InlineConnection)
        assert conn.in_transaction()
        assert result.mappings().first()["name"] == "b"
        await conn.execute(_SEEN, {"b_name": "b", "b_seen": T0, "b_data": None})
    async with db.read() as conn:        # what the first did was rolled back at its end
        assert (await conn.execute(_BY_NAME, {"name": "b"})).mappings().first()["seen"] is None


def test_an_update_binding_a_column_name_is_refused_when_marked() -> None:
    """SQLAlchemy refuses such an UPDATE when it runs on PostgreSQL and MariaDB; the
    direct SQLite path would run it, so marking it fails for every back end."""
    with pytest.raises(ValueError, match="name"):
        prebuilt(update(items).where(items.c.id == bindparam("id")).values(
            name=bindparam("b_name")))
    # the names SQLAlchemy makes itself for literal values are fine
    assert is_prebuilt(prebuilt(update(items).where(items.c.id == bindparam("b_id")).values(
        name="x")))


async def test_prebuilt_inserts_run_straight_one_row_or_many(db: Database) -> None:
    row = {"name": "a", "seen": T0, "data": {"k": [1]}, "on": True}
    async with db.transaction() as tx:
        made = await tx.execute(insert_of(things, row), row)
        assert _ran_straight(tx.conn, made) == isinstance(tx.conn, InlineConnection)
        assert made.rowcount == 1 and made.inserted_primary_key == (1,)
        rows = [{"name": n, "seen": None, "data": None, "on": False} for n in ("b", "c")]
        many = await tx.execute(insert_of(things, rows[0]), rows)
        assert _ran_straight(tx.conn, many) == isinstance(tx.conn, InlineConnection)
        # a column left to its Python default: SQLAlchemy fills it in
        defaulted = insert_of(things, ("name",))
        assert (await tx.execute(defaulted, {"name": "d"})).inserted_primary_key == (4,)
        if isinstance(tx.conn, InlineConnection):
            assert compiled_for(defaulted, tx.conn.dialect) is None
        assert insert_of(things, reversed(list(row))) is insert_of(things, row)
    with pytest.raises(IntegrityError) as caught:
        async with db.transaction() as tx:
            await tx.execute(insert_of(things, row), row)
    assert is_duplicate(caught.value)
    async with db.read() as conn:
        found = (await conn.execute(select(things.c.name, things.c.data, things.c.on)
                                    .order_by(things.c.id))).all()
    assert [tuple(r) for r in found] == [("a", {"k": [1]}, True), ("b", None, False),
                                         ("c", None, False), ("d", None, False)]


_TWO_LISTS = prebuilt(select(things.c.name).where(
    things.c.name.in_(bindparam("b_names", expanding=True)),
    things.c.name.notin_(["zz", "yy"]), things.c.id.in_(bindparam("b_ids", expanding=True)),
    things.c.on.is_(bindparam("b_on"))).order_by(things.c.name))


async def test_in_lists_of_every_length_read_as_sqlalchemy_reads(db: Database) -> None:
    """The SQL of a prebuilt statement's IN lists is kept per list lengths: each
    length gives what SQLAlchemy's own rendering gives."""
    await _seed(db)
    async with db.read() as conn:
        for names, ids, on in ((["a", "b", "c"], [1, 2, 3], True), (["a"], [1, 2], True),
                               ([], [1], True), (["c", "b"], [3], False),
                               (["a", "b", "c"], [1, 2, 3], True), (["b"], [], True)):
            params = {"b_names": names, "b_ids": ids, "b_on": on}
            mine = (await conn.execute(_TWO_LISTS, params)).scalars().all()
            theirs = (await conn.execute(select(things.c.name).where(
                things.c.name.in_(names), things.c.name.notin_(["zz", "yy"]),
                things.c.id.in_(ids), things.c.on.is_(on)).order_by(things.c.name))
            ).scalars().all()
            assert mine == theirs, params
        if isinstance(conn, InlineConnection):
            built = compiled_for(_TWO_LISTS, conn.dialect)
            assert built is not None and (3, 2, 3) in built.plans and (0, 2, 1) in built.plans
