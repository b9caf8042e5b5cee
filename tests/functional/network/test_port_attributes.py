"""Ports' extension attributes: port security with security groups and allowed address
pairs, extra DHCP options, dns_name; list filters (by address, subnet, substring,
security group, owner), tags, and the quota."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.cloud import Cloud
from tests.functional.network.l3 import delete_external, make_external, private_subnet
from tests.functional.network.neutron import Neutron, error, unique
from tests.functional.network.test_ports import ZERO, add_subnet, count_ports, lan, port


def set_port_quota(cloud: Cloud, project_id: str, limit: int) -> None:
    """Write a project's port limit (no quotas API is needed for this test)."""
    from sqlalchemy import text

    from nubo.core.db.engine import Database

    async def run() -> None:
        db = Database(cloud.database_url)
        try:
            async with db.transaction() as tx:
                await tx.execute(text('INSERT INTO network_quotas (project_id, resource, '
                                      '"limit") VALUES (:p, :r, :n)'.replace(
                                          '"limit"', "`limit`" if "mysql" in db.url
                                          else '"limit"')),
                                 {"p": project_id, "r": "port", "n": limit})
        finally:
            await db.close()

    asyncio.run(run())


def test_port_security_and_security_groups(make_user: Any) -> None:
    user = make_user()
    net, _ = lan(user, "10.110.0.0/24")
    group = user.post("/security-groups", {"security_group": {"name": unique("sg")}}
                      ).json()["security_group"]
    named = port(user, net, security_groups=[group["id"]])
    assert named["security_groups"] == [group["id"]]
    none = port(user, net, security_groups=[])
    assert none["security_groups"] == [] and none["port_security_enabled"] is True
    error(user.post("/ports", {"port": {"network_id": net["id"], "security_groups": [ZERO]}}),
          404, "SecurityGroupNotFound")
    # groups without port security are refused; without either, neither is kept
    r = user.post("/ports", {"port": {"network_id": net["id"], "port_security_enabled": False,
                                      "security_groups": [group["id"]]}})
    error(r, 400, "PortSecurityAndIPRequiredForSecurityGroups")
    open_port = port(user, net, port_security_enabled=False)
    assert open_port["security_groups"] == [] and open_port["port_security_enabled"] is False
    # turning port security off while groups remain is refused; with them removed it works
    path = f"/ports/{named['id']}"
    error(user.put(path, {"port": {"port_security_enabled": False}}), 409,
          "PortSecurityPortHasSecurityGroup")
    r = user.put(path, {"port": {"port_security_enabled": False, "security_groups": []}})
    assert r.json()["port"]["port_security_enabled"] is False
    error(user.put(path, {"port": {"security_groups": [group["id"]]}}), 400,
          "PortSecurityAndIPRequiredForSecurityGroups")
    r = user.put(path, {"port": {"port_security_enabled": True,
                                 "security_groups": [group["id"]]}})
    assert r.json()["port"]["security_groups"] == [group["id"]]
    by_group = user.get("/ports", params={"security_groups": group["id"]}).json()["ports"]
    assert [p["id"] for p in by_group] == [named["id"]]
    # a network without port security gives its ports none; the network's own ports
    # (network:*) never get groups
    r = user.post("/networks", {"network": {"name": unique("open"),
                                            "port_security_enabled": False}})
    plain = r.json()["network"]
    add_subnet(user, plain, "10.111.0.0/24")
    assert port(user, plain)["port_security_enabled"] is False
    dhcp = port(user, net, device_owner="network:dhcp")
    assert dhcp["security_groups"] == []
    # another project's group is not usable
    other = make_user()
    theirs = other.post("/security-groups", {"security_group": {"name": unique("sg")}}
                        ).json()["security_group"]
    error(user.post("/ports", {"port": {"network_id": net["id"],
                                        "security_groups": [theirs["id"]]}}),
          404, "SecurityGroupNotFound")
    # deleting a group a port uses is refused
    error(user.delete(f"/security-groups/{group['id']}"), 409)


