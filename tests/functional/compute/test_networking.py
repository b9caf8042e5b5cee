"""Servers on networks: booting with each kind of ``networks`` entry, the ports compute
makes or takes (bound to the server's host), addresses in the views, and what
deleting the server does to its ports."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.networks import Tenant, admin_neutron, ports_of, tenant
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import server_body, wait_gone, wait_status
from tests.functional.network.neutron import Neutron

__all__ = ["admin_neutron", "tenant"]


def test_boot_on_network_makes_a_bound_port(tenant: Tenant, admin_neutron: Neutron,
                                            image_id: str) -> None:
    net = tenant.network("10.31.0.0/24")
    server = tenant.boot(image_id, [{"uuid": net["id"]}])
    assert server["status"] == "ACTIVE", server.get("fault")
    (port,) = ports_of(admin_neutron, server["id"])
    assert port["device_owner"] == "compute:nova" and port["network_id"] == net["id"]
    assert port["binding:host_id"] == admin_neutron_host(server, admin_neutron)
    assert port["status"] == "ACTIVE"
    (address,) = server["addresses"][net["name"]]
    assert address == {"version": 4, "addr": port["fixed_ips"][0]["ip_address"],
                       "OS-EXT-IPS:type": "fixed",
                       "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}
    assert ipaddress.ip_address(address["addr"]) in ipaddress.ip_network("10.31.0.0/24")
    assert server["security_groups"] == [{"name": "default"}]
    ips = tenant.nova.get(f"/servers/{server['id']}/ips").json()
    assert ips == {"addresses": {net["name"]: [{"version": 4, "addr": address["addr"]}]}}
    tenant.delete_server(server["id"])
    assert ports_of(admin_neutron, server["id"]) == []


def admin_neutron_host(server: dict[str, Any], neutron: Neutron) -> str:
    """The host a server runs on (admins see it)."""
    r = Nova(neutron.cloud, neutron.token).get(f"/servers/{server['id']}", version="2.90")
    return str(r.json()["server"]["OS-EXT-SRV-ATTR:host"])


def test_user_port_is_kept_and_unbound(tenant: Tenant, admin_neutron: Neutron,
                                       image_id: str) -> None:
    net = tenant.network("10.32.0.0/24")
    mine = tenant.port(net["id"], name="mine")
    server = tenant.boot(image_id, [{"port": mine["id"]}])
    assert server["status"] == "ACTIVE", server.get("fault")
    (port,) = ports_of(admin_neutron, server["id"])
    assert port["id"] == mine["id"] and port["device_owner"] == "compute:nova"
    assert port["binding:host_id"]
    assert server["addresses"][net["name"]][0]["addr"] == mine["fixed_ips"][0]["ip_address"]
    tenant.delete_server(server["id"])
    kept = admin_neutron.get(f"/ports/{mine['id']}").json()["port"]
    assert kept["device_id"] == "" and kept["device_owner"] == ""
    assert kept["binding:host_id"] == "" and kept["fixed_ips"] == mine["fixed_ips"]


def test_fixed_ip_and_two_networks(tenant: Tenant, image_id: str) -> None:
    one, two = tenant.network("10.33.0.0/24"), tenant.network("10.34.0.0/24")
    server = tenant.boot(image_id, [{"uuid": one["id"], "fixed_ip": "10.33.0.77",
                                     "tag": "nic1"}, {"uuid": two["id"]}])
    assert server["status"] == "ACTIVE", server.get("fault")
    nics = tenant.nova.get(f"/servers/{server['id']}/os-interface", version="2.70").json()
    assert sorted((n["net_id"], n["tag"]) for n in nics["interfaceAttachments"]) == sorted(
        [(one["id"], "nic1"), (two["id"], None)])
    assert [a["addr"] for a in server["addresses"][one["name"]]] == ["10.33.0.77"]
    assert len(server["addresses"][two["name"]]) == 1
    listed = tenant.nova.get("/servers/detail", params={"ip": r"10\.33\.0\.77"}).json()
    assert [s["id"] for s in listed["servers"]] == [server["id"]]
    assert tenant.nova.get("/servers/detail", params={"ip": "10.99."}).json()["servers"] == []
    label = tenant.nova.get(f"/servers/{server['id']}/ips/{one['name']}").json()
    assert label == {one["name"]: [{"version": 4, "addr": "10.33.0.77"}]}
    fault(tenant.nova.get(f"/servers/{server['id']}/ips/nowhere"), 404, "itemNotFound")


def test_default_network_when_none_named(tenant: Tenant, admin_neutron: Neutron,
                                         image_id: str) -> None:
    """Before 2.37 (and with ``auto``) a server gets the project's only network; with
    several to choose from, Nova answers 409."""
    shared = admin_neutron.get("/networks", params={"shared": "true"}).json()["networks"]
    net = tenant.network("10.35.0.0/24")
    body = server_body(image_id)
    del body["server"]["networks"]
    r = tenant.nova.post("/servers", body, version="2.36")
    if shared:          # another test's shared network is visible too
        assert "Multiple possible networks found" in fault(r, 409, "conflictingRequest")
        return
    assert r.status_code == 202, r.text
    server = wait_status(tenant.nova, r.json()["server"]["id"], "ACTIVE", "ERROR")
    assert list(server["addresses"]) == [net["name"]]
    tenant.network("10.36.0.0/24")
    msg = fault(tenant.nova.post("/servers", server_body(image_id, networks="auto"),
                                 version="2.37"), 409, "conflictingRequest")
    assert msg == "Multiple possible networks found, use a Network ID to be more specific."


def test_cli_nics(cloud: Cloud, admin_nova: Nova, image_id: str) -> None:
    """``openstack server create --network / --nic port-id= / --nic net-id=,v4-fixed-ip=``."""
    name = unique("clinet")
    net = cloud.cli_json("network", "create", name)
    cloud.cli_json("subnet", "create", "--network", name, "--subnet-range", "10.37.0.0/24",
                   unique("clisub"))
    port = cloud.cli_json("port", "create", "--network", name, unique("cliport"))
    made: list[dict[str, Any]] = []
    try:
        for nic in (["--network", name], ["--nic", f"port-id={port['id']}"],
                    ["--nic", f"net-id={net['id']},v4-fixed-ip=10.37.0.99"]):
            made.append(cloud.cli_json("server", "create", "--flavor", "m1.tiny", "--image",
                                       image_id, *nic, unique("cli")))
        done = [wait_status(admin_nova, s["id"], "ACTIVE") for s in made]
        addresses = [s["addresses"][name] for s in done]
        assert [a["addr"] for a in addresses[1]] == [port["fixed_ips"][0]["ip_address"]]
        assert [a["addr"] for a in addresses[2]] == ["10.37.0.99"]
        assert len(addresses[0]) == 1
        listed = cloud.cli_json("port", "list", "--server", made[0]["id"])
        assert len(listed) == 1
    finally:
        for s in made:
            admin_nova.delete(f"/servers/{s['id']}")
        for s in made:
            wait_gone(admin_nova, s["id"])
        cloud.cli("port", "delete", port["id"])
        cloud.cli("network", "delete", name)


BAD: list[tuple[str, Any, int, str]] = [
    ("unknown network", lambda t, n, p: [{"uuid": "6f1c7cd5-0d2a-4c5a-8a4e-6b2b3d7c9e10"}],
     400, "could not be found"),
    ("malformed network", lambda t, n, p: [{"uuid": "nope"}], 400, "Bad networks format"),
    ("fixed IP outside", lambda t, n, p: [{"uuid": n["id"], "fixed_ip": "192.168.9.9"}],
     400, "is not a valid ip address for network"),
    ("fixed IP taken", lambda t, n, p: [{"uuid": n["id"],
                                         "fixed_ip": p["fixed_ips"][0]["ip_address"]}],
     400, "already in use"),
    ("port and fixed IP", lambda t, n, p: [{"port": p["id"], "fixed_ip": "10.38.0.9"}],
     400, "cannot be specified together"),
    ("unknown port", lambda t, n, p: [{"port": "6f1c7cd5-0d2a-4c5a-8a4e-6b2b3d7c9e11"}],
     400, "could not be found"),
    ("port twice", lambda t, n, p: [{"port": p["id"]}, {"port": p["id"]}], 400,
     "specified twice"),
    ("missing uuid", lambda t, n, p: [{"fixed_ip": "10.38.0.9"}], 400, "missing 'uuid'"),
    ("bad key", lambda t, n, p: [{"uuid": n["id"], "bogus": 1}], 400, "bogus"),
    ("network without subnet", lambda t, n, p: [{"uuid": t.neutron.post(
        "/networks", {"network": {"name": "bare"}}).json()["network"]["id"]}], 400,
     "requires a subnet"),
]


@pytest.mark.parametrize(("what", "networks", "status", "words"), BAD,
                         ids=[b[0] for b in BAD])
def test_bad_networks_leave_nothing(tenant: Tenant, admin_neutron: Neutron, image_id: str,
                                    what: str, networks: Any, status: int,
                                    words: str) -> None:
    net = tenant.network("10.38.0.0/24")
    port = tenant.port(net["id"])
    before = ports_of(admin_neutron, "")
    r = tenant.nova.post("/servers", server_body(image_id, networks=networks(
        tenant, net, port)), version="2.90")
    assert words in fault(r, status, "badRequest")
    assert tenant.nova.get("/servers").json()["servers"] == []
    after = tenant.neutron.get("/ports", params={"network_id": net["id"]}).json()["ports"]
    assert [p["id"] for p in after] == [port["id"]]
    assert len(ports_of(admin_neutron, "")) == len(before)


def test_port_in_use_and_other_projects_network(tenant: Tenant, make_user: Any,
                                                image_id: str) -> None:
    net = tenant.network("10.39.0.0/24")
    port = tenant.port(net["id"])
    server = tenant.boot(image_id, [{"port": port["id"]}])
    assert server["status"] == "ACTIVE"
    r = tenant.nova.post("/servers", server_body(image_id, networks=[{"port": port["id"]}]),
                         version="2.90")
    assert "is still in use" in fault(r, 409, "conflictingRequest")
    other = make_user("member")
    r = other.post("/servers", server_body(image_id, networks=[{"uuid": net["id"]}]),
                   version="2.90")
    assert "could not be found" in fault(r, 400, "badRequest")
    r = other.post("/servers", server_body(image_id, networks=[{"port": port["id"]}]),
                   version="2.90")
    fault(r, 400, "badRequest")
    assert other.get("/servers").json()["servers"] == []


def test_failed_build_leaves_no_ports(tenant: Tenant, admin_nova: Nova,
                                      admin_neutron: Neutron, image_id: str) -> None:
    """A build that fails everywhere ends in ERROR with its ports deleted and the
    user's port given back."""
    flavor = admin_nova.post("/flavors", {"flavor": {
        "name": unique("fail"), "ram": 64, "vcpus": 1, "disk": 1}}).json()["flavor"]
    admin_nova.post(f"/flavors/{flavor['id']}/os-extra_specs",
                    {"extra_specs": {"fake:fail_spawn": "true"}})
    try:
        net = tenant.network("10.40.0.0/24")
        mine = tenant.port(net["id"])
        body = server_body(image_id, networks=[{"uuid": net["id"]}, {"port": mine["id"]}])
        body["server"]["flavorRef"] = flavor["id"]
        r = tenant.nova.post("/servers", body, version="2.90")
        assert r.status_code == 202, r.text
        server = wait_status(tenant.nova, r.json()["server"]["id"], "ERROR")
        assert ports_of(admin_neutron, server["id"]) == []
        kept = admin_neutron.get(f"/ports/{mine['id']}").json()["port"]
        assert kept["device_id"] == "" and kept["binding:host_id"] == ""
        left = tenant.neutron.get("/ports", params={"network_id": net["id"]}).json()
        assert [p["id"] for p in left["ports"]] == [mine["id"]]
    finally:
        admin_nova.delete(f"/flavors/{flavor['id']}")


