"""Ports through openstacksdk, the `openstack` CLI and raw HTTP: create with the
defaults Neutron gives (an address, a MAC under fa:16:3e, DOWN, the default security
group), show, list, update, delete (which frees the address), fixed IPs asked by subnet
and by address, MACs, and bad input that leaves nothing behind."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique

ZERO = "00000000-0000-0000-0000-000000000000"


def lan(client: Neutron, cidr: str = "10.20.0.0/24", **subnet: Any
        ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new network of the client's project with one subnet."""
    r = client.post("/networks", {"network": {"name": unique("net")}})
    assert r.status_code == 201, r.text
    net = r.json()["network"]
    return net, add_subnet(client, net, cidr, **subnet)


def add_subnet(client: Neutron, net: dict[str, Any], cidr: str, **extra: Any
               ) -> dict[str, Any]:
    version = ipaddress.ip_network(cidr).version
    r = client.post("/subnets", {"subnet": {"network_id": net["id"], "cidr": cidr,
                                            "ip_version": version, **extra}})
    assert r.status_code == 201, r.text
    return dict(r.json()["subnet"])


def port(client: Neutron, net: dict[str, Any], **attrs: Any) -> dict[str, Any]:
    r = client.post("/ports", {"port": {"network_id": net["id"], **attrs}})
    assert r.status_code == 201, r.text
    return dict(r.json()["port"])


def in_pools(address: str, subnet: dict[str, Any]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ipaddress.ip_address(p["start"]) <= ip <= ipaddress.ip_address(p["end"])
               for p in subnet["allocation_pools"])


def count_ports(client: Neutron, net: dict[str, Any]) -> int:
    return len(client.get("/ports", params={"network_id": net["id"]}).json()["ports"])


def test_sdk_create_show_update_delete(make_user: Any) -> None:
    user = make_user()
    conn = user.conn
    net, subnet = lan(user)
    made = conn.network.create_port(network_id=net["id"], name="first", description="d")
    assert made.status == "DOWN" and made.is_admin_state_up is True
    assert made.project_id == user.project_id and made.device_owner == ""
    assert made.mac_address.startswith("fa:16:3e:")
    assert len(made.fixed_ips) == 1 and made.fixed_ips[0]["subnet_id"] == subnet["id"]
    address = made.fixed_ips[0]["ip_address"]
    assert in_pools(address, subnet)
    assert made.ip_allocation == "immediate" and made.is_port_security_enabled is True
    default = conn.network.get_security_group(made.security_group_ids[0])
    assert default.name == "default" and len(made.security_group_ids) == 1
    assert made.dns_assignment == [{"ip_address": address,
                                    "hostname": f"host-{address.replace('.', '-')}",
                                    "fqdn": f"host-{address.replace('.', '-')}.openstacklocal."}]
    raw = user.get(f"/ports/{made.id}").json()["port"]
    assert raw["binding:vnic_type"] == "normal" and raw["revision_number"] == 0
    assert "binding:host_id" not in raw and "binding:vif_type" not in raw  # admins only
    assert raw["tenant_id"] == user.project_id and raw["created_at"].endswith("Z")
    updated = conn.network.update_port(made, name="renamed", admin_state_up=False)
    assert updated.name == "renamed" and updated.is_admin_state_up is False
    assert updated.revision_number == 1 and updated.description == "d"
    assert [p.id for p in conn.network.ports(network_id=net["id"])] == [made.id]
    conn.network.delete_port(made)
    error(user.get(f"/ports/{made.id}"), 404, "PortNotFound")
    error(user.delete(f"/ports/{made.id}"), 404, "PortNotFound")
    # the address is free again
    again = port(user, net, fixed_ips=[{"ip_address": address}])
    assert again["fixed_ips"][0]["ip_address"] == address