def test_allowed_address_pairs(make_user: Any) -> None:
    user = make_user()
    net, _ = lan(user, "10.120.0.0/24")
    made = port(user, net, allowed_address_pairs=[
        {"ip_address": "10.120.0.100"},
        {"ip_address": "10.120.0.128/25", "mac_address": "fa:16:3e:11:22:33"}])
    assert made["allowed_address_pairs"] == [
        {"ip_address": "10.120.0.100", "mac_address": made["mac_address"]},
        {"ip_address": "10.120.0.128/25", "mac_address": "fa:16:3e:11:22:33"}]
    path = f"/ports/{made['id']}"
    r = user.put(path, {"port": {"allowed_address_pairs": [{"ip_address": "2001:db8::/64"}]}})
    assert r.json()["port"]["allowed_address_pairs"] == [
        {"ip_address": "2001:db8::/64", "mac_address": made["mac_address"]}]
    error(user.put(path, {"port": {"port_security_enabled": False, "security_groups": []}}),
          409, "AddressPairAndPortSecurityRequired")
    r = user.post("/ports", {"port": {"network_id": net["id"], "port_security_enabled": False,
                                      "allowed_address_pairs": [{"ip_address": "10.0.0.1"}]}})
    error(r, 409, "AddressPairAndPortSecurityRequired")
    before = count_ports(user, net)
    for pairs, kind in (
            ([{"ip_address": "10.0.0.1"}, {"ip_address": "10.0.0.1"}],
             "DuplicateAddressPairInRequest"),
            ([{"mac_address": "fa:16:3e:11:22:33"}], "AllowedAddressPairsMissingIP"),
            ([{"ip_address": "224.0.0.5"}], "HTTPBadRequest"),
            ([{"ip_address": "10.0.0.1", "mac_address": "01:00:5e:00:00:01"}],
             "HTTPBadRequest"),
            ([{"ip_address": "10.0.0.999"}], "HTTPBadRequest"),
            ([{"ip_address": "10.0.0.1", "colour": "red"}], "HTTPBadRequest"),
            ([{"ip_address": f"10.0.1.{i}"} for i in range(11)], "AllowedAddressPairExhausted"),
            ("10.0.0.1", "HTTPBadRequest")):
        r = user.post("/ports", {"port": {"network_id": net["id"],
                                          "allowed_address_pairs": pairs}})
        error(r, 400, kind)
    assert count_ports(user, net) == before


def test_extra_dhcp_opts_and_dns_name(make_user: Any) -> None:
    user = make_user()
    net, _ = lan(user, "10.130.0.0/24")
    made = port(user, net, dns_name="Web-1", extra_dhcp_opts=[
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
        {"opt_name": "tftp-server", "opt_value": "10.130.0.5", "ip_version": 4}])
    assert made["dns_name"] == "web-1"
    address = made["fixed_ips"][0]["ip_address"]
    assert made["dns_assignment"] == [{"ip_address": address, "hostname": "web-1",
                                       "fqdn": "web-1.openstacklocal."}]
    assert made["extra_dhcp_opts"] == [
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4},
        {"opt_name": "tftp-server", "opt_value": "10.130.0.5", "ip_version": 4}]
    # an update changes the options it names and removes those set to null
    path = f"/ports/{made['id']}"
    r = user.put(path, {"port": {"extra_dhcp_opts": [
        {"opt_name": "bootfile-name", "opt_value": "grub.efi"},
        {"opt_name": "tftp-server", "opt_value": None},
        {"opt_name": "server-ip-address", "opt_value": "10.130.0.6", "ip_version": 4}]}})
    opts = {o["opt_name"]: o["opt_value"] for o in r.json()["port"]["extra_dhcp_opts"]}
    assert opts == {"bootfile-name": "grub.efi", "server-ip-address": "10.130.0.6"}
    r = user.put(path, {"port": {"dns_name": ""}})
    assert r.json()["port"]["dns_assignment"][0]["hostname"] == \
        f"host-{address.replace('.', '-')}"
    before = count_ports(user, net)
    for body in ({"dns_name": "-bad-"}, {"dns_name": "a..b"}, {"dns_name": "under_score"},
                 {"dns_name": "x" * 64}, {"dns_name": "host.123"},
                 {"extra_dhcp_opts": [{"opt_name": "x"}]},
                 {"extra_dhcp_opts": [{"opt_name": "x", "opt_value": "y", "ip_version": 5}]},
                 {"extra_dhcp_opts": [{"opt_name": "", "opt_value": "y"}]},
                 {"extra_dhcp_opts": "bootfile-name"}):
        error(user.post("/ports", {"port": {"network_id": net["id"], **body}}), 400)
    assert count_ports(user, net) == before