def test_allocation_failure_aborts_the_build(tenant: Tenant, admin_neutron: Neutron,
                                             image_id: str) -> None:
    """No address left on the network: ERROR at once with the reason, nothing made."""
    r = tenant.neutron.post("/networks", {"network": {"name": unique("tiny")}})
    net = r.json()["network"]
    r = tenant.neutron.post("/subnets", {"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.41.0.0/29",
        "allocation_pools": [{"start": "10.41.0.2", "end": "10.41.0.2"}]}})
    assert r.status_code == 201, r.text
    first = tenant.boot(image_id, [{"uuid": net["id"]}])
    assert first["status"] == "ACTIVE"
    second = tenant.boot(image_id, [{"uuid": net["id"]}])
    assert second["status"] == "ERROR"
    assert "No fixed IP addresses available for network" in second["fault"]["message"]
    assert "aborted" in second["fault"]["message"]
    assert ports_of(admin_neutron, second["id"]) == []
    tenant.delete_server(second["id"])
    wait_gone(tenant.nova, second["id"])


def test_min_count_servers_each_get_a_port(tenant: Tenant, admin_neutron: Neutron,
                                           image_id: str) -> None:
    net = tenant.network("10.42.0.0/24")
    r = tenant.nova.post("/servers", server_body(image_id, networks=[{"uuid": net["id"]}],
                                                 min_count=2), version="2.90")
    assert r.status_code == 202, r.text
    servers = tenant.nova.get("/servers/detail").json()["servers"]
    assert len(servers) == 2
    done = [wait_status(tenant.nova, s["id"], "ACTIVE") for s in servers]
    addresses = {a["addr"] for s in done for a in s["addresses"][net["name"]]}
    assert len(addresses) == 2
    for s in done:
        assert len(ports_of(admin_neutron, s["id"])) == 1


