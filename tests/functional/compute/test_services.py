"""os-services, os-availability-zone and os-hosts: what the control plane and the
fake hypervisors look like, disabling a host, and who may do it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.compute.nova import Nova, fault
from tests.functional.compute.servers import boot, wait_gone


def services(nova: Nova, version: str = "2.53", **params: Any) -> list[dict[str, Any]]:
    r = nova.get("/os-services", version=version, params=params)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["services"]
    return found


def compute_service(nova: Nova, host: str) -> dict[str, Any]:
    return services(nova, host=host, binary="nova-compute")[0]


@pytest.fixture
def enabled_again(admin_nova: Nova) -> Iterator[None]:
    yield
    for s in services(admin_nova, binary="nova-compute"):
        admin_nova.put(f"/os-services/{s['id']}", {"status": "enabled", "forced_down": False},
                       version="2.53")


def test_list_shows_agents_and_control_plane(admin_nova: Nova) -> None:
    found = services(admin_nova)
    by_binary = {(s["binary"], s["host"]) for s in found}
    assert ("nova-compute", "fake-host-1") in by_binary
    assert ("nova-compute", "fake-host-2") in by_binary
    assert {"nova-conductor", "nova-scheduler"} <= {s["binary"] for s in found}
    for s in found:
        assert s["state"] == "up" and s["status"] == "enabled"
        assert s["zone"] == ("nova" if s["binary"] == "nova-compute" else "internal")
        assert len(s["id"]) == 36                       # uuids from 2.53
    old = services(admin_nova, version="2.1")
    assert all(isinstance(s["id"], int) and "forced_down" not in s for s in old)
    assert services(admin_nova, binary="nova-conductor")[0]["binary"] == "nova-conductor"


def test_disabled_host_gets_no_servers(admin_nova: Nova, image_id: str,
                                       enabled_again: None) -> None:
    s1 = compute_service(admin_nova, "fake-host-1")
    r = admin_nova.put(f"/os-services/{s1['id']}", {"status": "disabled",
                                                    "disabled_reason": "maintenance"},
                       version="2.53")
    assert r.status_code == 200, r.text
    assert r.json()["service"]["status"] == "disabled"
    assert r.json()["service"]["disabled_reason"] == "maintenance"
    made = [boot(admin_nova, image_id) for _ in range(2)]
    for server in made:
        shown = admin_nova.get(f"/servers/{server['id']}", version="2.53").json()["server"]
        assert shown["OS-EXT-SRV-ATTR:host"] == "fake-host-2"
    for server in made:
        admin_nova.delete(f"/servers/{server['id']}")
        wait_gone(admin_nova, server["id"])


def test_forced_down_is_down(admin_nova: Nova, enabled_again: None) -> None:
    s2 = compute_service(admin_nova, "fake-host-2")
    r = admin_nova.put(f"/os-services/{s2['id']}", {"forced_down": True}, version="2.53")
    assert r.status_code == 200, r.text
    assert compute_service(admin_nova, "fake-host-2")["state"] == "down"
    zones = admin_nova.get("/os-availability-zone/detail").json()["availabilityZoneInfo"]
    nova = next(z for z in zones if z["zoneName"] == "nova")
    assert nova["hosts"]["fake-host-2"]["nova-compute"]["available"] is False


def test_legacy_disable_enable(admin_nova: Nova, enabled_again: None) -> None:
    body = {"host": "fake-host-1", "binary": "nova-compute", "disabled_reason": "why"}
    r = admin_nova.put("/os-services/disable-log-reason", body, version="2.1")
    assert r.status_code == 200, r.text
    assert r.json()["service"]["status"] == "disabled"
    assert compute_service(admin_nova, "fake-host-1")["disabled_reason"] == "why"
    r = admin_nova.put("/os-services/enable", {"host": "fake-host-1",
                                               "binary": "nova-compute"}, version="2.1")
    assert r.json()["service"]["status"] == "enabled"
    fault(admin_nova.put("/os-services/disable", {"host": "nowhere",
                                                  "binary": "nova-compute"}, version="2.1"),
          404, "itemNotFound")


def test_update_bad_input(admin_nova: Nova) -> None:
    s1 = compute_service(admin_nova, "fake-host-1")
    for body in ({}, {"status": "sleeping"}, {"disabled_reason": "x"}, {"bogus": 1}):
        fault(admin_nova.put(f"/os-services/{s1['id']}", body, version="2.53"), 400,
              "badRequest")
    fault(admin_nova.put("/os-services/00000000-0000-0000-0000-000000000000",
                         {"status": "enabled"}, version="2.53"), 404, "itemNotFound")


def test_delete_service_hosting_instances_is_409(admin_nova: Nova, image_id: str) -> None:
    server = boot(admin_nova, image_id)
    host = admin_nova.get(f"/servers/{server['id']}", version="2.53").json()["server"][
        "OS-EXT-SRV-ATTR:host"]
    service = compute_service(admin_nova, host)
    fault(admin_nova.delete(f"/os-services/{service['id']}", version="2.53"), 409,
          "conflictingRequest")
    admin_nova.delete(f"/servers/{server['id']}")
    wait_gone(admin_nova, server["id"])


def test_members_are_refused(member: Nova) -> None:
    fault(member.get("/os-services"), 403, "forbidden")
    fault(member.put("/os-services/enable", {"host": "fake-host-1", "binary": "nova-compute"},
                     version="2.1"), 403, "forbidden")
    fault(member.get("/os-availability-zone/detail"), 403, "forbidden")
    fault(member.get("/os-hosts", version="2.42"), 403, "forbidden")


def test_availability_zones(member: Nova, admin_nova: Nova) -> None:
    zones = member.get("/os-availability-zone").json()["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]
    detail = admin_nova.get("/os-availability-zone/detail").json()["availabilityZoneInfo"]
    names = {z["zoneName"] for z in detail}
    assert names == {"nova", "internal"}
    internal = next(z for z in detail if z["zoneName"] == "internal")
    binaries = {b for host in internal["hosts"].values() for b in host}
    assert {"nova-conductor", "nova-scheduler"} <= binaries


def test_os_hosts_until_2_42(admin_nova: Nova) -> None:
    hosts = admin_nova.get("/os-hosts", version="2.42").json()["hosts"]
    assert {"host_name": "fake-host-1", "service": "compute", "zone": "nova"} in hosts
    shown = admin_nova.get("/os-hosts/fake-host-1", version="2.42").json()["host"]
    assert shown[0]["resource"]["project"] == "(total)"
    assert shown[0]["resource"]["cpu"] > 0
    fault(admin_nova.get("/os-hosts", version="2.43"), 404, "itemNotFound")
    fault(admin_nova.get("/os-hosts/nowhere", version="2.42"), 404, "itemNotFound")


def test_server_on_a_down_host(admin_nova: Nova, image_id: str, enabled_again: None) -> None:
    server = boot(admin_nova, image_id, availability_zone="nova:fake-host-2")
    s2 = compute_service(admin_nova, "fake-host-2")
    admin_nova.put(f"/os-services/{s2['id']}", {"forced_down": True}, version="2.53")
    shown = admin_nova.get(f"/servers/{server['id']}", version="2.16").json()["server"]
    assert shown["host_status"] == "DOWN"
    # the agent cannot be reached: the delete is finished by the API at once
    assert admin_nova.delete(f"/servers/{server['id']}").status_code == 204
    fault(admin_nova.get(f"/servers/{server['id']}"), 404, "itemNotFound")
    listed = admin_nova.get("/os-hypervisors", version="2.53",
                            params={"with_servers": "true"}).json()["hypervisors"]
    on_2 = next(h for h in listed if h["hypervisor_hostname"] == "fake-host-2")
    assert server["id"] not in {s["uuid"] for s in on_2.get("servers", [])}


def test_delete_a_service(admin_nova: Nova) -> None:
    scheduler = services(admin_nova, binary="nova-scheduler")[0]
    assert admin_nova.delete(f"/os-services/{scheduler['id']}",
                             version="2.53").status_code == 204
    assert services(admin_nova, binary="nova-scheduler") == []
    fault(admin_nova.delete(f"/os-services/{scheduler['id']}", version="2.53"), 404,
          "itemNotFound")
    fault(admin_nova.delete("/os-services/not-a-number", version="2.52"), 400, "badRequest")


def test_os_hosts_errors(admin_nova: Nova) -> None:
    for body in ({"status": "enable", "maintenance_mode": "sometimes"}, {"status": "on"},
                 {}, {"bogus": "enable"}):
        fault(admin_nova.put("/os-hosts/fake-host-1", body, version="2.42"), 400,
              "badRequest")
    fault(admin_nova.put("/os-hosts/nowhere", {"status": "enable"}, version="2.42"), 404,
          "itemNotFound")
    for action in ("reboot", "shutdown", "startup"):
        fault(admin_nova.get(f"/os-hosts/nowhere/{action}", version="2.42"), 404,
              "itemNotFound")
        fault(admin_nova.get(f"/os-hosts/fake-host-1/{action}", version="2.42"), 501,
              "notImplemented")
    r = admin_nova.put("/os-hosts/fake-host-1", {"status": "disable"}, version="2.42")
    assert r.json() == {"host": "fake-host-1", "status": "disabled"}
    r = admin_nova.put("/os-hosts/fake-host-1", {"status": "enable"}, version="2.42")
    assert r.json() == {"host": "fake-host-1", "status": "enabled"}
