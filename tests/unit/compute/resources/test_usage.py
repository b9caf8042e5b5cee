"""os-simple-tenant-usage arithmetic: hours inside a period and totals."""

from __future__ import annotations

import datetime as dt

from nubo.compute.service import usage

T0 = dt.datetime(2026, 1, 1)


def h(n: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


def test_hours_clipped_to_the_period() -> None:
    assert usage.hours(h(0), None, h(0), h(10)) == 10
    assert usage.hours(h(-5), None, h(0), h(10)) == 10
    assert usage.hours(h(2), h(4), h(0), h(10)) == 2
    assert usage.hours(h(2), h(40), h(0), h(10)) == 8
    assert usage.hours(h(20), None, h(0), h(10)) == 0
    assert usage.hours(h(-9), h(-1), h(0), h(10)) == 0
    assert usage.hours(None, None, h(0), h(10)) == 0


def test_summarise_multiplies_sizes_by_hours() -> None:
    instances = [
        {"uuid": "a", "name": "a", "project_id": "p", "user_id": "u", "vm_state": "active",
         "flavor": {"name": "m1", "vcpus": 2, "ram": 1024, "disk": 10, "ephemeral": 5},
         "launched_at": h(0), "terminated_at": None, "deleted": False},
        {"uuid": "b", "name": "b", "project_id": "p", "user_id": "u", "vm_state": "deleted",
         "flavor": {"name": "m2", "vcpus": 1, "memory_mb": 512, "root_gb": 1},
         "launched_at": h(1), "terminated_at": h(3), "deleted": True},
        {"uuid": "c", "name": "c", "project_id": "q", "user_id": "v", "vm_state": "active",
         "flavor": {"name": "m1", "vcpus": 2, "ram": 1024, "disk": 10},
         "launched_at": h(5), "terminated_at": None, "deleted": False},
    ]
    out = usage.summarise(instances, h(0), h(10), now=h(12))
    p = out["p"]
    assert p.total_hours == 12
    assert p.total_vcpus_usage == 2 * 10 + 1 * 2
    assert p.total_memory_mb_usage == 1024 * 10 + 512 * 2
    assert p.total_local_gb_usage == 15 * 10 + 1 * 2
    lines = {s["instance_id"]: s for s in p.server_usages}
    assert lines["a"]["local_gb"] == 15 and lines["a"]["state"] == "active"
    assert lines["a"]["uptime"] == 12 * 3600
    assert lines["b"]["state"] == "terminated" and lines["b"]["uptime"] == 2 * 3600
    assert lines["b"]["ended_at"] == h(3).isoformat(timespec="microseconds")
    assert out["q"].total_hours == 5 and list(out) == ["p", "q"]
