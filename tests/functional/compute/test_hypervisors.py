"""os-hypervisors across its microversions: ids, resource fields until 2.87,
statistics, uptime, search and servers, and who may read them."""

from __future__ import annotations

from typing import Any

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault
from tests.functional.compute.servers import boot, wait_gone


def hypervisors(nova: Nova, path: str = "", version: str = "2.1", **params: Any
                ) -> list[dict[str, Any]]:
    r = nova.get(f"/os-hypervisors{path}", version=version, params=params)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["hypervisors"]
    return found


def test_list_and_detail(admin_nova: Nova) -> None:
    brief = hypervisors(admin_nova)
    assert {h["hypervisor_hostname"] for h in brief} == {"fake-host-1", "fake-host-2"}
    assert all(isinstance(h["id"], int) and h["state"] == "up" for h in brief)
    detail = hypervisors(admin_nova, "/detail")
    one = detail[0]
    assert one["hypervisor_type"] == "fake" and one["vcpus"] == 16
    assert one["memory_mb"] == 32768 and isinstance(one["cpu_info"], str)
    assert one["service"]["host"] == one["hypervisor_hostname"]
    newer = hypervisors(admin_nova, "/detail", version="2.88")
    assert "vcpus" not in newer[0] and "uptime" in newer[0] and len(newer[0]["id"]) == 36
    assert isinstance(hypervisors(admin_nova, "/detail", version="2.28")[0]["cpu_info"], dict)


def test_usage_counts_servers(admin_nova: Nova, image_id: str) -> None:
    before = admin_nova.get("/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert before["count"] == 2
    server = boot(admin_nova, image_id)
    after = admin_nova.get("/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert after["running_vms"] == before["running_vms"] + 1
    assert after["vcpus_used"] == before["vcpus_used"] + 1
    assert after["memory_mb_used"] == before["memory_mb_used"] + 512
    host = admin_nova.get(f"/servers/{server['id']}").json()["server"]["OS-EXT-SRV-ATTR:host"]
    listed = hypervisors(admin_nova, version="2.53", with_servers="true",
                         hypervisor_hostname_pattern=host)
    assert server["id"] in {s["uuid"] for s in listed[0]["servers"]}
    legacy = hypervisors(admin_nova, f"/{host}/servers", version="2.52")
    assert server["id"] in {s["uuid"] for s in legacy[0]["servers"]}
    fault(admin_nova.get("/os-hypervisors/statistics", version="2.88"), 404, "itemNotFound")
    admin_nova.delete(f"/servers/{server['id']}")
    wait_gone(admin_nova, server["id"])


def test_show_uptime_search(admin_nova: Nova) -> None:
    new = hypervisors(admin_nova, version="2.53")[0]
    r = admin_nova.get(f"/os-hypervisors/{new['id']}", version="2.53")
    assert r.status_code == 200 and r.json()["hypervisor"]["id"] == new["id"]
    fault(admin_nova.get("/os-hypervisors/not-a-uuid", version="2.53"), 400, "badRequest")
    old = hypervisors(admin_nova)[0]
    r = admin_nova.get(f"/os-hypervisors/{old['id']}/uptime")
    assert r.status_code == 200 and "uptime" in r.json()["hypervisor"]
    fault(admin_nova.get("/os-hypervisors/999999"), 404, "itemNotFound")
    found = hypervisors(admin_nova, "/host-2/search")
    assert [h["hypervisor_hostname"] for h in found] == ["fake-host-2"]
    fault(admin_nova.get("/os-hypervisors/nomatch/search"), 404, "itemNotFound")
    fault(admin_nova.get("/os-hypervisors/host/search", version="2.53"), 404, "itemNotFound")


def test_paging_from_2_33(admin_nova: Nova) -> None:
    first = admin_nova.get("/os-hypervisors", version="2.33", params={"limit": 1}).json()
    assert len(first["hypervisors"]) == 1 and first["hypervisors_links"]
    marker = first["hypervisors"][0]["id"]
    second = hypervisors(admin_nova, version="2.33", limit=1, marker=marker)
    assert len(second) == 1 and second[0]["id"] != marker


def test_member_refused(member: Nova) -> None:
    fault(member.get("/os-hypervisors"), 403, "forbidden")
    fault(member.get("/os-hypervisors/detail"), 403, "forbidden")
    fault(member.get("/os-hypervisors/statistics"), 403, "forbidden")


def test_cli_hypervisor_list(cloud: Cloud) -> None:
    rows = cloud.cli_json("hypervisor", "list")
    assert {r["Hypervisor Hostname"] for r in rows} == {"fake-host-1", "fake-host-2"}
    services = cloud.cli_json("compute", "service", "list")
    assert {"fake-host-1", "fake-host-2"} <= {s["Host"] for s in services}
