"""Networks through openstacksdk, the `openstack` CLI and raw HTTP: create with
the standard attributes, list with filters, sorting and pages, update with
If-Match, tags, sharing and isolation between projects, bad input."""

from __future__ import annotations

from typing import Any

import requests

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique


def test_version_and_extension_documents(cloud: Cloud, admin_neutron: Neutron) -> None:
    root = requests.get(f"{cloud.url}/network/", timeout=10).json()
    assert root["versions"][0]["id"] == "v2.0"
    aliases = {e["alias"] for e in admin_neutron.get("/extensions").json()["extensions"]}
    assert {"standard-attr-tag", "pagination", "sorting", "external-net"} <= aliases
    assert admin_neutron.get("/extensions/external-net").json()["extension"]["alias"] \
        == "external-net"
    error(admin_neutron.get("/extensions/no-such"), 404)


def test_sdk_create_show_update_delete(make_user: Any) -> None:
    user = make_user()
    conn = user.conn
    net = conn.network.create_network(name=unique("net"), description="first")
    try:
        assert net.project_id == user.project_id
        assert net.status == "ACTIVE" and net.is_admin_state_up is True
        assert net.mtu == 1450                        # vxlan over a 1500 underlay
        assert net.subnet_ids == [] and net.is_shared is False
        assert net.is_router_external is False and net.revision_number == 0
        # provider attributes are for admins only
        raw = user.get(f"/networks/{net.id}").json()["network"]
        assert "provider:network_type" not in raw
        assert raw["created_at"].endswith("Z") and raw["tenant_id"] == user.project_id
        updated = conn.network.update_network(net, name="renamed", mtu=1400)
        assert updated.name == "renamed" and updated.mtu == 1400
        assert updated.revision_number == 1
        assert conn.network.get_network(net.id).description == "first"
    finally:
        conn.network.delete_network(net.id)
    assert conn.network.find_network(net.id) is None


def test_admin_sees_provider_attributes(admin_conn: Any) -> None:
    net = admin_conn.network.create_network(name=unique("net"))
    try:
        assert net.provider_network_type == "vxlan"
        assert 1 <= net.provider_segmentation_id <= 65535
        other = admin_conn.network.create_network(name=unique("net"))
        assert other.provider_segmentation_id != net.provider_segmentation_id
        admin_conn.network.delete_network(other)
    finally:
        admin_conn.network.delete_network(net)


def test_cli_create_list_show_delete(cloud: Cloud) -> None:
    name = unique("cli-net")
    made = cloud.cli_json("network", "create", name, "--description", "from the CLI")
    try:
        assert made["name"] == name and made["description"] == "from the CLI"
        listed = cloud.cli_json("network", "list", "--name", name)
        assert [n["ID"] for n in listed] == [made["id"]]
        shown = cloud.cli_json("network", "show", made["id"])
        assert shown["mtu"] == 1450 and shown["status"] == "ACTIVE"
    finally:
        cloud.cli("network", "delete", made["id"])
    assert cloud.cli_json("network", "list", "--name", name) == []