def test_admin_sees_bindings(admin_neutron: Neutron) -> None:
    net, _ = lan(admin_neutron)
    made = port(admin_neutron, net)
    assert made["binding:host_id"] == "" and made["binding:vif_type"] == "unbound"
    assert made["binding:vif_details"] == {} and made["binding:profile"] == {}
    r = admin_neutron.put(f"/ports/{made['id']}", {"port": {"binding:host_id": "node-1"}})
    bound = r.json()["port"]
    assert bound["binding:host_id"] == "node-1" and bound["binding:vif_type"] == "bridge"
    assert bound["binding:vif_details"] == {"port_filter": True, "connectivity": "l2"}
    listed = admin_neutron.get("/ports", params={"binding:host_id": "node-1"}).json()["ports"]
    assert made["id"] in [p["id"] for p in listed]
    # the VNIC type of a bound port cannot change; unbinding allows it again
    error(admin_neutron.put(f"/ports/{made['id']}", {"port": {"binding:vnic_type": "direct"}}),
          409, "PortInUse")
    r = admin_neutron.put(f"/ports/{made['id']}", {"port": {"binding:host_id": ""}})
    assert r.json()["port"]["binding:vif_type"] == "unbound"
    r = admin_neutron.put(f"/ports/{made['id']}", {"port": {"binding:vnic_type": "direct",
                                                            "binding:host_id": "node-2"}})
    assert r.json()["port"]["binding:vif_type"] == "binding_failed"  # bridges plug normal only
    # binding:profile is for the service role (Nova), as in Neutron
    error(admin_neutron.put(f"/ports/{made['id']}", {"port": {"binding:profile": {"a": 1}}}),
          403)
    bad = admin_neutron.post("/ports", {"port": {"network_id": net["id"],
                                                 "binding:vnic_type": "warp"}})
    error(bad, 400)


def test_cli_create_list_set_unset_delete(cloud: Cloud) -> None:
    conn = cloud.connect()
    net = conn.network.create_network(name=unique("cli-net"))
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                        cidr="10.30.0.0/24")
    name = unique("cli-port")
    made = cloud.cli_json("port", "create", "--network", net.id, "--fixed-ip",
                          f"subnet={subnet.id},ip-address=10.30.0.50", "--description",
                          "from the CLI", name)
    assert made["fixed_ips"] == [{"subnet_id": subnet.id, "ip_address": "10.30.0.50"}]
    assert made["description"] == "from the CLI" and made["status"] == "DOWN"
    listed = cloud.cli_json("port", "list", "--network", net.id)
    assert [p["ID"] for p in listed] == [made["id"]]
    found = cloud.cli_json("port", "list", "--fixed-ip", "ip-address=10.30.0.50")
    assert [p["ID"] for p in found] == [made["id"]]
    cloud.cli("port", "set", "--name", "renamed", "--fixed-ip",
              f"subnet={subnet.id},ip-address=10.30.0.60", made["id"])
    shown = cloud.cli_json("port", "show", made["id"])
    assert shown["name"] == "renamed"
    assert {ip["ip_address"] for ip in shown["fixed_ips"]} == {"10.30.0.50", "10.30.0.60"}
    cloud.cli("port", "unset", "--fixed-ip", f"subnet={subnet.id},ip-address=10.30.0.50",
              made["id"])
    shown = cloud.cli_json("port", "show", made["id"])
    assert [ip["ip_address"] for ip in shown["fixed_ips"]] == ["10.30.0.60"]
    cloud.cli("port", "delete", made["id"])
    assert cloud.cli_json("port", "list", "--network", net.id) == []
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)


def test_fixed_ips_by_subnet_and_address(make_user: Any) -> None:
    user = make_user()
    net, first = lan(user, "10.40.0.0/24")
    second = add_subnet(user, net, "10.41.0.0/24")
    # by default, one address from the IPv4 subnets (the first with room), as Neutron
    plain = port(user, net)
    assert [ip["subnet_id"] for ip in plain["fixed_ips"]] == [first["id"]]
    by_subnet = port(user, net, fixed_ips=[{"subnet_id": second["id"]},
                                           {"subnet_id": first["id"]}])
    assert sorted(ip["subnet_id"] for ip in by_subnet["fixed_ips"]) == sorted(
        [first["id"], second["id"]])
    by_address = port(user, net, fixed_ips=[{"ip_address": "10.41.0.77"}])
    assert by_address["fixed_ips"] == [{"subnet_id": second["id"], "ip_address": "10.41.0.77"}]
    both = port(user, net, fixed_ips=[{"subnet_id": first["id"], "ip_address": "10.40.0.200"}])
    assert both["fixed_ips"] == [{"subnet_id": first["id"], "ip_address": "10.40.0.200"}]
    outside_pool = port(user, net, fixed_ips=[{"ip_address": "10.40.0.1"}])  # the gateway's
    assert outside_pool["fixed_ips"][0]["ip_address"] == "10.40.0.1"
    # an explicitly empty list: no address at all
    bare = port(user, net, fixed_ips=[])
    assert bare["fixed_ips"] == [] and bare["ip_allocation"] == "none"
    # two addresses from one subnet
    twice = port(user, net, fixed_ips=[{"subnet_id": first["id"]}, {"subnet_id": first["id"]}])
    assert len({ip["ip_address"] for ip in twice["fixed_ips"]}) == 2


