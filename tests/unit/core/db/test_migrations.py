"""The migration chains build exactly the schema the table modules declare."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from nubo.core.db import migrate
from nubo.core.db.base import metadata
from nubo.core.db.engine import Database


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    async def run() -> list[object]:
        db = Database(f"sqlite:///{tmp_path / 'm.db'}")
        try:
            await migrate.upgrade(db)
            assert await migrate.current_heads(db) == migrate.expected_heads()

            def diff(conn: Connection) -> list[object]:
                ctx = MigrationContext.configure(conn)
                return [d for d in compare_metadata(ctx, metadata)
                        if not (isinstance(d, tuple) and d[0] == "remove_table"
                                and d[1].name == "alembic_version")]

            async with db.engine.connect() as conn:
                return await conn.run_sync(diff)
        finally:
            await db.close()

    assert asyncio.run(run()) == []
