"""Throw-away databases on the machine's PostgreSQL and MariaDB servers.

Each test session creates its own database and drops it afterwards. When a
server is not reachable the tests that need it skip, saying why.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_URL = os.environ.get("NUBO_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
MYSQL_URL = os.environ.get("NUBO_TEST_MYSQL", "mysql://root@127.0.0.1:3306")
BACKENDS = ("sqlite", "postgresql", "mariadb")


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_URL}/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _mysql(sql: str) -> None:
    import aiomysql

    conn = await aiomysql.connect(host="127.0.0.1", port=3306, user="root", password="",
                                  connect_timeout=5)
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql)
        await conn.commit()
    finally:
        conn.close()


@contextmanager
def database(backend: str, tmp_dir: str) -> Iterator[str]:
    """Yield a database URL for ``backend``; raise RuntimeError when unavailable."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir}/nubo.db"
        return
    name = f"nubo_test_{uuid.uuid4().hex[:10]}"
    run = _pg if backend == "postgresql" else _mysql
    try:
        asyncio.run(run(f"CREATE DATABASE {name}" + (
            " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if backend == "mariadb" else "")))
    except Exception as e:
        raise RuntimeError(f"{backend} server not reachable: {e}") from e
    try:
        yield f"{PG_URL}/{name}" if backend == "postgresql" else f"{MYSQL_URL}/{name}?charset=utf8mb4"
    finally:
        asyncio.run(run(f"DROP DATABASE {name}" + (" WITH (FORCE)" if backend == "postgresql"
                                                  else "")))