def test_fixed_ips_refused_and_nothing_made(make_user: Any) -> None:
    user = make_user()
    net, subnet = lan(user, "10.50.0.0/24")
    other, elsewhere = lan(user, "10.51.0.0/24")
    taken = port(user, net, fixed_ips=[{"ip_address": "10.50.0.10"}])
    before = count_ports(user, net)

    def refused(fixed: Any, status: int, kind: str) -> str:
        r = user.post("/ports", {"port": {"network_id": net["id"], "fixed_ips": fixed}})
        return error(r, status, kind)

    assert "already allocated" in refused([{"ip_address": "10.50.0.10"}], 409,
                                          "IpAddressAlreadyAllocated")
    refused([{"subnet_id": subnet["id"], "ip_address": "10.99.0.5"}], 400, "InvalidIpForSubnet")
    refused([{"subnet_id": subnet["id"], "ip_address": "10.50.0.255"}], 400,
            "InvalidIpForSubnet")  # the broadcast address
    refused([{"ip_address": "10.99.0.5"}], 400, "InvalidIpForNetwork")
    refused([{"subnet_id": ZERO}], 404, "SubnetNotFound")
    refused([{"subnet_id": elsewhere["id"]}], 400, "InvalidInput")
    refused([{"ip_address": "10.50.0.300"}], 400, "HTTPBadRequest")
    refused([{"ip_address": "10.50.0.20"}, {"ip_address": "10.50.0.20"}], 400,
            "HTTPBadRequest")
    refused("10.50.0.20", 400, "HTTPBadRequest")
    refused([{"subnet_id": "not-a-uuid"}], 400, "HTTPBadRequest")
    # the second address is taken: the first is not kept either
    refused([{"ip_address": "10.50.0.21"}, {"ip_address": "10.50.0.10"}], 409,
            "IpAddressAlreadyAllocated")
    assert count_ports(user, net) == before
    assert port(user, net, fixed_ips=[{"ip_address": "10.50.0.21"}])
    error(user.post("/ports", {"port": {"network_id": ZERO}}), 404, "NetworkNotFound")
    error(user.post("/ports", {"port": {"name": "no network"}}), 400)
    error(user.post("/ports", {"port": {"network_id": net["id"], "status": "ACTIVE"}}), 400)
    error(user.post("/ports", {"port": {"network_id": net["id"], "colour": "red"}}), 400)
    error(user.post("/ports", {"port": {"network_id": net["id"], "admin_state_up": "x"}}), 400)
    error(user.put(f"/ports/{taken['id']}", {"port": {"network_id": other["id"]}}), 400)
    assert count_ports(user, net) == before + 1


def test_update_fixed_ips(make_user: Any) -> None:
    user = make_user()
    net, subnet = lan(user, "10.60.0.0/24")
    made = port(user, net, fixed_ips=[{"ip_address": "10.60.0.205"}])
    path = f"/ports/{made['id']}"
    # add one, keep the first (named by address)
    r = user.put(path, {"port": {"fixed_ips": [{"ip_address": "10.60.0.205"},
                                               {"subnet_id": subnet["id"]}]}})
    addresses = {ip["ip_address"] for ip in r.json()["port"]["fixed_ips"]}
    assert "10.60.0.205" in addresses and len(addresses) == 2
    assert r.json()["port"]["revision_number"] == 1
    # replace both with one: the others are freed
    r = user.put(path, {"port": {"fixed_ips": [{"ip_address": "10.60.0.206"}]}})
    assert r.json()["port"]["fixed_ips"] == [{"subnet_id": subnet["id"],
                                              "ip_address": "10.60.0.206"}]
    freed = port(user, net, fixed_ips=[{"ip_address": "10.60.0.205"}])
    assert freed["fixed_ips"][0]["ip_address"] == "10.60.0.205"
    # keeping an address by its subnet alone keeps that address
    r = user.put(path, {"port": {"fixed_ips": [{"subnet_id": subnet["id"]}]}})
    assert r.json()["port"]["fixed_ips"][0]["ip_address"] == "10.60.0.206"
    # a refused update changes nothing
    error(user.put(path, {"port": {"fixed_ips": [{"ip_address": "10.60.0.205"}]}}), 409,
          "IpAddressAlreadyAllocated")
    assert user.get(path).json()["port"]["fixed_ips"][0]["ip_address"] == "10.60.0.206"
    r = user.put(path, {"port": {"fixed_ips": []}})
    assert r.json()["port"]["fixed_ips"] == []