def test_auto_allocated_network(tenant: Tenant, admin_neutron: Neutron,
                                image_id: str) -> None:
    """``networks: auto`` with nothing to use: 400 until networking can make the
    project a topology (a default external network and subnet pool), then the
    server lands on the project's auto-allocated network."""
    r = tenant.nova.post("/servers", server_body(image_id, networks="auto"), version="2.37")
    assert "Unable to automatically allocate a network" in fault(r, 400, "badRequest")
    ext = admin_neutron.post("/networks", {"network": {
        "name": unique("public"), "router:external": True, "is_default": True}})
    assert ext.status_code == 201, ext.text
    ext_id = ext.json()["network"]["id"]
    sub = admin_neutron.post("/subnets", {"subnet": {
        "network_id": ext_id, "ip_version": 4, "cidr": "198.18.0.0/24"}})
    assert sub.status_code == 201, sub.text
    pool = admin_neutron.post("/subnetpools", {"subnetpool": {
        "name": unique("pool"), "prefixes": ["10.220.0.0/16"], "default_prefixlen": 26,
        "is_default": True, "shared": True}})
    assert pool.status_code == 201, pool.text
    try:
        server = tenant.boot(image_id, "auto")
        assert server["status"] == "ACTIVE", server.get("fault")
        topology = tenant.neutron.get(f"/auto-allocated-topology/{tenant.project_id}")
        net_id = topology.json()["auto_allocated_topology"]["id"]
        (port,) = ports_of(admin_neutron, server["id"])
        assert port["network_id"] == net_id
        (addresses,) = server["addresses"].values()
        assert ipaddress.ip_address(addresses[0]["addr"]) in ipaddress.ip_network(
            "10.220.0.0/16")
        tenant.delete_server(server["id"])
    finally:
        admin_neutron.delete(f"/auto-allocated-topology/{tenant.project_id}")
        admin_neutron.put(f"/networks/{ext_id}", {"network": {"is_default": False}})
        admin_neutron.delete(f"/networks/{ext_id}")
        admin_neutron.delete(f"/subnetpools/{pool.json()['subnetpool']['id']}")


