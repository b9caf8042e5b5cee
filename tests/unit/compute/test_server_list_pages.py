"""Server list pages read from the database in (created_at, id) order must be
exactly the pages of sorting every matching server in Python: checked on a real
SQLite database with ties in created_at, deleted servers, filters the database
cannot apply, and batches smaller than a page."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from nubo.compute.service import instances as records
from nubo.compute.service.server_list import (
    ServerQuery,
    _matches,
    list_servers,
    paginate,
    sort_servers,
)
from nubo.compute.tables import instance_tags, instances
from nubo.core.config import Settings
from nubo.core.db import migrate
from nubo.core.db.engine import Database
from nubo.core.errors import BadRequest
from nubo.core.runtime import Runtime

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    db = Database(f"sqlite:///{tmp_path / 'list.db'}")
    await migrate.upgrade(db)
    rng = random.Random(7)
    async with db.transaction() as tx:
        for n in range(60):
            uuid = f"00000000-0000-0000-0000-{n:012d}"
            await tx.execute(insert(instances).values(
                uuid=uuid, project_id="p" if n % 7 else "other", user_id="u",
                display_name=rng.choice(["web", "db", "cache"]) + f"-{n}",
                vm_state=rng.choice(["active", "active", "error", "building"]),
                power_state=1, flavor={"id": "1"}, reservation_id="r", locked=False,
                progress=0, quota_held=True, extra={}, deleted=n % 11 == 0,
                # created_at ties in threes: the id breaks them
                created_at=T0 + dt.timedelta(seconds=n // 3), updated_at=T0))
            if n % 4 == 0:
                await tx.execute(insert(instance_tags).values(instance_uuid=uuid, tag="blue"))
    yield Runtime(Settings(), db, None, None, None)  # type: ignore[arg-type]
    await db.close()


async def _reference(rt: Runtime, q: ServerQuery) -> list[dict[str, Any]]:
    """Every live server of the project, filtered and sorted in Python."""
    async with rt.db.read() as conn:
        rows = (await conn.execute(select(instances).where(
            instances.c.project_id == q.project_id, instances.c.deleted.is_(False)))
        ).mappings().all()
        found = await records.attach(conn, rows)
    return sort_servers([s for s in found if _matches(s, q)], q.sort)


async def _walk(rt: Runtime, q: ServerQuery, batch: int) -> list[str]:
    """Every page through markers, as a client follows ``servers_links``."""
    seen: list[str] = []
    while True:
        page = await list_servers(rt, q, batch=batch)
        seen += [s["uuid"] for s in page]
        assert len(seen) <= 60, "pages repeat servers"
        if q.limit is None or len(page) < q.limit:
            return seen
        q.marker = page[-1]["uuid"]


QUERIES = [
    {},
    {"status": "ACTIVE"},
    {"name": "^web"},
    {"tags": ["blue"]},
    {"states": {"vm_state": "error"}},
    {"sort": [("created_at", "asc")]},
    {"sort": [("created_at", "desc")], "name": "db"},
]


@pytest.mark.parametrize("fields", QUERIES)
@pytest.mark.parametrize("limit", [1, 4, 7, None])
@pytest.mark.parametrize("batch", [1, 3, 1000])
async def test_pages_match_sorting_everything(rt: Runtime, fields: dict[str, Any],
                                              limit: int | None, batch: int) -> None:
    q = ServerQuery(project_id="p", limit=limit, **fields)
    expected = [s["uuid"] for s in await _reference(rt, ServerQuery(project_id="p", **fields))]
    assert expected  # every query matches something
    assert await _walk(rt, q, batch) == expected


async def test_a_page_after_a_marker(rt: Runtime) -> None:
    everything = await _reference(rt, ServerQuery(project_id="p"))
    marker = everything[10]["uuid"]
    page = await list_servers(rt, ServerQuery(project_id="p", limit=5, marker=marker))
    assert [s["uuid"] for s in page] == [s["uuid"] for s in paginate(everything, marker, 5)]
    assert page[0]["tags"] == sorted(page[0]["tags"]) and "fault" in page[0]


async def test_marker_of_another_project_or_unknown_is_refused(rt: Runtime) -> None:
    other = "00000000-0000-0000-0000-000000000007"      # n = 7: project "other"
    for marker in (other, "no-such-server"):
        with pytest.raises(BadRequest, match=r"marker \[.*\] not found"):
            await list_servers(rt, ServerQuery(project_id="p", limit=3, marker=marker))


async def test_limit_zero_is_an_empty_page(rt: Runtime) -> None:
    assert await list_servers(rt, ServerQuery(project_id="p", limit=0)) == []