def test_ipv6_addresses(make_user: Any) -> None:
    user = make_user()
    net, v4 = lan(user, "10.70.0.0/24")
    slaac = add_subnet(user, net, "2001:db8:70::/64", ipv6_ra_mode="slaac",
                       ipv6_address_mode="slaac")
    stateful = add_subnet(user, net, "2001:db8:71::/64", ipv6_address_mode="dhcpv6-stateful")
    made = port(user, net)
    by_subnet = {ip["subnet_id"]: ip["ip_address"] for ip in made["fixed_ips"]}
    assert set(by_subnet) == {v4["id"], slaac["id"], stateful["id"]}
    mac = made["mac_address"].split(":")
    interface = f"{int(mac[0], 16) ^ 2:02x}{mac[1]}:{mac[2]}ff:fe{mac[3]}:{mac[4]}{mac[5]}"
    assert ipaddress.ip_address(by_subnet[slaac["id"]]) == ipaddress.ip_address(
        f"2001:db8:70::{interface}")
    assert in_pools(by_subnet[stateful["id"]], stateful)
    # only the port's own EUI-64 address may be asked for on a SLAAC subnet
    r = user.post("/ports", {"port": {"network_id": net["id"], "fixed_ips": [
        {"subnet_id": slaac["id"], "ip_address": "2001:db8:70::5"}]}})
    error(r, 400, "AllocationOnAutoAddressSubnet")
    # a port asking for its IPv4 address still gets its SLAAC one
    v4_only = port(user, net, fixed_ips=[{"subnet_id": v4["id"]}])
    assert {ip["subnet_id"] for ip in v4_only["fixed_ips"]} == {v4["id"], slaac["id"]}
    # a new MAC means a new EUI-64 address (admins change MACs of unbound ports)