def test_port_quota_bounds_the_servers(tenant: Tenant, admin_neutron: Neutron,
                                       image_id: str) -> None:
    net = tenant.network("10.46.0.0/24")
    r = admin_neutron.put(f"/quotas/{tenant.project_id}", {"quota": {"port": 2}})
    assert r.status_code == 200, r.text
    tenant.port(net["id"])                      # one of the two is taken
    body = server_body(image_id, networks=[{"uuid": net["id"]}], min_count=2)
    r = tenant.nova.post("/servers", body, version="2.90")
    assert fault(r, 403, "forbidden") == "Maximum number of ports exceeded"
    assert tenant.nova.get("/servers").json()["servers"] == []
    body = server_body(image_id, networks=[{"uuid": net["id"]}], min_count=1, max_count=3)
    r = tenant.nova.post("/servers", body, version="2.90")
    assert r.status_code == 202, r.text
    (made,) = tenant.nova.get("/servers").json()["servers"]
    assert wait_status(tenant.nova, made["id"], "ACTIVE")["status"] == "ACTIVE"


def test_rescheduled_build_moves_the_binding(tenant: Tenant, admin_nova: Nova,
                                             admin_neutron: Neutron, image_id: str) -> None:
    """The spawn fails on the first host: the port made there follows the build to
    the host that takes it. A filler on fake-host-2 makes fake-host-1 the scheduler's
    first choice (more free RAM)."""
    flavor = admin_nova.post("/flavors", {"flavor": {
        "name": unique("half"), "ram": 64, "vcpus": 1, "disk": 1}}).json()["flavor"]
    admin_nova.post(f"/flavors/{flavor['id']}/os-extra_specs",
                    {"extra_specs": {"fake:fail_spawn_on_hosts": "fake-host-1"}})
    filler = admin_nova.post("/servers", server_body(image_id, flavorRef="3",
                                                     host="fake-host-2"), version="2.74")
    assert filler.status_code == 202, filler.text
    filler_id = filler.json()["server"]["id"]
    try:
        wait_status(admin_nova, filler_id, "ACTIVE")
        net = tenant.network("10.47.0.0/24")
        body = server_body(image_id, networks=[{"uuid": net["id"]}])
        body["server"]["flavorRef"] = flavor["id"]
        r = tenant.nova.post("/servers", body, version="2.90")
        assert r.status_code == 202, r.text
        sid = r.json()["server"]["id"]
        server = wait_status(admin_nova, sid, "ACTIVE")
        events = admin_nova.get(f"/servers/{sid}/os-instance-actions/"
                                f"{_create_request(admin_nova, sid)}", version="2.62").json()
        tried = [(e["host"], e["result"]) for e in events["instanceAction"]["events"]
                 if e["event"] == "compute_build_and_run_instance"]
        assert ("fake-host-1", "Error") in tried, tried
        (port,) = ports_of(admin_neutron, sid)
        assert server["OS-EXT-SRV-ATTR:host"] == "fake-host-2"
        assert port["binding:host_id"] == "fake-host-2" and port["status"] == "ACTIVE"
    finally:
        admin_nova.delete(f"/servers/{filler_id}")
        wait_gone(admin_nova, filler_id)
        admin_nova.delete(f"/flavors/{flavor['id']}")


def _create_request(nova: Nova, server_id: str) -> str:
    actions = nova.get(f"/servers/{server_id}/os-instance-actions").json()
    return str(next(a["request_id"] for a in actions["instanceActions"]
                    if a["action"] == "create"))
