"""The instance usage audit: its periods, the audit log of a period, and one host's
audit on a real SQLite database (which instances it counts, the notifications it
sends, once per period)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from nubo.compute import usage_audit
from nubo.compute.tables import instances, task_log
from nubo.core.config import Settings
from nubo.core.db import migrate
from nubo.core.db.engine import Database, Tx
from nubo.core.runtime import Runtime

UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)    # type: ignore[misc]


def test_last_period() -> None:
    now = at(2026, 3, 15, 10, 30, 5)
    assert usage_audit.last_period("hour", now) == (at(2026, 3, 15, 9), at(2026, 3, 15, 10))
    assert usage_audit.last_period("day", now) == (at(2026, 3, 14), at(2026, 3, 15))
    assert usage_audit.last_period("month", now) == (at(2026, 2, 1), at(2026, 3, 1))
    assert usage_audit.last_period("month", at(2026, 1, 1)) == (at(2025, 12, 1), at(2026, 1, 1))
    assert usage_audit.last_period("year", now) == (at(2025, 1, 1), at(2026, 1, 1))
    with pytest.raises(ValueError):
        usage_audit.last_period("week", now)


def test_summary() -> None:
    begin, end = at(2026, 2, 1), at(2026, 3, 1)
    records = [
        {"host": "h1", "state": "DONE", "task_items": 3, "errors": 0, "message": "ok"},
        {"host": "h2", "state": "RUNNING", "task_items": 0, "errors": 1, "message": ""},
    ]
    log = usage_audit.summary(["h3", "h1", "h2"], records, begin, end)
    assert log["num_hosts"] == 3 and log["num_hosts_done"] == 1
    assert log["num_hosts_running"] == 1 and log["num_hosts_not_run"] == 1
    assert log["hosts_not_run"] == ["h3"]
    assert log["total_instances"] == 3 and log["total_errors"] == 1
    assert log["overall_status"] == "1 of 3 hosts done. 1 errors."
    assert log["log"]["h1"] == {"state": "DONE", "instances": 3, "errors": 0, "message": "ok"}
    assert log["period_beginning"] == "2026-02-01 00:00:00"
    assert log["period_ending"] == "2026-03-01 00:00:00"
    done = usage_audit.summary(["h1"], records[:1], begin, end)
    assert done["overall_status"] == "ALL hosts done. 0 errors."
    assert usage_audit.summary([], [], begin, end)["overall_status"] == \
        "0 of 0 hosts done. 0 errors."


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    await migrate.upgrade(db)
    settings = Settings()
    settings.compute.instance_usage_audit_period = "month"
    yield Runtime(settings, db, None, None, None)  # type: ignore[arg-type]
    await db.close()


async def _instance(rt: Runtime, n: int, host: str, launched: dt.datetime | None,
                    terminated: dt.datetime | None = None) -> str:
    uuid = f"00000000-0000-0000-0000-{n:012d}"
    async with rt.db.transaction() as tx:
        await tx.execute(insert(instances).values(
            uuid=uuid, project_id="p", user_id="u", display_name=f"vm-{n}",
            vm_state="active" if terminated is None else "deleted", power_state=1,
            flavor={"id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1},
            reservation_id="r", locked=False, progress=0, quota_held=True, extra={},
            host=host, launched_at=launched, terminated_at=terminated,
            deleted=terminated is not None, created_at=at(2025, 1, 1), updated_at=at(2025, 1, 1)))
    return uuid


async def test_audit_of_one_host(rt: Runtime) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    async def outbox(tx: Tx) -> None:
        sent.extend(tx.messages)

    rt.db.outbox_writer = outbox
    counted = [
        await _instance(rt, 1, "h1", at(2026, 1, 5)),                       # still running
        await _instance(rt, 2, "h1", at(2026, 2, 10), at(2026, 2, 20)),     # inside
        await _instance(rt, 3, "h1", at(2026, 1, 5), at(2026, 2, 1, 0, 0, 1)),  # ended in it
    ]
    await _instance(rt, 4, "h1", at(2026, 1, 5), at(2026, 2, 1))    # gone as it began
    await _instance(rt, 5, "h1", at(2026, 3, 1))                    # launched after
    await _instance(rt, 6, "h1", None)                              # never launched
    await _instance(rt, 7, "h2", at(2026, 1, 5))                    # another host
    now = at(2026, 3, 15, 12)
    assert await usage_audit.audit(rt, "h1", now) == 3
    exists = [p for topic, p in sent if topic == "compute.instance.exists"]
    assert sorted(p["payload"]["instance_uuid"] for p in exists) == counted
    assert exists[0]["payload"]["audit_period_beginning"].startswith("2026-02-01T00:00:00")
    assert exists[0]["payload"]["audit_period_ending"].startswith("2026-03-01T00:00:00")
    # once per period
    assert await usage_audit.audit(rt, "h1", now + dt.timedelta(hours=1)) is None
    begin, end = usage_audit.last_period("month", now)
    log = usage_audit.summary(["h1", "h2"], await usage_audit.records(rt, begin, end),
                              begin, end)
    assert log["log"]["h1"]["state"] == "DONE" and log["log"]["h1"]["instances"] == 3
    assert "h1, 3 instances" in log["log"]["h1"]["message"]
    assert log["hosts_not_run"] == ["h2"] and log["total_instances"] == 3
    assert await usage_audit.audit(rt, "h2", now) == 1
    log = usage_audit.summary(["h1", "h2"], await usage_audit.records(rt, begin, end),
                              begin, end)
    assert log["overall_status"] == "ALL hosts done. 0 errors." and log["total_instances"] == 4


async def test_an_audit_its_agent_died_in_runs_again(rt: Runtime) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    async def outbox(tx: Tx) -> None:
        sent.extend(tx.messages)

    rt.db.outbox_writer = outbox
    await _instance(rt, 1, "h1", at(2026, 1, 5))
    now = at(2026, 3, 15, 12)
    begin, end = usage_audit.last_period("month", now)
    async with rt.db.transaction() as tx:      # what an agent killed mid-audit left
        for host in ("h1", "h2"):
            await tx.execute(insert(task_log).values(
                task_name=usage_audit.TASK, state=usage_audit.RUNNING, host=host,
                period_beginning=begin, period_ending=end, message="", task_items=0,
                errors=0, created_at=now))
    assert await usage_audit.audit(rt, "h1", now) is None       # taken for running
    assert await usage_audit.forget_unfinished(rt, "h1") == 1   # h1's agent starts again
    assert await usage_audit.audit(rt, "h1", now) == 1
    assert len([t for t, _p in sent if t == "compute.instance.exists"]) == 1
    log = usage_audit.summary(["h1", "h2"], await usage_audit.records(rt, begin, end),
                              begin, end)
    assert log["log"]["h1"]["state"] == "DONE"
    assert log["log"]["h2"]["state"] == "RUNNING"       # another host's is its own
    assert await usage_audit.forget_unfinished(rt, "h1") == 0   # a DONE one stays
