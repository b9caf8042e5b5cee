"""os-simple-tenant-usage: hours and flavor sizes of a project's servers, admin
listing, 2.40 paging, policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault
from tests.functional.compute.servers import boot, wait_gone


def _period(hours: float = 1) -> dict[str, str]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    fmt = "%Y-%m-%dT%H:%M:%S.%f"
    return {"start": (now - dt.timedelta(hours=hours)).strftime(fmt),
            "end": (now + dt.timedelta(hours=hours)).strftime(fmt)}


def test_project_usage(admin_nova: Nova, make_user: Any, image_id: str) -> None:
    user = make_user()
    server = boot(user, image_id)
    period = _period()
    r = user.get(f"/os-simple-tenant-usage/{user.project_id}", params=period)
    assert r.status_code == 200, r.text
    usage = r.json()["tenant_usage"]
    assert usage["tenant_id"] == user.project_id and 0 < usage["total_hours"] <= 2
    assert abs(usage["total_memory_mb_usage"] - 512 * usage["total_hours"]) < 1e-6
    assert abs(usage["total_vcpus_usage"] - usage["total_hours"]) < 1e-6
    assert abs(usage["total_local_gb_usage"] - usage["total_hours"]) < 1e-6
    line = usage["server_usages"][0]
    assert line["instance_id"] == server["id"] and line["flavor"] == "m1.tiny"
    assert (line["vcpus"], line["memory_mb"], line["local_gb"]) == (1, 512, 1)
    assert line["state"] == "active" and line["ended_at"] is None
    listed = admin_nova.get("/os-simple-tenant-usage", params={**period, "detailed": "1"})
    mine = [u for u in listed.json()["tenant_usages"] if u["tenant_id"] == user.project_id]
    assert len(mine) == 1 and mine[0]["server_usages"][0]["instance_id"] == server["id"]
    brief = admin_nova.get("/os-simple-tenant-usage", params=period).json()["tenant_usages"]
    assert all("server_usages" not in u for u in brief)
    assert user.delete(f"/servers/{server['id']}").status_code == 204
    wait_gone(user, server["id"])
    after = user.get(f"/os-simple-tenant-usage/{user.project_id}", params=period).json()
    line = after["tenant_usage"]["server_usages"][0]
    assert line["state"] == "terminated" and line["ended_at"] is not None


def test_empty_period_and_bad_times(make_user: Any) -> None:
    user = make_user()
    r = user.get(f"/os-simple-tenant-usage/{user.project_id}", params=_period())
    assert r.json() == {"tenant_usage": {}}
    params = {"start": "2030-01-02T00:00:00", "end": "2030-01-01T00:00:00"}
    fault(user.get(f"/os-simple-tenant-usage/{user.project_id}", params=params), 400,
          "badRequest")
    fault(user.get(f"/os-simple-tenant-usage/{user.project_id}",
                   params={"start": "yesterday"}), 400, "badRequest")
    fault(user.get("/os-simple-tenant-usage/"), 404, "itemNotFound")


def test_paging_at_2_40(make_user: Any, image_id: str) -> None:
    user = make_user()
    first, second = boot(user, image_id), boot(user, image_id)
    path = f"/os-simple-tenant-usage/{user.project_id}"
    page = user.get(path, params={**_period(), "limit": 1}, version="2.40").json()
    assert len(page["tenant_usage"]["server_usages"]) == 1
    link = page["tenant_usage_links"][0]
    assert link["rel"] == "next"
    marker = page["tenant_usage"]["server_usages"][0]["instance_id"]
    rest = user.get(path, params={**_period(), "marker": marker}, version="2.40").json()
    ids = {s["instance_id"] for s in rest["tenant_usage"]["server_usages"]}
    assert ids == {first["id"], second["id"]} - {marker}
    # before 2.40 there is no paging
    whole = user.get(path, params={**_period(), "limit": 1}).json()
    assert len(whole["tenant_usage"]["server_usages"]) == 2
    for s in (first, second):
        user.delete(f"/servers/{s['id']}")


def test_policy(make_user: Any) -> None:
    user, other = make_user(), make_user()
    assert "os-simple-tenant-usage:list" in fault(
        user.get("/os-simple-tenant-usage"), 403, "forbidden")
    fault(other.get(f"/os-simple-tenant-usage/{user.project_id}"), 403, "forbidden")


def test_cli(cloud: Cloud) -> None:
    assert isinstance(cloud.cli_json("usage", "list"), list)
    shown = cloud.cli_json("usage", "show", "--project", "admin")
    assert isinstance(shown, dict)
