"""The SQLite connections that run on the event loop behave as the threaded
aiosqlite ones do: results, row counts, generated ids, rollbacks, constraint
errors (translated by SQLAlchemy), and readers that see only committed rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.db.engine import Database, is_duplicate
from nubo.core.db.sqlite_inline import Connection

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
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, Connection)
            assert (await conn.execute(select(1))).scalar() == 1
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
