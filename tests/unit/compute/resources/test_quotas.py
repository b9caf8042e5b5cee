"""Quota arithmetic and the usage bookkeeping of reserve/release on a real SQLite
database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nubo.compute.service import quotas
from nubo.core.config import Settings
from nubo.core.db import migrate
from nubo.core.db.engine import Database
from nubo.core.runtime import Runtime


@pytest.mark.parametrize(("limit", "used", "delta", "over"), [
    (10, 9, 1, False), (10, 10, 1, True), (10, 0, 11, True), (-1, 10**9, 5, False),
    (0, 0, 1, True), (5, 7, -1, False), (5, 5, 0, False),
])
def test_exceeds(limit: int, used: int, delta: int, over: bool) -> None:
    assert quotas.exceeds(limit, used, delta) is over


def test_over_quota_message_is_novas() -> None:
    with pytest.raises(quotas.OverQuota) as err:
        quotas.check_limit("cores", 20, 18, 4)
    assert err.value.status == 403
    assert err.value.message == ("Quota exceeded for cores: Requested 4, but already used 18 "
                                 "of 20 cores")


def test_defaults() -> None:
    rt = Runtime(Settings(), None, None, None, None)  # type: ignore[arg-type]
    limits = quotas.default_limits(rt)
    assert (limits["instances"], limits["cores"], limits["ram"]) == (10, 20, 51200)
    assert (limits["key_pairs"], limits["server_groups"], limits["metadata_items"]) == (
        100, 10, 128)


def test_defaults_come_from_compute_settings() -> None:
    settings = Settings()
    settings.compute.quota_cores = 7
    settings.compute.quota_server_groups = -1
    limits = quotas.default_limits(Runtime(settings, None, None, None, None))  # type: ignore[arg-type]
    assert (limits["cores"], limits["server_groups"], limits["floating_ips"]) == (7, -1, 10)


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    db = Database(f"sqlite:///{tmp_path / 'q.db'}")
    await migrate.upgrade(db)
    yield Runtime(Settings(), db, None, None, None)  # type: ignore[arg-type]
    await db.close()


async def _reserve(rt: Runtime, user: str, **deltas: int) -> None:
    async with rt.db.transaction() as tx:
        await quotas.reserve(tx, rt, project_id="p", user_id=user, deltas=deltas)


async def _usage(rt: Runtime, user: str | None = None) -> dict[str, int]:
    async with rt.db.read() as conn:
        return await quotas.usage(conn, "p", user)


async def test_reserve_and_release_keep_project_and_user_totals(rt: Runtime) -> None:
    await _reserve(rt, "u1", instances=1, cores=2, ram=512)
    await _reserve(rt, "u2", instances=2, cores=4, ram=1024)
    assert await _usage(rt) == {"instances": 3, "cores": 6, "ram": 1536, "server_groups": 0}
    assert (await _usage(rt, "u2"))["cores"] == 4
    async with rt.db.transaction() as tx:
        await quotas.release(tx, rt, project_id="p", user_id="u1",
                             deltas={"instances": 1, "cores": 2, "ram": 512})
    assert await _usage(rt) == {"instances": 2, "cores": 4, "ram": 1024, "server_groups": 0}
    assert await _usage(rt, "u1") == {"instances": 0, "cores": 0, "ram": 0,
                                      "server_groups": 0}


async def test_refusal_leaves_usage_untouched(rt: Runtime) -> None:
    await _reserve(rt, "u1", cores=18)
    with pytest.raises(quotas.OverQuota):
        await _reserve(rt, "u1", instances=1, cores=4)
    assert await _usage(rt) == {"instances": 0, "cores": 18, "ram": 0, "server_groups": 0}


async def test_release_never_goes_below_zero(rt: Runtime) -> None:
    async with rt.db.transaction() as tx:
        await quotas.release(tx, rt, project_id="p", user_id="u1", deltas={"instances": 3})
    assert (await _usage(rt))["instances"] == 0


async def test_per_user_limit(rt: Runtime) -> None:
    async with rt.db.transaction() as tx:
        await quotas.set_project_limits(tx, "p", {"instances": 1}, user_id="u1")
    await _reserve(rt, "u1", instances=1)
    with pytest.raises(quotas.OverQuota):
        await _reserve(rt, "u1", instances=1)
    await _reserve(rt, "u2", instances=5)
    assert (await _usage(rt))["instances"] == 6


async def test_concurrent_reservations_stop_at_the_limit(rt: Runtime) -> None:
    async def one(i: int) -> bool:
        try:
            await _reserve(rt, f"u{i % 3}", instances=1)
            return True
        except quotas.OverQuota:
            return False

    results = await asyncio.gather(*(one(i) for i in range(25)))
    assert results.count(True) == 10
    assert (await _usage(rt))["instances"] == 10


async def test_unknown_resource_is_refused(rt: Runtime) -> None:
    with pytest.raises(quotas.BadRequest):
        await _reserve(rt, "u1", gpus=1)