def test_filters_sort_and_pages(make_user: Any) -> None:
    user = make_user()
    tag = unique("page")
    ids = []
    for i in range(5):
        r = user.post("/networks", {"network": {"name": f"{tag}-{i}",
                                                "admin_state_up": i % 2 == 0}})
        assert r.status_code == 201, r.text
        ids.append(r.json()["network"]["id"])
    by_name = user.get("/networks", params={"sort_key": "name", "sort_dir": "desc",
                                            "fields": ["id", "name"]}).json()["networks"]
    mine = [n for n in by_name if n["name"].startswith(tag)]
    assert [n["name"] for n in mine] == [f"{tag}-{i}" for i in range(4, -1, -1)]
    assert set(mine[0]) == {"id", "name"}
    # (external networks other tests made are visible to everyone: look at this project's)
    mine_only = {"project_id": user.project_id}
    down = user.get("/networks", params={"admin_state_up": "False", **mine_only}
                    ).json()["networks"]
    assert {n["name"] for n in down} == {f"{tag}-1", f"{tag}-3"}
    either = user.get("/networks", params=[("name", f"{tag}-0"), ("name", f"{tag}-4")])
    assert {n["name"] for n in either.json()["networks"]} == {f"{tag}-0", f"{tag}-4"}
    # pages of two, following the next links
    seen: list[str] = []
    page = user.get("/networks", params={"limit": 2, "sort_key": "name", **mine_only}).json()
    while True:
        seen += [n["name"] for n in page["networks"]]
        nxt = [link["href"] for link in page.get("networks_links", []) if link["rel"] == "next"]
        if not nxt:
            break
        page = requests.get(nxt[0], headers={"X-Auth-Token": user.token}, timeout=10).json()
    assert seen == sorted(seen) and sorted(seen) == sorted(f"{tag}-{i}" for i in range(5))
    # the SDK pages the same way
    assert len(list(user.conn.network.networks(limit=2, project_id=user.project_id))) == 5
    error(user.get("/networks", params={"no_such_attribute": "x"}), 400)
    error(user.get("/networks", params={"sort_key": "nope"}), 400)
    error(user.get("/networks", params={"admin_state_up": "maybe"}), 400)


def test_if_match_revision(make_user: Any) -> None:
    user = make_user()
    net = user.post("/networks", {"network": {"name": unique("net")}}).json()["network"]
    r = user.put(f"/networks/{net['id']}", {"network": {"name": "a"}},
                 headers={"If-Match": "revision_number=0"})
    assert r.status_code == 200 and r.json()["network"]["revision_number"] == 1
    stale = user.put(f"/networks/{net['id']}", {"network": {"name": "b"}},
                     headers={"If-Match": "revision_number=0"})
    error(stale, 412, "RevisionNumberConstraintFailed")
    assert user.get(f"/networks/{net['id']}").json()["network"]["name"] == "a"
    error(user.delete(f"/networks/{net['id']}", headers={"If-Match": "revision_number=0"}),
          412)
    assert user.delete(f"/networks/{net['id']}",
                       headers={"If-Match": "revision_number=1"}).status_code == 204


def test_tags(make_user: Any) -> None:
    user = make_user()
    net = user.post("/networks", {"network": {"name": unique("net"), "tags": ["b", "a"]}}
                    ).json()["network"]
    assert net["tags"] == ["a", "b"]
    path = f"/networks/{net['id']}/tags"
    assert user.put(f"{path}/c", None).status_code == 201
    assert user.get(path).json()["tags"] == ["a", "b", "c"]
    assert user.get(f"{path}/c").status_code == 204
    error(user.get(f"{path}/zzz"), 404)
    assert user.put(path, {"tags": ["x", "y"]}).json()["tags"] == ["x", "y"]
    found = user.get("/networks", params={"tags": "x,y"}).json()["networks"]
    assert [n["id"] for n in found] == [net["id"]]
    assert user.get("/networks", params={"not-tags-any": "x", "project_id": user.project_id}
                    ).json()["networks"] == []
    assert user.delete(f"{path}/x").status_code == 204
    assert user.delete(path).status_code == 204
    assert user.get(f"/networks/{net['id']}").json()["network"]["tags"] == []
    sdk = user.conn.network.get_network(net["id"])
    user.conn.network.set_tags(sdk, ["sdk"])
    assert user.conn.network.get_network(net["id"]).tags == ["sdk"]


