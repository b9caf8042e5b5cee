"""Security groups and floating IPs of servers: groups named at boot, added and removed
(CLI and the 2.1 actions), the os-security-groups / os-security-group-rules proxies,
floating IPs associated through networking (``openstack server add floating ip``)
and the os-floating-ips proxies and actions, os-floating-ip-pools and os-networks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.networks import Tenant, admin_neutron, ports_of, tenant
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import boot, poll, server_body, wait_gone
from tests.functional.network.l3 import External, delete_external, make_external
from tests.functional.network.neutron import Neutron

__all__ = ["admin_neutron", "tenant"]


def group(neutron: Neutron, name: str) -> dict[str, Any]:
    r = neutron.post("/security-groups", {"security_group": {"name": name}})
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()["security_group"]
    return made


def groups_of_port(neutron: Neutron, server_id: str) -> list[str]:
    (port,) = ports_of(neutron, server_id)
    return sorted(port["security_groups"])


def test_security_groups_at_boot_and_by_action(tenant: Tenant, admin_neutron: Neutron,
                                               image_id: str) -> None:
    net = tenant.network("10.61.0.0/24")
    web = group(tenant.neutron, unique("web"))
    server = tenant.boot(image_id, [{"uuid": net["id"]}],
                         security_groups=[{"name": web["name"]}])
    assert server["status"] == "ACTIVE", server.get("fault")
    assert groups_of_port(admin_neutron, server["id"]) == [web["id"]]
    assert server["security_groups"] == [{"name": web["name"]}]
    path = f"/servers/{server['id']}/action"
    assert tenant.nova.post(path, {"addSecurityGroup": {"name": "default"}}).status_code == 202
    default = tenant.neutron.get("/security-groups", params={"name": "default"}).json()[
        "security_groups"][0]
    assert groups_of_port(admin_neutron, server["id"]) == sorted([web["id"], default["id"]])
    listed = tenant.nova.get(f"/servers/{server['id']}/os-security-groups").json()
    assert sorted(g["name"] for g in listed["security_groups"]) == sorted(
        ["default", web["name"]])
    assert tenant.nova.post(path, {"removeSecurityGroup": {"name": web["name"]}}
                            ).status_code == 202
    assert groups_of_port(admin_neutron, server["id"]) == [default["id"]]
    fault(tenant.nova.post(path, {"removeSecurityGroup": {"name": web["name"]}}), 404,
          "itemNotFound")
    fault(tenant.nova.post(path, {"addSecurityGroup": {"name": "nope"}}), 404,
          "itemNotFound")
    fault(tenant.nova.post(path, {"addSecurityGroup": {"name": " "}}), 400, "badRequest")
    r = tenant.nova.post("/servers", server_body(image_id, networks=[{"uuid": net["id"]}],
                                                 security_groups=[{"name": "nope"}]),
                         version="2.90")
    assert "nope" in fault(r, 400, "badRequest")
    assert len(tenant.nova.get("/servers").json()["servers"]) == 1


def test_cli_add_and_remove_security_group(cloud: Cloud, admin_nova: Nova,
                                           image_id: str) -> None:
    name = unique("clisg")
    net = cloud.cli_json("network", "create", unique("clinet"))
    cloud.cli_json("subnet", "create", "--network", net["id"], "--subnet-range",
                   "10.62.0.0/24", unique("clisub"))
    sg = cloud.cli_json("security group", "create", name)
    server = boot(admin_nova, image_id, networks=[{"uuid": net["id"]}])
    try:
        cloud.cli("server", "add", "security", "group", server["id"], name)
        shown = admin_nova.get(f"/servers/{server['id']}").json()["server"]
        assert {"name": name} in shown["security_groups"]
        cloud.cli("server", "remove", "security", "group", server["id"], name)
        shown = admin_nova.get(f"/servers/{server['id']}").json()["server"]
        assert {"name": name} not in shown["security_groups"]
    finally:
        admin_nova.delete(f"/servers/{server['id']}")
        wait_gone(admin_nova, server["id"])
        cloud.cli("security", "group", "delete", sg["id"])
        cloud.cli("network", "delete", net["id"])


def test_security_group_proxies(tenant: Tenant, make_user: Any) -> None:
    nova = tenant.nova
    r = nova.post("/os-security-groups", {"security_group": {
        "name": "proxied", "description": "through nova"}}, version="2.35")
    assert r.status_code == 200, r.text
    made = r.json()["security_group"]
    assert made["name"] == "proxied" and made["tenant_id"] == tenant.project_id
    r = nova.post("/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": made["id"], "ip_protocol": "tcp", "from_port": 22,
        "to_port": 22, "cidr": "10.0.0.0/8"}}, version="2.35")
    assert r.status_code == 200, r.text
    rule = r.json()["security_group_rule"]
    assert rule == {"id": rule["id"], "parent_group_id": made["id"], "ip_protocol": "tcp",
                    "from_port": 22, "to_port": 22, "group": {},
                    "ip_range": {"cidr": "10.0.0.0/8"}}
    neutron_rule = tenant.neutron.get(f"/security-group-rules/{rule['id']}").json()
    assert neutron_rule["security_group_rule"]["direction"] == "ingress"
    shown = nova.get(f"/os-security-groups/{made['id']}", version="2.35").json()
    assert [r["id"] for r in shown["security_group"]["rules"]] == [rule["id"]]
    names = {g["name"] for g in nova.get("/os-security-groups", version="2.35").json()[
        "security_groups"]}
    assert names == {"default", "proxied"}
    for bad in ({"ip_protocol": "tcp", "from_port": 30, "to_port": 20},
                {"ip_protocol": "gre", "from_port": 1, "to_port": 2},
                {"ip_protocol": "tcp", "from_port": "a", "to_port": 2},
                {"cidr": "10.0.0.0/8"}):
        fault(nova.post("/os-security-group-rules", {"security_group_rule": {
            "parent_group_id": made["id"], **bad}}, version="2.35"), 400, "badRequest")
    other = make_user("member")
    fault(other.get(f"/os-security-groups/{made['id']}", version="2.35"), 404,
          "itemNotFound")
    fault(other.delete(f"/os-security-groups/{made['id']}", version="2.35"), 404,
          "itemNotFound")
    fault(nova.get("/os-security-groups", version="2.36"), 404, "itemNotFound")
    fault(nova.delete("/os-security-groups/", version="2.35"), 404, "itemNotFound")
    r = nova.post("/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": made["id"], "ip_protocol": "udp", "from_port": 53,
        "to_port": 53, "cidr": "10.2.3.124/24"}}, version="2.35")
    assert r.json()["security_group_rule"]["ip_range"] == {"cidr": "10.2.3.124/24"}
    assert nova.delete(f"/os-security-group-rules/{rule['id']}",
                       version="2.35").status_code == 202
    assert nova.delete(f"/os-security-groups/{made['id']}",
                       version="2.35").status_code == 202
    assert tenant.neutron.get(f"/security-groups/{made['id']}").status_code == 404


# ------------------------------------------------------------ floating IPs


@pytest.fixture
def external(admin_neutron: Neutron) -> Iterator[External]:
    ext = make_external(admin_neutron, "203.0.113.0/24")
    yield ext
    delete_external(admin_neutron, ext)


def routed_network(tenant: Tenant, external: External, cidr: str) -> dict[str, Any]:
    """A network of the tenant with a router to the external network."""
    net = tenant.network(cidr)
    r = tenant.neutron.post("/routers", {"router": {
        "name": unique("r"), "external_gateway_info": {"network_id": external.network_id}}})
    assert r.status_code == 201, r.text
    router = r.json()["router"]
    r = tenant.neutron.put(f"/routers/{router['id']}/add_router_interface",
                           {"subnet_id": net["subnet"]["id"]})
    assert r.status_code == 200, r.text
    return net


def floating(nova: Nova, server_id: str) -> list[str]:
    shown = nova.get(f"/servers/{server_id}").json()["server"]
    return [a["addr"] for found in shown["addresses"].values() for a in found
            if a["OS-EXT-IPS:type"] == "floating"]


def test_floating_ip_through_networking_stays_with_the_port(
        tenant: Tenant, external: External, admin_neutron: Neutron, image_id: str) -> None:
    net = routed_network(tenant, external, "10.63.0.0/24")
    mine = tenant.port(net["id"])
    server = tenant.boot(image_id, [{"port": mine["id"]}])
    assert server["status"] == "ACTIVE", server.get("fault")
    r = tenant.neutron.post("/floatingips", {"floatingip": {
        "floating_network_id": external.network_id}})
    assert r.status_code == 201, r.text
    fip = r.json()["floatingip"]
    conn = tenant.sdk()
    conn.network.update_ip(fip["id"], port_id=mine["id"])
    poll(lambda: floating(tenant.nova, server["id"]) == [fip["floating_ip_address"]],
         what="the floating IP in the server's addresses (network-changed)")
    ips = tenant.nova.get(f"/servers/{server['id']}/ips").json()["addresses"][net["name"]]
    assert {"version": 4, "addr": fip["floating_ip_address"]} in ips
    tenant.delete_server(server["id"])
    kept = tenant.neutron.get(f"/floatingips/{fip['id']}").json()["floatingip"]
    assert kept["port_id"] == mine["id"]


def test_cli_server_add_floating_ip(cloud: Cloud, admin_nova: Nova, admin_neutron: Neutron,
                                    external: External, image_id: str) -> None:
    net = cloud.cli_json("network", "create", unique("clinet"))
    sub = cloud.cli_json("subnet", "create", "--network", net["id"], "--subnet-range",
                         "10.64.0.0/24", unique("clisub"))
    router = cloud.cli_json("router", "create", unique("clir"))
    cloud.cli("router", "set", "--external-gateway", external.network_id, router["id"])
    cloud.cli("router", "add", "subnet", router["id"], sub["id"])
    fip = cloud.cli_json("floating", "ip", "create", external.network_id)
    server = boot(admin_nova, image_id, networks=[{"uuid": net["id"]}])
    try:
        cloud.cli("server", "add", "floating", "ip", server["id"],
                  fip["floating_ip_address"])
        poll(lambda: floating(admin_nova, server["id"]) == [fip["floating_ip_address"]],
             what="the floating IP shown")
        cloud.cli("server", "remove", "floating", "ip", server["id"],
                  fip["floating_ip_address"])
        poll(lambda: floating(admin_nova, server["id"]) == [], what="the floating IP gone")
    finally:
        admin_nova.delete(f"/servers/{server['id']}")
        wait_gone(admin_nova, server["id"])
        cloud.cli("floating", "ip", "delete", fip["id"])
        cloud.cli("router", "remove", "subnet", router["id"], sub["id"])
        cloud.cli("router", "delete", router["id"])
        cloud.cli("network", "delete", net["id"])


def test_floating_ip_proxies_and_actions(tenant: Tenant, external: External,
                                         admin_neutron: Neutron, image_id: str) -> None:
    net = routed_network(tenant, external, "10.65.0.0/24")
    server = tenant.boot(image_id, [{"uuid": net["id"]}])
    nova = tenant.nova
    pools = nova.get("/os-floating-ip-pools", version="2.35").json()["floating_ip_pools"]
    ext_name = admin_neutron.get(f"/networks/{external.network_id}").json()["network"]["name"]
    assert {"name": ext_name} in pools
    r = nova.post("/os-floating-ips", {"pool": ext_name}, version="2.35")
    assert r.status_code == 200, r.text
    made = r.json()["floating_ip"]
    assert made["pool"] == ext_name and made["instance_id"] is None
    fault(nova.post("/os-floating-ips", {"pool": "nowhere"}, version="2.35"), 404,
          "itemNotFound")
    path = f"/servers/{server['id']}/action"
    r = nova.post(path, {"addFloatingIp": {"address": made["ip"]}}, version="2.43")
    assert r.status_code == 202, r.text
    assert floating(nova, server["id"]) == [made["ip"]]
    shown = nova.get(f"/os-floating-ips/{made['id']}", version="2.35").json()["floating_ip"]
    assert shown["instance_id"] == server["id"] and shown["fixed_ip"]
    fault(nova.post(path, {"addFloatingIp": {"address": made["ip"]}}, version="2.44"), 404,
          "itemNotFound")
    fault(nova.post(path, {"addFloatingIp": {"address": "192.0.2.1"}}, version="2.43"), 404,
          "itemNotFound")
    fault(nova.post(path, {"addFloatingIp": {"address": made["ip"],
                                             "fixed_address": "10.99.0.1"}},
                    version="2.43"), 400, "badRequest")
    r = nova.post(path, {"removeFloatingIp": {"address": made["ip"]}}, version="2.43")
    assert r.status_code == 202, r.text
    assert floating(nova, server["id"]) == []
    fault(nova.post(path, {"removeFloatingIp": {"address": made["ip"]}}, version="2.43"),
          409, "conflictingRequest")
    listed = nova.get("/os-floating-ips", version="2.35").json()["floating_ips"]
    assert [f["id"] for f in listed] == [made["id"]]
    networks = nova.get("/os-networks", version="2.35").json()["networks"]
    assert {"id": net["id"], "label": net["name"]}.items() <= next(
        n for n in networks if n["id"] == net["id"]).items()
    # the external network too, as the network service shows it to the project
    assert external.network_id in {n["id"] for n in networks}
    fault(nova.get("/os-networks", version="2.36"), 404, "itemNotFound")
    tenants = nova.get("/os-tenant-networks", version="2.35").json()["networks"]
    assert {"id": net["id"], "cidr": "None", "label": net["name"]} in tenants
    assert nova.delete(f"/os-floating-ips/{made['id']}", version="2.35").status_code == 202
    assert tenant.neutron.get(f"/floatingips/{made['id']}").status_code == 404
