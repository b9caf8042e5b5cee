"""``/os-instance_usage_audit_log``: on the shared cloud (no audits) every compute
host is "not run"; on a cloud whose agents audit each hour, every host has a DONE
record for the last hour; the period before a given time; a bad time 400; admin
only (403). Which instances an audit counts, and its notifications, are tested in
``tests/unit/compute/test_usage_audit.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from tests import conftest as root
from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault
from tests.functional.compute.servers import poll
from tests.functional.compute.tuned import admin_of, new_user, tuned_cloud

BASE = "/os-instance_usage_audit_log"
KEYS = {"hosts_not_run", "log", "num_hosts", "num_hosts_done", "num_hosts_not_run",
        "num_hosts_running", "overall_status", "period_beginning", "period_ending",
        "total_errors", "total_instances"}


def test_no_audits_and_bad_input(admin_nova: Nova, make_user: Callable[..., Nova]) -> None:
    r = admin_nova.get(BASE)
    assert r.status_code == 200, r.text
    log = r.json()["instance_usage_audit_logs"]
    assert set(log) == KEYS
    assert log["num_hosts"] >= 1 and log["hosts_not_run"] and log["num_hosts_done"] == 0
    assert log["num_hosts_not_run"] == log["num_hosts"] and log["log"] == {}
    assert log["overall_status"] == f"0 of {log['num_hosts']} hosts done. 0 errors."
    # the period before a time: the month before that time's month
    r = admin_nova.get(f"{BASE}/2026-03-15%2010:00:00")
    assert r.status_code == 200, r.text
    old = r.json()["instance_usage_audit_log"]
    assert (old["period_beginning"], old["period_ending"]) == ("2026-02-01 00:00:00",
                                                               "2026-03-01 00:00:00")
    fault(admin_nova.get(f"{BASE}/invalid_time"), 400, "badRequest")
    member = make_user("member")
    fault(member.get(BASE), 403, "forbidden")
    fault(member.get(f"{BASE}/2026-03-15%2010:00:00"), 403, "forbidden")


@pytest.fixture(scope="module", params=root.SELECTED)
def auditing(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    with tuned_cloud(request.param, {
            "NUBO_COMPUTE__FAKE_HOSTS": "2",
            "NUBO_COMPUTE__INSTANCE_USAGE_AUDIT": "true",
            "NUBO_COMPUTE__INSTANCE_USAGE_AUDIT_PERIOD": "hour",
            "NUBO_COMPUTE__INSTANCE_USAGE_AUDIT_CHECK_INTERVAL": "1"}) as cloud:
        yield cloud


def test_every_host_audits_the_last_hour(auditing: Cloud) -> None:
    admin = admin_of(auditing)

    def done() -> dict[str, object] | None:
        log = admin.get(BASE).json()["instance_usage_audit_logs"]
        return log if log["num_hosts_done"] == log["num_hosts"] == 2 else None

    log = poll(done, timeout=30, what="both hosts' audits")
    assert log["hosts_not_run"] == [] and log["overall_status"] == "ALL hosts done. 0 errors."
    assert sorted(log["log"]) == ["fake-host-1", "fake-host-2"]
    assert all(h["state"] == "DONE" and h["instances"] == 0 for h in log["log"].values())
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    assert log["period_ending"] == end.isoformat(" ", "seconds")
    fault(new_user(auditing).get(BASE), 403, "forbidden")