def test_isolation_and_sharing(make_user: Any, admin_neutron: Neutron) -> None:
    alice, bob = make_user(), make_user()
    net = alice.post("/networks", {"network": {"name": unique("private")}}).json()["network"]
    error(bob.get(f"/networks/{net['id']}"), 404, "NetworkNotFound")
    error(bob.put(f"/networks/{net['id']}", {"network": {"name": "x"}}), 404)
    error(bob.delete(f"/networks/{net['id']}"), 404)
    assert net["id"] not in {n["id"] for n in bob.get("/networks").json()["networks"]}
    # a member can neither share nor make a network external, nor create for others
    error(alice.put(f"/networks/{net['id']}", {"network": {"shared": True}}), 403)
    error(alice.post("/networks", {"network": {"router:external": True}}), 403)
    error(alice.post("/networks", {"network": {"project_id": bob.project_id}}), 403)
    # the admin shares it: bob sees it, shared, and still cannot change it
    r = admin_neutron.put(f"/networks/{net['id']}", {"network": {"shared": True}})
    assert r.status_code == 200 and r.json()["network"]["shared"] is True
    seen = bob.get(f"/networks/{net['id']}").json()["network"]
    assert seen["shared"] is True
    error(bob.put(f"/networks/{net['id']}", {"network": {"name": "mine"}}), 403)
    shared = bob.get("/networks", params={"shared": "true"}).json()["networks"]
    assert net["id"] in {n["id"] for n in shared}
    # a reader sees but cannot create
    reader = make_user("reader", project_id=alice.project_id)
    assert reader.get(f"/networks/{net['id']}").status_code == 200
    error(reader.post("/networks", {"network": {"name": "x"}}), 403)
    error(reader.delete(f"/networks/{net['id']}"), 403)


def test_bad_input(make_user: Any) -> None:
    user = make_user()
    before = len(user.get("/networks").json()["networks"])
    error(user.post("/networks", {"network": {"name": "x", "colour": "blue"}}), 400)
    error(user.post("/networks", {"network": {"admin_state_up": "sideways"}}), 400)
    error(user.post("/networks", {"network": {"mtu": 9000}}), 400)
    error(user.post("/networks", {"network": {"mtu": "big"}}), 400)
    error(user.post("/networks", {"network": {"name": "x" * 256}}), 400)
    error(user.post("/networks", {"net": {}}), 400)
    error(user.post("/networks", ["not", "an", "object"]), 400)
    error(user.get("/networks/00000000-0000-0000-0000-000000000000"), 404, "NetworkNotFound")
    assert len(user.get("/networks").json()["networks"]) == before



def test_bulk_create_is_all_or_none(make_user: Any) -> None:
    user = make_user()
    tag = unique("bulk")
    r = user.post("/networks", {"networks": [{"name": f"{tag}-a"}, {"name": f"{tag}-b"}]})
    assert r.status_code == 201, r.text
    made = r.json()["networks"]
    assert [n["name"] for n in made] == [f"{tag}-a", f"{tag}-b"]
    assert made[0]["mtu"] == 1450
    # the second is bad: neither is made
    bad = user.post("/networks", {"networks": [{"name": f"{tag}-c"}, {"mtu": 9000}]})
    error(bad, 400)
    names = {n["name"] for n in user.get("/networks").json()["networks"]}
    assert f"{tag}-c" not in names and {f"{tag}-a", f"{tag}-b"} <= names
    error(user.post("/networks", {"networks": []}), 400)


def test_delete_takes_the_networks_own_ports_along(make_user: Any,
                                                   admin_neutron: Neutron) -> None:
    user = make_user()
    net = user.post("/networks", {"network": {"name": unique("net")}}).json()["network"]
    sub = user.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                            "cidr": "10.61.0.0/24"}})
    assert sub.status_code == 201, sub.text
    dhcp = admin_neutron.post("/ports", {"port": {
        "network_id": net["id"], "device_owner": "network:dhcp", "device_id": "dhcp-x",
        "project_id": user.project_id}})
    assert dhcp.status_code == 201, dhcp.text
    port_id = dhcp.json()["port"]["id"]
    assert user.delete(f"/networks/{net['id']}").status_code == 204
    error(admin_neutron.get(f"/ports/{port_id}"), 404)
    used = admin_neutron.get(f"/quotas/{user.project_id}/details").json()["quota"]
    assert used["port"]["used"] == 0 and used["subnet"]["used"] == 0
    assert used["network"]["used"] == 0
