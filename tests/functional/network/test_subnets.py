"""Subnets through openstacksdk, the `openstack` CLI and raw HTTP: defaults and given
gateways and pools, DNS servers and host routes, IPv6 modes, overlap and bad input
(nothing half-made), who sees and changes whose subnets, tags, filters, If-Match,
service types and segments, deletion while ports use the subnet, IP availability."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique


def network(user: Neutron, **attrs: Any) -> dict[str, Any]:
    r = user.post("/networks", {"network": {"name": unique("net"), **attrs}})
    assert r.status_code == 201, r.text
    return dict(r.json()["network"])


def subnet(user: Neutron, network_id: str, cidr: str, **attrs: Any) -> dict[str, Any]:
    body = {"network_id": network_id, "cidr": cidr,
            "ip_version": 6 if ":" in cidr else 4, **attrs}
    r = user.post("/subnets", {"subnet": body})
    assert r.status_code == 201, r.text
    return dict(r.json()["subnet"])


def count(user: Neutron, network_id: str) -> int:
    return len(user.get("/subnets", params={"network_id": network_id}).json()["subnets"])


def test_sdk_create_show_update_delete(make_user: Any) -> None:
    user = make_user()
    conn = user.conn
    net = conn.network.create_network(name=unique("net"))
    sub = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.1.0.0/24",
                                     name="first", description="d1",
                                     dns_publish_fixed_ip=True)
    assert sub.dns_publish_fixed_ip is True
    assert sub.project_id == user.project_id and sub.network_id == net.id
    assert sub.gateway_ip == "10.1.0.1" and sub.is_dhcp_enabled is True
    assert sub.allocation_pools == [{"start": "10.1.0.2", "end": "10.1.0.254"}]
    assert sub.dns_nameservers == [] and sub.host_routes == [] and sub.revision_number == 0
    assert sub.subnet_pool_id is None and sub.ipv6_ra_mode is None
    raw = user.get(f"/subnets/{sub.id}").json()["subnet"]
    assert raw["created_at"].endswith("Z") and raw["tenant_id"] == user.project_id
    assert raw["router:external"] is False and raw["service_types"] == []
    assert "segment_id" not in raw                       # an admin-only attribute
    shown = conn.network.get_network(net.id)
    assert shown.subnet_ids == [sub.id] and shown.revision_number >= 1
    updated = conn.network.update_subnet(
        sub, name="renamed", dns_nameservers=["8.8.8.8", "1.1.1.1"],
        host_routes=[{"destination": "10.20.0.0/16", "nexthop": "10.1.0.5"}],
        gateway_ip="10.1.0.254", allocation_pools=[{"start": "10.1.0.2", "end": "10.1.0.200"}],
        enable_dhcp=False)
    assert updated.name == "renamed" and updated.revision_number == 1
    assert updated.dns_nameservers == ["8.8.8.8", "1.1.1.1"]          # order kept
    assert updated.host_routes == [{"destination": "10.20.0.0/16", "nexthop": "10.1.0.5"}]
    assert updated.gateway_ip == "10.1.0.254" and updated.is_dhcp_enabled is False
    assert updated.allocation_pools == [{"start": "10.1.0.2", "end": "10.1.0.200"}]
    assert conn.network.get_subnet(sub.id).description == "d1"
    conn.network.delete_subnet(sub.id)
    assert conn.network.find_subnet(sub.id) is None
    assert conn.network.get_network(net.id).subnet_ids == []
    conn.network.delete_network(net.id)


def test_cli_create_list_show_set_delete(cloud: Cloud) -> None:
    net = cloud.cli_json("network", "create", unique("cli-net"))
    name = unique("cli-sub")
    made = cloud.cli_json("subnet", "create", name, "--network", net["id"],
                          "--subnet-range", "192.168.50.0/24", "--dns-nameserver", "9.9.9.9",
                          "--allocation-pool", "start=192.168.50.10,end=192.168.50.20")
    try:
        assert made["cidr"] == "192.168.50.0/24" and made["gateway_ip"] == "192.168.50.1"
        assert made["dns_nameservers"] == ["9.9.9.9"]
        listed = cloud.cli_json("subnet", "list", "--network", net["id"])
        assert [s["ID"] for s in listed] == [made["id"]]
        cloud.cli("subnet", "set", made["id"], "--gateway", "none", "--name", "cli-renamed")
        shown = cloud.cli_json("subnet", "show", made["id"])
        assert shown["gateway_ip"] is None and shown["name"] == "cli-renamed"
        assert shown["allocation_pools"] == [{"start": "192.168.50.10",
                                              "end": "192.168.50.20"}]
        cloud.cli("subnet", "delete", made["id"])
        assert cloud.cli_json("subnet", "list", "--network", net["id"]) == []
    finally:
        cloud.cli("network", "delete", net["id"])


def test_gateways_and_pools(make_user: Any) -> None:
    user = make_user()
    net = network(user)
    none = subnet(user, net["id"], "10.2.0.0/28", gateway_ip=None)
    assert none["gateway_ip"] is None
    assert none["allocation_pools"] == [{"start": "10.2.0.1", "end": "10.2.0.14"}]
    mid = subnet(user, net["id"], "10.2.1.0/28", gateway_ip="10.2.1.7")
    assert mid["allocation_pools"] == [{"start": "10.2.1.1", "end": "10.2.1.6"},
                                       {"start": "10.2.1.8", "end": "10.2.1.14"}]
    given = subnet(user, net["id"], "10.2.2.0/24", allocation_pools=[
        {"start": "10.2.2.100", "end": "10.2.2.110"}, {"start": "10.2.2.20", "end": "10.2.2.30"}])
    assert given["gateway_ip"] == "10.2.2.1"
    assert {p["start"] for p in given["allocation_pools"]} == {"10.2.2.100", "10.2.2.20"}
    before = count(user, net["id"])

    def refused(status: int, kind: str, **attrs: Any) -> str:
        body = {"network_id": net["id"], "ip_version": 4, "cidr": "10.2.9.0/24", **attrs}
        return error(user.post("/subnets", {"subnet": body}), status, kind)

    # a gateway outside the subnet is refused (Neutron would store it)
    msg = refused(400, "InvalidInput", gateway_ip="10.3.0.1")
    assert "outside the subnet 10.2.9.0/24" in msg
    refused(400, "InvalidInput", gateway_ip="10.2.9.255")             # broadcast
    refused(400, "HTTPBadRequest", gateway_ip="10.2.9.x")
    refused(409, "GatewayConflictWithAllocationPools", gateway_ip="10.2.9.5",
            allocation_pools=[{"start": "10.2.9.2", "end": "10.2.9.10"}])
    refused(400, "OutOfBoundsAllocationPool",
            allocation_pools=[{"start": "10.2.9.200", "end": "10.2.10.5"}])
    refused(409, "OverlappingAllocationPools", allocation_pools=[
        {"start": "10.2.9.10", "end": "10.2.9.20"}, {"start": "10.2.9.15", "end": "10.2.9.30"}])
    refused(400, "InvalidAllocationPool",
            allocation_pools=[{"start": "10.2.9.20", "end": "10.2.9.10"}])
    refused(400, "HTTPBadRequest", allocation_pools=[{"start": "10.2.9.20"}])
    refused(400, "InvalidInput", gateway_ip="2001:db8::1")
    assert count(user, net["id"]) == before
    # updates: the gateway must stay out of the pools and off other ports' addresses
    path = f"/subnets/{given['id']}"
    error(user.put(path, {"subnet": {"gateway_ip": "10.2.2.105"}}), 409,
          "GatewayConflictWithAllocationPools")
    error(user.put(path, {"subnet": {"allocation_pools": [
        {"start": "10.2.2.1", "end": "10.2.2.9"}]}}), 409, "GatewayConflictWithAllocationPools")
    error(user.put(path, {"subnet": {"gateway_ip": "10.9.9.9"}}), 400, "InvalidInput")
    error(user.put(path, {"subnet": {"cidr": "10.2.3.0/24"}}), 400, "HTTPBadRequest")
    error(user.put(path, {"subnet": {"ip_version": 6}}), 400, "HTTPBadRequest")
    shown = user.get(path).json()["subnet"]
    assert shown["gateway_ip"] == "10.2.2.1" and shown["revision_number"] == 0
    r = user.put(path, {"subnet": {"allocation_pools": [
        {"start": "10.2.2.50", "end": "10.2.2.60"}], "gateway_ip": "10.2.2.254"}})
    assert r.status_code == 200, r.text
    assert r.json()["subnet"]["allocation_pools"] == [{"start": "10.2.2.50",
                                                       "end": "10.2.2.60"}]


def test_dns_and_routes(make_user: Any) -> None:
    user = make_user()
    net = network(user)
    sub = subnet(user, net["id"], "10.4.0.0/24", dns_nameservers=["8.8.4.4", "8.8.8.8"],
                 host_routes=[{"destination": "10.20.0.0/32", "nexthop": "10.100.1.1"}])
    assert sub["dns_nameservers"] == ["8.8.4.4", "8.8.8.8"]
    assert sub["host_routes"] == [{"destination": "10.20.0.0/32", "nexthop": "10.100.1.1"}]
    base = {"network_id": net["id"], "ip_version": 4, "cidr": "10.4.1.0/24"}
    for bad in ({"dns_nameservers": ["8.8.8.8", "8.8.8.8"]},
                {"dns_nameservers": ["not-an-ip"]},
                {"dns_nameservers": ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5",
                                    "1.1.1.6"]},
                {"dns_nameservers": ["2001:db8::53"]},
                {"host_routes": [{"destination": "10.0.0.0/33", "nexthop": "10.4.1.1"}]},
                {"host_routes": [{"destination": "10.0.0.0/8"}]}):
        error(user.post("/subnets", {"subnet": {**base, **bad}}), 400)
    assert count(user, net["id"]) == 1
    r = user.put(f"/subnets/{sub['id']}", {"subnet": {"dns_nameservers": [],
                                                      "host_routes": None}})
    assert r.json()["subnet"]["dns_nameservers"] == []
    assert r.json()["subnet"]["host_routes"] == []


def test_ipv6_modes(make_user: Any) -> None:
    user = make_user()
    net = network(user)
    slaac = subnet(user, net["id"], "2001:db8:1::/64", ipv6_ra_mode="slaac",
                   ipv6_address_mode="slaac")
    assert slaac["gateway_ip"] == "2001:db8:1::"          # the subnet-router anycast address
    assert slaac["allocation_pools"] == [{"start": "2001:db8:1::1",
                                          "end": "2001:db8:1:0:ffff:ffff:ffff:ffff"}]
    stateful = subnet(user, net["id"], "2001:db8:2::/64", gateway_ip="2001:db8:2::1",
                      ipv6_ra_mode="dhcpv6-stateful", ipv6_address_mode="dhcpv6-stateful")
    assert stateful["ipv6_address_mode"] == "dhcpv6-stateful"
    stateless = subnet(user, net["id"], "2001:db8:3::/64",
                       ipv6_address_mode="dhcpv6-stateless")
    assert stateless["ipv6_ra_mode"] is None
    before = count(user, net["id"])
    base = {"network_id": net["id"], "ip_version": 6, "cidr": "2001:db8:9::/64"}
    for bad in ({"ipv6_ra_mode": "slaac", "ipv6_address_mode": "dhcpv6-stateful"},
                {"ipv6_ra_mode": "slaac", "enable_dhcp": False},
                {"ipv6_address_mode": "bogus"},
                {"ipv6_address_mode": "slaac", "cidr": "2001:db8:9::/80"},
                {"cidr": "10.0.0.0/24"}):
        error(user.post("/subnets", {"subnet": {**base, **bad}}), 400)
    error(user.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                            "cidr": "10.0.0.0/24", "ipv6_ra_mode": "slaac"}}),
          400, "InvalidInput")
    assert count(user, net["id"]) == before
    error(user.put(f"/subnets/{slaac['id']}", {"subnet": {"enable_dhcp": False}}), 400,
          "InvalidInput")
    error(user.put(f"/subnets/{slaac['id']}", {"subnet": {"ipv6_ra_mode": "dhcpv6-stateful"}}),
          400)


def test_overlap_and_bad_input(make_user: Any) -> None:
    user = make_user()
    net, other = network(user), network(user)
    first = subnet(user, net["id"], "10.5.0.0/16")
    assert subnet(user, other["id"], "10.5.0.0/24")["cidr"] == "10.5.0.0/24"  # another network
    msg = error(user.post("/subnets", {"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.5.3.0/24"}}), 400, "InvalidInput")
    assert msg == (f"Invalid input for operation: Requested subnet with cidr: 10.5.3.0/24 for "
                   f"network: {net['id']} overlaps with another subnet.")
    base = {"network_id": net["id"], "ip_version": 4}
    for bad in ({"cidr": "10.6.0.0/33"}, {"cidr": "banana"}, {"cidr": "10.6.0.0/255.255.0.0"},
                {"cidr": "10.6.0.0/31"}, {"cidr": "0.0.0.0/0", "enable_dhcp": False},
                {"cidr": "224.0.0.0/24"}, {"ip_version": 5, "cidr": "10.6.0.0/24"},
                {}, {"cidr": "10.6.0.0/24", "prefixlen": 24},
                {"cidr": "10.6.0.0/24", "colour": "blue"},
                {"cidr": "10.6.0.0/24", "enable_dhcp": "sometimes"},
                {"cidr": "10.6.0.0/24", "service_types": ["bogus:owner"]}):
        error(user.post("/subnets", {"subnet": {**base, **bad}}), 400)
    error(user.post("/subnets", {"subnet": {"ip_version": 4, "cidr": "10.6.0.0/24"}}), 400)
    error(user.post("/subnets", {"subnet": {**base, "network_id": "nope",
                                            "cidr": "10.6.0.0/24"}}), 400)
    error(user.post("/subnets", {"subnet": {**base, "cidr": "10.6.0.0/24", "network_id":
                                            "00000000-0000-0000-0000-000000000000"}}),
          404, "NetworkNotFound")
    assert [s["id"] for s in user.get("/subnets", params={"network_id": net["id"]})
            .json()["subnets"]] == [first["id"]]
    # host bits are cleared, as Neutron stores the network
    assert subnet(user, net["id"], "10.7.0.9/24")["cidr"] == "10.7.0.0/24"
    error(user.get("/subnets/00000000-0000-0000-0000-000000000000"), 404, "SubnetNotFound")


def test_isolation_and_sharing(make_user: Any, admin_neutron: Neutron) -> None:
    alice, bob = make_user(), make_user()
    net = network(alice)
    sub = subnet(alice, net["id"], "10.8.0.0/24")
    error(bob.get(f"/subnets/{sub['id']}"), 404, "SubnetNotFound")
    error(bob.put(f"/subnets/{sub['id']}", {"subnet": {"name": "x"}}), 404)
    error(bob.delete(f"/subnets/{sub['id']}"), 404)
    assert sub["id"] not in {s["id"] for s in bob.get("/subnets").json()["subnets"]}
    body = {"network_id": net["id"], "ip_version": 4, "cidr": "10.8.1.0/24"}
    error(bob.post("/subnets", {"subnet": body}), 404, "NetworkNotFound")
    # not for another project, not admin-only attributes
    error(alice.post("/subnets", {"subnet": {**body, "project_id": bob.project_id}}), 400)
    error(alice.post("/subnets", {"subnet": {**body, "service_types": ["compute:nova"]}}), 403)
    # shared: bob sees the subnets, and may neither add nor change them
    assert admin_neutron.put(f"/networks/{net['id']}",
                             {"network": {"shared": True}}).status_code == 200
    assert bob.get(f"/subnets/{sub['id']}").json()["subnet"]["cidr"] == "10.8.0.0/24"
    assert sub["id"] in {s["id"] for s in bob.get("/subnets", params={"shared": "true"})
                         .json()["subnets"]}
    error(bob.post("/subnets", {"subnet": body}), 403)
    error(bob.put(f"/subnets/{sub['id']}", {"subnet": {"name": "mine"}}), 403)
    error(bob.delete(f"/subnets/{sub['id']}"), 403)
    # a reader of alice's project sees, and cannot create or delete
    reader = make_user("reader", project_id=alice.project_id)
    assert reader.get(f"/subnets/{sub['id']}").status_code == 200
    error(reader.post("/subnets", {"subnet": body}), 403)
    error(reader.delete(f"/subnets/{sub['id']}"), 403)
    # the admin may add a subnet to alice's network, for alice
    r = admin_neutron.post("/subnets", {"subnet": {**body, "project_id": alice.project_id}})
    assert r.status_code == 201, r.text
    assert alice.get(f"/subnets/{r.json()['subnet']['id']}").status_code == 200


def test_external_network_subnets_visible(make_user: Any, admin_neutron: Neutron) -> None:
    ext = network(admin_neutron, **{"router:external": True})
    sub = subnet(admin_neutron, ext["id"], "172.31.0.0/24")
    try:
        user = make_user()
        seen = user.get("/subnets", params={"network_id": ext["id"]}).json()["subnets"]
        assert [s["id"] for s in seen] == [sub["id"]] and seen[0]["router:external"] is True
        error(user.put(f"/subnets/{sub['id']}", {"subnet": {"name": "x"}}), 403)
        external = user.get("/subnets", params={"router:external": "true"}).json()["subnets"]
        assert sub["id"] in {s["id"] for s in external}
    finally:
        assert admin_neutron.delete(f"/networks/{ext['id']}").status_code == 204


def test_tags_filters_pages_if_match(make_user: Any) -> None:
    user = make_user()
    net = network(user)
    made = [subnet(user, net["id"], f"10.9.{i}.0/24", name=f"s{i}", tags=["t", f"n{i}"],
                   enable_dhcp=i % 2 == 0) for i in range(4)]
    assert made[0]["tags"] == ["n0", "t"]
    six = subnet(user, net["id"], "2001:db8:9::/64", name="s6")
    listed = user.get("/subnets", params={"network_id": net["id"], "ip_version": 6})
    assert [s["id"] for s in listed.json()["subnets"]] == [six["id"]]
    off = user.get("/subnets", params={"network_id": net["id"], "enable_dhcp": "false",
                                       "fields": ["id", "name"]}).json()["subnets"]
    assert sorted(s["name"] for s in off) == ["s1", "s3"] and set(off[0]) == {"id", "name"}
    assert [s["name"] for s in user.get("/subnets", params={
        "tags": "n2,t"}).json()["subnets"]] == ["s2"]
    by_cidr = user.get("/subnets", params={"cidr": "10.9.3.0/24"}).json()["subnets"]
    assert [s["id"] for s in by_cidr] == [made[3]["id"]]
    ordered = user.get("/subnets", params={"network_id": net["id"], "sort_key": "name",
                                           "sort_dir": "desc", "limit": 2}).json()
    assert [s["name"] for s in ordered["subnets"]] == ["s6", "s3"]
    assert any(link["rel"] == "next" for link in ordered["subnets_links"])
    assert len(list(user.conn.network.subnets(network_id=net["id"], limit=2))) == 5
    path = f"/subnets/{made[0]['id']}"
    assert user.put(f"{path}/tags/extra", None).status_code == 201
    assert user.get(f"{path}/tags").json()["tags"] == ["extra", "n0", "t"]
    stale = user.get(path).json()["subnet"]["revision_number"]
    assert user.put(path, {"subnet": {"name": "a"}},
                    headers={"If-Match": f"revision_number={stale}"}).status_code == 200
    error(user.put(path, {"subnet": {"name": "b"}},
                   headers={"If-Match": f"revision_number={stale}"}), 412,
          "RevisionNumberConstraintFailed")
    error(user.get("/subnets", params={"no_such": "x"}), 400)


def test_service_types_and_segments(cloud: Cloud, admin_neutron: Neutron) -> None:
    admin = admin_neutron
    net = network(admin)
    try:
        sub = subnet(admin, net["id"], "10.10.0.0/24",
                     service_types=["network:floatingip", "compute:nova"])
        assert sub["service_types"] == ["network:floatingip", "compute:nova"]
        r = admin.put(f"/subnets/{sub['id']}", {"subnet": {"service_types": []}})
        assert r.json()["subnet"]["service_types"] == []
        error(admin.put(f"/subnets/{sub['id']}", {"subnet": {"service_types": [5]}}), 400,
              "InvalidInputSubnetServiceType")
        [(segment,)] = cloud.sql("SELECT id FROM network_segments WHERE network_id = :n",
                                 n=net["id"])
        assert sub["segment_id"] is None
        r = admin.put(f"/subnets/{sub['id']}", {"subnet": {"segment_id": segment}})
        assert r.status_code == 200 and r.json()["subnet"]["segment_id"] == segment
        error(admin.put(f"/subnets/{sub['id']}", {"subnet": {"segment_id": None}}), 400,
              "SubnetSegmentAssociationChangeNotAllowed")
        body = {"network_id": net["id"], "ip_version": 4, "cidr": "10.10.1.0/24"}
        error(admin.post("/subnets", {"subnet": body}), 400,
              "SubnetsNotAllAssociatedWithSegments")
        on_segment = subnet(admin, net["id"], "10.10.2.0/24", segment_id=segment)
        assert on_segment["segment_id"] == segment
        error(admin.post("/subnets", {"subnet": {**body, "segment_id": segment[:-4] + "0000"}}),
              404, "SegmentNotFound")
    finally:
        assert admin.delete(f"/networks/{net['id']}").status_code == 204


def test_network_ip_availability(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    net = network(user)
    v4 = subnet(user, net["id"], "10.11.0.0/24")
    subnet(user, net["id"], "10.11.1.0/28", allocation_pools=[
        {"start": "10.11.1.2", "end": "10.11.1.5"}])
    subnet(user, net["id"], "2001:db8:11::/120")
    shown = admin_neutron.get(f"/network-ip-availabilities/{net['id']}").json()
    found = shown["network_ip_availability"]
    assert found["network_id"] == net["id"] and found["project_id"] == user.project_id
    totals = {s["cidr"]: (s["total_ips"], s["used_ips"])
              for s in found["subnet_ip_availability"]}
    assert totals == {"10.11.0.0/24": (253, 0), "10.11.1.0/28": (4, 0),
                      "2001:db8:11::/120": (255, 0)}
    assert found["total_ips"] == 253 + 4 + 255 and found["used_ips"] == 0
    listed = admin_neutron.get("/network-ip-availabilities",
                               params={"network_id": net["id"], "ip_version": 4}).json()
    [only] = listed["network_ip_availabilities"]
    assert {s["subnet_id"] for s in only["subnet_ip_availability"]} >= {v4["id"]}
    assert len(only["subnet_ip_availability"]) == 2
    error(user.get(f"/network-ip-availabilities/{net['id']}"), 403)
    error(admin_neutron.get("/network-ip-availabilities/00000000-0000-0000-0000-000000000000"),
          404, "NetworkNotFound")
    sdk = admin_neutron.conn.network.get_network_ip_availability(net["id"])
    assert sdk.total_ips == 512


def test_network_delete_takes_its_subnets(make_user: Any, cloud: Cloud) -> None:
    user = make_user()
    net = network(user)
    sub = subnet(user, net["id"], "10.12.0.0/24", tags=["gone"])
    assert user.delete(f"/networks/{net['id']}").status_code == 204
    error(user.get(f"/subnets/{sub['id']}"), 404, "SubnetNotFound")
    assert cloud.sql("SELECT count(*) FROM network_tags WHERE resource_id = :i",
                     i=sub["id"]) == [(0,)]


def test_ports_keep_a_subnet(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    net = network(user)
    sub = subnet(user, net["id"], "10.13.0.0/24",
                 allocation_pools=[{"start": "10.13.0.100", "end": "10.13.0.200"}])
    r = user.post("/ports", {"port": {"network_id": net["id"],
                                      "fixed_ips": [{"ip_address": "10.13.0.20"}]}})
    assert r.status_code == 201, r.text
    port = r.json()["port"]
    msg = error(user.delete(f"/subnets/{sub['id']}"), 409, "SubnetInUse")
    assert msg == (f"Unable to complete operation on subnet {sub['id']}: One or more ports "
                   "have an IP allocation from this subnet.")
    # the gateway cannot move onto a port's address
    error(user.put(f"/subnets/{sub['id']}", {"subnet": {"gateway_ip": "10.13.0.20"}}), 409,
          "IpAddressInUse")
    found = admin_neutron.get(f"/network-ip-availabilities/{net['id']}").json()
    assert found["network_ip_availability"]["used_ips"] == 1
    # a DHCP port does not keep it: it loses its address with the subnet
    r = admin_neutron.post("/ports", {"port": {"network_id": net["id"],
                                               "device_owner": "network:dhcp",
                                               "project_id": user.project_id}})
    assert r.status_code == 201, r.text
    dhcp = r.json()["port"]
    assert user.delete(f"/ports/{port['id']}").status_code == 204
    assert user.delete(f"/subnets/{sub['id']}").status_code == 204
    after = admin_neutron.get(f"/ports/{dhcp['id']}").json()["port"]
    assert after["fixed_ips"] == [] and after["revision_number"] > dhcp["revision_number"]


def test_slaac_subnet_gives_ports_their_addresses(make_user: Any) -> None:
    user = make_user()
    net = network(user)
    subnet(user, net["id"], "10.14.0.0/24")
    r = user.post("/ports", {"port": {"network_id": net["id"]}})
    assert r.status_code == 201, r.text
    port = r.json()["port"]
    slaac = subnet(user, net["id"], "2001:db8:14::/64", ipv6_ra_mode="slaac",
                   ipv6_address_mode="slaac")
    mac = port["mac_address"].split(":")
    eui = (f"2001:db8:14:0:{int(mac[0], 16) ^ 2:x}{mac[1]}:{mac[2]}ff:fe{mac[3]}:"
           f"{mac[4]}{mac[5]}")
    shown = user.get(f"/ports/{port['id']}").json()["port"]
    v6 = [ip for ip in shown["fixed_ips"] if ip["subnet_id"] == slaac["id"]]
    assert [ip["ip_address"] for ip in v6] == [str(ipaddress.ip_address(eui))]
    assert shown["revision_number"] > port["revision_number"]
    # an auto-address subnet goes even while ports hold addresses on it
    assert user.delete(f"/subnets/{slaac['id']}").status_code == 204
    shown = user.get(f"/ports/{port['id']}").json()["port"]
    assert [ip["subnet_id"] for ip in shown["fixed_ips"]] != [slaac["id"]]
    assert len(shown["fixed_ips"]) == 1


def test_router_interface_keeps_gateway_and_subnet(make_user: Any) -> None:
    user = make_user()
    net = network(user)
    sub = subnet(user, net["id"], "10.15.0.0/24",
                 allocation_pools=[{"start": "10.15.0.2", "end": "10.15.0.200"}])
    r = user.post("/routers", {"router": {"name": unique("router")}})
    assert r.status_code == 201, r.text
    router = r.json()["router"]
    r = user.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    assert r.status_code == 200, r.text
    error(user.put(f"/subnets/{sub['id']}", {"subnet": {"gateway_ip": "10.15.0.254"}}), 409,
          "GatewayIpInUse")
    error(user.delete(f"/subnets/{sub['id']}"), 409, "SubnetInUse")
    r = user.put(f"/routers/{router['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    assert r.status_code == 200, r.text
    r = user.put(f"/subnets/{sub['id']}", {"subnet": {"gateway_ip": "10.15.0.254"}})
    assert r.status_code == 200 and r.json()["subnet"]["gateway_ip"] == "10.15.0.254"
    assert user.delete(f"/routers/{router['id']}").status_code == 204


def test_subnet_quota(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    r = admin_neutron.put(f"/quotas/{user.project_id}", {"quota": {"subnet": 2}})
    assert r.status_code == 200, r.text
    net = network(user)
    first = subnet(user, net["id"], "10.16.0.0/24")
    subnet(user, net["id"], "10.16.1.0/24")
    body = {"network_id": net["id"], "ip_version": 4, "cidr": "10.16.2.0/24"}
    error(user.post("/subnets", {"subnet": body}), 409, "OverQuota")
    assert count(user, net["id"]) == 2
    assert user.delete(f"/subnets/{first['id']}").status_code == 204
    assert user.post("/subnets", {"subnet": body}).status_code == 201


def test_bulk_create_all_or_none(make_user: Any) -> None:
    user = make_user()
    net, other = network(user), network(user)
    bodies = [{"network_id": net["id"], "ip_version": 4, "cidr": "10.17.0.0/24", "name": "a"},
              {"network_id": other["id"], "ip_version": 6, "cidr": "2001:db8:17::/64"}]
    r = user.post("/subnets", {"subnets": bodies})
    assert r.status_code == 201, r.text
    made = r.json()["subnets"]
    assert [s["cidr"] for s in made] == ["10.17.0.0/24", "2001:db8:17::/64"]
    assert made[0]["name"] == "a" and made[1]["name"] == ""
    # the second overlaps the first: neither is made
    again = [{"network_id": net["id"], "ip_version": 4, "cidr": "10.17.1.0/24"},
             {"network_id": net["id"], "ip_version": 4, "cidr": "10.17.1.128/25"}]
    error(user.post("/subnets", {"subnets": again}), 400, "InvalidInput")
    assert count(user, net["id"]) == 1
    error(user.post("/subnets", {"subnets": []}), 400)
    error(user.post("/subnets", {"subnets": [again[0], "x"]}), 400)
    assert count(user, net["id"]) == 1