def test_list_filters_fields_sort_and_pages(make_user: Any) -> None:
    user = make_user()
    net, subnet = lan(user, "10.140.0.0/24")
    other = add_subnet(user, net, "10.141.0.0/24")
    a = port(user, net, name="a", fixed_ips=[{"ip_address": "10.140.0.101"}],
             device_owner="compute:nova", device_id="server-1")
    b = port(user, net, name="b", fixed_ips=[{"ip_address": "10.140.0.110"}])
    c = port(user, net, name="c", fixed_ips=[{"ip_address": "10.141.0.102"}],
             admin_state_up=False)

    def ids(**params: Any) -> list[str]:
        r = user.get("/ports", params={"network_id": net["id"], **params})
        assert r.status_code == 200, r.text
        return sorted(p["id"] for p in r.json()["ports"])

    assert ids(fixed_ips="ip_address=10.140.0.101") == [a["id"]]
    assert ids(fixed_ips=f"subnet_id={other['id']}") == [c["id"]]
    assert ids(fixed_ips=["ip_address=10.140.0.101", f"subnet_id={subnet['id']}"]) == [a["id"]]
    assert ids(fixed_ips="ip_address_substr=10.140.0.1") == sorted([a["id"], b["id"]])
    assert ids(fixed_ips="ip_address_substr=10.14") == sorted([a["id"], b["id"], c["id"]])
    assert ids(device_owner="compute:nova") == [a["id"]]
    assert ids(device_id="server-1") == [a["id"]]
    assert ids(admin_state_up="false") == [c["id"]]
    assert ids(mac_address=b["mac_address"].upper()) == [b["id"]]
    assert ids(status="DOWN") == sorted([a["id"], b["id"], c["id"]])
    assert ids(name=["a", "c"]) == sorted([a["id"], c["id"]])
    error(user.get("/ports", params={"fixed_ips": "colour=red"}), 400)
    error(user.get("/ports", params={"no_such_attribute": "x"}), 400)
    r = user.get("/ports", params={"network_id": net["id"], "fields": ["id", "fixed_ips"],
                                   "sort_key": "name", "sort_dir": "desc"})
    listed = r.json()["ports"]
    assert [p["id"] for p in listed] == [c["id"], b["id"], a["id"]]
    assert all(set(p) == {"id", "fixed_ips"} for p in listed)
    pages = list(user.conn.network.ports(network_id=net["id"], limit=2))
    assert sorted(p.id for p in pages) == sorted([a["id"], b["id"], c["id"]])
    shown = user.get(f"/ports/{a['id']}", params={"fields": "name"}).json()["port"]
    assert shown == {"name": "a"}


def test_tags_and_if_match(make_user: Any) -> None:
    user = make_user()
    net, _ = lan(user, "10.150.0.0/24")
    made = port(user, net, tags=["blue", "green"])
    assert made["tags"] == ["blue", "green"]
    path = f"/ports/{made['id']}/tags"
    assert user.put(f"{path}/red", None).status_code == 201
    assert user.get(path).json()["tags"] == ["blue", "green", "red"]
    found = user.get("/ports", params={"tags": "blue,red"}).json()["ports"]
    assert [p["id"] for p in found] == [made["id"]]
    user.conn.network.set_tags(user.conn.network.get_port(made["id"]), ["sdk"])
    assert user.conn.network.get_port(made["id"]).tags == ["sdk"]
    revision = user.get(f"/ports/{made['id']}").json()["port"]["revision_number"]
    stale = user.put(f"/ports/{made['id']}", {"port": {"name": "x"}},
                     headers={"If-Match": f"revision_number={revision - 1}"})
    error(stale, 412, "RevisionNumberConstraintFailed")
    r = user.put(f"/ports/{made['id']}", {"port": {"name": "x"}},
                 headers={"If-Match": f"revision_number={revision}"})
    assert r.status_code == 200 and r.json()["port"]["revision_number"] == revision + 1


