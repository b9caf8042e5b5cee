"""Listing servers: filters, sorting, paging, admin views; instance actions and
external events on the way."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault
from tests.functional.compute.servers import boot, wait_gone


@pytest.fixture
def three(member: Nova, image_id: str) -> Iterator[list[dict[str, Any]]]:
    """alpha (tag a), beta (tags a, b), gamma (tag c), oldest first."""
    made = [boot(member, image_id, name="alpha", tags=["a"]),
            boot(member, image_id, name="beta", tags=["a", "b"]),
            boot(member, image_id, name="gamma", tags=["c"])]
    yield made
    for s in made:
        member.delete(f"/servers/{s['id']}")
    for s in made:
        wait_gone(member, s["id"])


def names(resp: Any) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [s["name"] for s in resp.json()["servers"]]


def test_default_order_is_newest_first(member: Nova, three: list[dict[str, Any]]) -> None:
    assert names(member.get("/servers")) == ["gamma", "beta", "alpha"]
    detail = member.get("/servers/detail").json()["servers"]
    assert [s["name"] for s in detail] == ["gamma", "beta", "alpha"]
    assert all(s["status"] == "ACTIVE" for s in detail)


def test_name_regex_status_image_flavor(member: Nova, three: list[dict[str, Any]],
                                        image_id: str) -> None:
    assert names(member.get("/servers", params={"name": "^(al|ga)"})) == ["gamma", "alpha"]
    assert names(member.get("/servers", params={"name": "et"})) == ["beta"]
    assert len(names(member.get("/servers", params={"status": "ACTIVE"}))) == 3
    assert names(member.get("/servers", params={"status": "SHUTOFF"})) == []
    assert names(member.get("/servers", params={"status": "NOSUCH"})) == []
    assert len(names(member.get("/servers", params={"image": image_id}))) == 3
    assert names(member.get("/servers", params={"flavor": "2"})) == []
    assert len(names(member.get("/servers", params={"flavor": "1"}))) == 3


def test_tags_filters_from_2_26(member: Nova, three: list[dict[str, Any]]) -> None:
    def tagged(**params: str) -> list[str]:
        return sorted(names(member.get("/servers", params=params, version="2.26")))

    assert tagged(tags="a") == ["alpha", "beta"]
    assert tagged(tags="a,b") == ["beta"]
    assert tagged(**{"tags-any": "b,c"}) == ["beta", "gamma"]
    assert tagged(**{"not-tags": "a"}) == ["gamma"]
    assert tagged(**{"not-tags-any": "b,c"}) == ["alpha"]
    # ignored before 2.26
    assert len(names(member.get("/servers", params={"tags": "a"}, version="2.25"))) == 3


def test_sorting_and_paging(member: Nova, three: list[dict[str, Any]]) -> None:
    by_name = member.get("/servers", params={"sort_key": "display_name", "sort_dir": "asc"})
    assert names(by_name) == ["alpha", "beta", "gamma"]
    page = member.get("/servers", params={"sort_key": "display_name", "sort_dir": "asc",
                                          "limit": 2})
    assert names(page) == ["alpha", "beta"]
    link = page.json()["servers_links"][0]
    assert link["rel"] == "next" and "marker=" in link["href"]
    marker = page.json()["servers"][-1]["id"]
    rest = member.get("/servers", params={"sort_key": "display_name", "sort_dir": "asc",
                                          "limit": 2, "marker": marker})
    assert names(rest) == ["gamma"] and "servers_links" not in rest.json()
    fault(member.get("/servers", params={"marker": str(uuid.uuid4())}), 400, "badRequest")
    fault(member.get("/servers", params={"limit": "x"}), 400, "badRequest")
    fault(member.get("/servers", params={"sort_key": "bogus"}), 400, "badRequest")


def test_changes_since_includes_deleted(member: Nova, image_id: str) -> None:
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    server = boot(member, image_id, name="short-lived")
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])
    found = member.get("/servers/detail", params={"changes-since": start}).json()["servers"]
    assert [(s["id"], s["status"]) for s in found] == [(server["id"], "DELETED")]
    assert member.get("/servers").json()["servers"] == []
    future = "2999-01-01T00:00:00Z"
    assert member.get("/servers", params={"changes-since": future}).json()["servers"] == []
    fault(member.get("/servers", params={"changes-since": "yesterday"}), 400, "badRequest")
    fault(member.get("/servers", params={"changes-since": future,
                                         "changes-before": start}, version="2.66"),
          400, "badRequest")


def test_admin_all_tenants_host_and_deleted(admin_nova: Nova, member: Nova,
                                            three: list[dict[str, Any]]) -> None:
    mine = {s["id"] for s in three}
    everyone = admin_nova.get("/servers", params={"all_tenants": "1"}).json()["servers"]
    assert mine <= {s["id"] for s in everyone}
    own = admin_nova.get("/servers").json()["servers"]
    assert not mine & {s["id"] for s in own}
    by_project = admin_nova.get("/servers", params={"all_tenants": "1",
                                                    "project_id": member.project_id})
    assert {s["id"] for s in by_project.json()["servers"]} == mine
    # without all_tenants the project filters are ignored, as in Nova (lp:1185290)
    for key in ("project_id", "tenant_id"):
        own = admin_nova.get("/servers", params={key: member.project_id}).json()["servers"]
        assert not mine & {s["id"] for s in own}
    on_1 = admin_nova.get("/servers/detail", params={"all_tenants": "1",
                                                     "host": "fake-host-1"}).json()
    assert all(s["OS-EXT-SRV-ATTR:host"] == "fake-host-1" for s in on_1["servers"])
    # a non-admin's host filter is ignored
    assert len(names(member.get("/servers", params={"host": "nowhere"}))) == 3


def test_locked_filter_from_2_73(member: Nova, three: list[dict[str, Any]]) -> None:
    assert len(names(member.get("/servers", params={"locked": "false"}, version="2.73"))) == 3
    assert names(member.get("/servers", params={"locked": "true"}, version="2.73")) == []


def test_instance_actions(member: Nova, admin_nova: Nova, image_id: str) -> None:
    server = boot(member, image_id)
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])
    fault(member.get(f"/servers/{server['id']}/os-instance-actions", version="2.20"), 404,
          "itemNotFound")
    actions = member.get(f"/servers/{server['id']}/os-instance-actions", version="2.21"
                         ).json()["instanceActions"]
    assert [a["action"] for a in actions] == ["delete", "create"]
    create = actions[1]
    shown = member.get(f"/servers/{server['id']}/os-instance-actions/{create['request_id']}",
                       version="2.51").json()["instanceAction"]
    events = {e["event"]: e for e in shown["events"]}
    assert events["compute_build_and_run_instance"]["result"] == "Success"
    assert "traceback" not in events["compute_build_and_run_instance"]
    as_admin = admin_nova.get(f"/servers/{server['id']}/os-instance-actions/"
                              f"{create['request_id']}", version="2.62").json()
    build = next(e for e in as_admin["instanceAction"]["events"]
                 if e["event"] == "compute_build_and_run_instance")
    assert build["host"] in ("fake-host-1", "fake-host-2") and build["hostId"]
    page = member.get(f"/servers/{server['id']}/os-instance-actions",
                      params={"limit": 1}, version="2.58").json()
    assert [a["action"] for a in page["instanceActions"]] == ["delete"]
    assert "updated_at" in page["instanceActions"][0]
    rest = member.get(f"/servers/{server['id']}/os-instance-actions",
                      params={"marker": page["instanceActions"][0]["request_id"]},
                      version="2.58").json()
    assert [a["action"] for a in rest["instanceActions"]] == ["create"]


def test_instance_actions_other_project(member: Nova, make_user: Any, image_id: str) -> None:
    server = boot(member, image_id)
    other = make_user("member")
    fault(other.get(f"/servers/{server['id']}/os-instance-actions"), 404, "itemNotFound")
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])


def test_external_events(admin_nova: Nova, member: Nova, image_id: str) -> None:
    server = boot(member, image_id)
    missing = str(uuid.uuid4())
    events = [{"name": "network-vif-plugged", "server_uuid": server["id"], "tag": "port-1"},
              {"name": "network-changed", "server_uuid": missing}]
    r = admin_nova.post("/os-server-external-events", {"events": events})
    assert r.status_code == 207, r.text
    codes = {e["server_uuid"]: e["code"] for e in r.json()["events"]}
    assert codes == {server["id"]: 200, missing: 404}
    r = admin_nova.post("/os-server-external-events", {"events": events[1:]})
    fault(r, 404, "itemNotFound")
    fault(admin_nova.post("/os-server-external-events", {"events": [
        {"name": "bogus", "server_uuid": server["id"]}]}), 400, "badRequest")
    fault(member.post("/os-server-external-events", {"events": events[:1]}), 403, "forbidden")
    action = member.get(f"/servers/{server['id']}/os-instance-actions").json()[
        "instanceActions"][0]
    shown = admin_nova.get(f"/servers/{server['id']}/os-instance-actions/"
                           f"{action['request_id']}").json()["instanceAction"]
    assert "compute_external_instance_event_network-vif-plugged" in {
        e["event"] for e in shown["events"]}
    member.delete(f"/servers/{server['id']}")
    wait_gone(member, server["id"])


def test_keypair_and_server_group_on_boot(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    key = conn.compute.create_keypair(name=f"k-{uuid.uuid4().hex[:6]}")
    group = conn.compute.create_server_group(name="g", policy="anti-affinity")
    first = conn.compute.create_server(name="g1", image_id=image_id, flavor_id="1",
                                       networks="none", key_name=key.name,
                                       scheduler_hints={"group": group.id})
    first = conn.compute.wait_for_server(first, wait=30)
    second = conn.compute.create_server(name="g2", image_id=image_id, flavor_id="1",
                                        networks="none", scheduler_hints={"group": group.id})
    second = conn.compute.wait_for_server(second, wait=30)
    assert first.key_name == key.name
    assert {first.compute_host, second.compute_host} == {"fake-host-1", "fake-host-2"}
    third = conn.compute.create_server(name="g3", image_id=image_id, flavor_id="1",
                                       networks="none", scheduler_hints={"group": group.id})
    third = conn.compute.wait_for_server(third, status="ERROR", wait=30)
    assert "No valid host" in third.fault["message"]
    members = set(conn.compute.get_server_group(group.id).member_ids)
    assert {first.id, second.id} <= members
    for s in (first, second, third):
        conn.compute.delete_server(s)
    for s in (first, second, third):
        conn.compute.wait_for_delete(s, wait=30)
    assert conn.compute.get_server_group(group.id).member_ids == []
    conn.compute.delete_server_group(group)
    conn.compute.delete_keypair(key)


def test_ip_filters_match_no_server_without_addresses(member: Nova,
                                                      three: list[dict[str, Any]]) -> None:
    assert names(member.get("/servers", params={"ip": "10\\."})) == []
    assert names(member.get("/servers", params={"ip6": "::"}, version="2.5")) == []
    assert len(names(member.get("/servers", params={"name": "a"}))) == 3