def test_mac_addresses(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    net, _ = lan(user, "10.80.0.0/24")
    given = port(user, net, mac_address="FA-16-3E-AA-BB-01")
    assert given["mac_address"] == "fa:16:3e:aa:bb:01"
    r = user.post("/ports", {"port": {"network_id": net["id"],
                                      "mac_address": "fa:16:3e:aa:bb:01"}})
    assert "fa:16:3e:aa:bb:01 is in use" in error(r, 409, "MacAddressInUse")
    other, _ = lan(user, "10.81.0.0/24")
    assert port(user, other, mac_address="fa:16:3e:aa:bb:01")  # unique per network only
    for bad in ("fa:16:3e:aa:bb", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "zz:16:3e:00:00:01",
                12):
        error(user.post("/ports", {"port": {"network_id": net["id"], "mac_address": bad}}),
              400)
    # a member may not change a MAC; an admin may, on an unbound port
    path = f"/ports/{given['id']}"
    error(user.put(path, {"port": {"mac_address": "fa:16:3e:aa:bb:02"}}), 403)
    r = admin_neutron.put(path, {"port": {"mac_address": "fa:16:3e:aa:bb:02"}})
    assert r.json()["port"]["mac_address"] == "fa:16:3e:aa:bb:02"
    regenerated = admin_neutron.put(path, {"port": {"mac_address": None}}).json()["port"]
    assert regenerated["mac_address"] not in ("fa:16:3e:aa:bb:02", "fa:16:3e:aa:bb:01")
    assert regenerated["mac_address"].startswith("fa:16:3e:")
    admin_neutron.put(path, {"port": {"binding:host_id": "node-1"}})
    r = admin_neutron.put(path, {"port": {"mac_address": "fa:16:3e:aa:bb:03"}})
    error(r, 409, "PortBound")
    dhcp = port(admin_neutron, net, device_owner="network:dhcp")
    r = admin_neutron.put(f"/ports/{dhcp['id']}", {"port": {"mac_address": "fa:16:3e:aa:bb:04"}})
    error(r, 409, "UnsupportedPortDeviceOwner")


def test_mac_change_moves_eui64_address(admin_neutron: Neutron) -> None:
    net, v4 = lan(admin_neutron, "10.82.0.0/24")
    slaac = add_subnet(admin_neutron, net, "2001:db8:82::/64", ipv6_ra_mode="slaac",
                       ipv6_address_mode="slaac")
    made = port(admin_neutron, net)
    before = {ip["subnet_id"]: ip["ip_address"] for ip in made["fixed_ips"]}
    r = admin_neutron.put(f"/ports/{made['id']}", {"port": {"mac_address": "fa:16:3e:00:00:01"}})
    after = {ip["subnet_id"]: ip["ip_address"] for ip in r.json()["port"]["fixed_ips"]}
    assert after[v4["id"]] == before[v4["id"]]
    assert ipaddress.ip_address(after[slaac["id"]]) == ipaddress.ip_address(
        "2001:db8:82::f816:3eff:fe00:1")


def test_bulk_create_is_all_or_nothing(make_user: Any) -> None:
    user = make_user()
    net, _ = lan(user, "10.90.0.0/24")
    r = user.post("/ports", {"ports": [{"network_id": net["id"], "name": "a"},
                                       {"network_id": net["id"], "name": "b"}]})
    assert r.status_code == 201, r.text
    assert [p["name"] for p in r.json()["ports"]] == ["a", "b"]
    r = user.post("/ports", {"ports": [
        {"network_id": net["id"], "name": "c", "fixed_ips": [{"ip_address": "10.90.0.30"}]},
        {"network_id": net["id"], "name": "d", "fixed_ips": [{"ip_address": "10.90.0.30"}]}]})
    error(r, 409, "IpAddressAlreadyAllocated")
    assert count_ports(user, net) == 2


def test_delete_frees_everything(make_user: Any, cloud: Cloud) -> None:
    user = make_user()
    net, _ = lan(user, "10.95.0.0/24")
    made = port(user, net, fixed_ips=[{"ip_address": "10.95.0.9"}], tags=["red"])
    assert made["tags"] == ["red"]
    error(user.delete(f"/networks/{net['id']}"), 409, "NetworkInUse")
    assert user.delete(f"/ports/{made['id']}").status_code == 204
    assert cloud.sql("SELECT count(*) FROM network_ip_allocations WHERE port_id = :p",
                     p=made["id"]) == [(0,)]
    assert cloud.sql("SELECT count(*) FROM network_tags WHERE resource_id = :p",
                     p=made["id"]) == [(0,)]
    assert cloud.sql("SELECT count(*) FROM network_port_security_groups WHERE port_id = :p",
                     p=made["id"]) == [(0,)]
    used = cloud.sql("SELECT in_use FROM network_quota_usages WHERE project_id = :p AND "
                     "resource = 'port'", p=user.project_id)
    assert used == [(0,)]
    assert user.delete(f"/networks/{net['id']}").status_code == 204


def test_cli_port_options(cloud: Cloud) -> None:
    conn = cloud.connect()
    net = conn.network.create_network(name=unique("cli-net"))
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.31.0.0/24")
    group = conn.network.create_security_group(name=unique("cli-sg"))
    made = cloud.cli_json(
        "port", "create", "--network", net.id, "--security-group", group.id,
        "--allowed-address", "ip-address=10.31.0.200", "--extra-dhcp-option",
        "name=bootfile-name,value=pxelinux.0", "--dns-name", "web", "--host", "node-1",
        "--mac-address", "fa:16:3e:31:00:01", "--tag", "cli", unique("cli-port"))
    assert made["security_group_ids"] == [group.id]
    assert made["allowed_address_pairs"] == [{"ip_address": "10.31.0.200",
                                              "mac_address": "fa:16:3e:31:00:01"}]
    assert made["extra_dhcp_opts"] == [{"opt_name": "bootfile-name",
                                        "opt_value": "pxelinux.0", "ip_version": 4}]
    assert made["dns_name"] == "web" and made["binding_host_id"] == "node-1"
    assert made["binding_vif_type"] == "bridge" and made["tags"] == ["cli"]
    cloud.cli("port", "set", "--no-security-group", "--no-allowed-address",
              "--disable-port-security", made["id"])
    shown = cloud.cli_json("port", "show", made["id"])
    assert shown["security_group_ids"] == [] and shown["port_security_enabled"] is False
    assert shown["allowed_address_pairs"] == []
    listed = cloud.cli_json("port", "list", "--host", "node-1", "--long")
    assert made["id"] in [p["ID"] for p in listed]
    cloud.cli("port", "delete", made["id"])
    conn.network.delete_security_group(group)
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)