def test_port_quota(make_user: Any, cloud: Cloud) -> None:
    user = make_user()
    net, _ = lan(user, "10.160.0.0/24")
    set_port_quota(cloud, user.project_id, 2)
    port(user, net)
    r = user.post("/ports", {"ports": [{"network_id": net["id"]}, {"network_id": net["id"]}]})
    error(r, 409, "OverQuota")
    assert count_ports(user, net) == 1
    second = port(user, net)
    error(user.post("/ports", {"port": {"network_id": net["id"]}}), 409, "OverQuota")
    assert user.delete(f"/ports/{second['id']}").status_code == 204
    assert port(user, net)


def test_router_ports_are_not_deleted_directly(admin_neutron: Neutron) -> None:
    net, subnet = lan(admin_neutron, "10.170.0.0/24")
    orphan = port(admin_neutron, net, device_owner="network:router_interface",
                  device_id=ZERO)
    # the router it names does not exist: the port may go
    assert admin_neutron.delete(f"/ports/{orphan['id']}").status_code == 204
    r = admin_neutron.post("/routers", {"router": {"name": unique("r")}})
    assert r.status_code == 201, r.text
    router = r.json()["router"]
    r = admin_neutron.put(f"/routers/{router['id']}/add_router_interface",
                          {"subnet_id": subnet["id"]})
    assert r.status_code == 200, r.text
    path = f"/ports/{r.json()['port_id']}"
    assert "cannot be deleted directly via the port API" in error(
        admin_neutron.delete(path), 409, "ServicePortInUse")
    # its address changes only through the router; its name is the port's
    r = admin_neutron.put(path, {"port": {"fixed_ips": [{"ip_address": "10.170.0.9"}]}})
    assert "IP updates for port" in error(r, 400, "BadRequest")
    assert admin_neutron.get(path).json()["port"]["fixed_ips"][0]["ip_address"] == "10.170.0.1"
    assert admin_neutron.put(path, {"port": {"name": "leg"}}).status_code == 200


def test_floating_ip_stays_when_its_port_goes(make_user: Any, admin_neutron: Neutron) -> None:
    ext = make_external(admin_neutron, "203.0.113.0/24")
    user = make_user()
    subnet = private_subnet(user, "10.180.0.0/24")
    r = user.post("/routers", {"router": {"name": unique("r"), "external_gateway_info": {
        "network_id": ext.network_id}}})
    assert r.status_code == 201, r.text
    router = r.json()["router"]
    r = user.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    assert r.status_code == 200, r.text
    made = port(user, {"id": subnet["network_id"]}, fixed_ips=[{"ip_address": "10.180.0.50"}])
    r = user.post("/floatingips", {"floatingip": {"floating_network_id": ext.network_id,
                                                  "port_id": made["id"]}})
    assert r.status_code == 201, r.text
    fip = r.json()["floatingip"]
    assert fip["fixed_ip_address"] == "10.180.0.50"
    # the address a floating IP leads to may not change under it
    r = user.put(f"/ports/{made['id']}", {"port": {"fixed_ips": [{"ip_address": "10.180.0.51"}]}})
    error(r, 400)
    assert user.delete(f"/ports/{made['id']}").status_code == 204
    kept = user.get(f"/floatingips/{fip['id']}").json()["floatingip"]
    assert kept["port_id"] is None and kept["fixed_ip_address"] is None
    assert kept["floating_ip_address"] == fip["floating_ip_address"]
    user.delete(f"/floatingips/{fip['id']}")
    user.put(f"/routers/{router['id']}/remove_router_interface", {"subnet_id": subnet["id"]})
    user.delete(f"/routers/{router['id']}")
    delete_external(admin_neutron, ext)
