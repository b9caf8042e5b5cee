"""Floating IPs and their port forwardings through openstacksdk, the `openstack` CLI
and raw HTTP: allocation from external networks only, association through a router
with a gateway on that network and an interface on the port's subnet, the port's
deletion disassociating, isolation, and bad input leaving nothing half-made."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.network.l3 import (
    External,
    external,
    make_external,
    ports_on,
    private_subnet,
)
from tests.functional.network.neutron import Neutron, error, unique
from tests.functional.network.test_routers import usage

__all__ = ["external"]
ZERO = "00000000-0000-0000-0000-000000000000"


@dataclass
class Site:
    """A project's subnet behind a router with a gateway on the external network."""

    user: Neutron
    subnet: dict[str, Any]
    router_id: str
    external: External

    def port(self, **extra: Any) -> dict[str, Any]:
        r = self.user.post("/ports", {"port": {"network_id": self.subnet["network_id"],
                                               **extra}})
        assert r.status_code == 201, r.text
        port: dict[str, Any] = r.json()["port"]
        return port


def wait_status(user: Neutron, fip_id: str, status: str) -> dict[str, Any]:
    """The floating IP once its status is ``status`` (the L3 agent sets it)."""
    deadline = time.monotonic() + 30
    while True:
        fip: dict[str, Any] = user.get(f"/floatingips/{fip_id}").json()["floatingip"]
        if fip["status"] == status or time.monotonic() > deadline:
            assert fip["status"] == status, fip
            return fip
        time.sleep(0.2)


@pytest.fixture
def site(make_user: Any, admin_neutron: Neutron, external: External) -> Iterator[Site]:
    user = make_user()
    subnet = private_subnet(user, "10.30.0.0/24")
    router = user.post("/routers", {"router": {"name": unique("r"), "external_gateway_info": {
        "network_id": external.network_id}}}).json()["router"]
    r = user.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    assert r.status_code == 200, r.text
    yield Site(user, subnet, router["id"], external)
    for fip in admin_neutron.get("/floatingips", params={
            "floating_network_id": external.network_id}).json()["floatingips"]:
        for pf in admin_neutron.get(f"/floatingips/{fip['id']}/port_forwardings"
                                    ).json()["port_forwardings"]:
            admin_neutron.delete(f"/floatingips/{fip['id']}/port_forwardings/{pf['id']}")
        admin_neutron.delete(f"/floatingips/{fip['id']}")
    admin_neutron.put(f"/routers/{router['id']}/remove_router_interface",
                      {"subnet_id": subnet["id"]})
    admin_neutron.delete(f"/routers/{router['id']}")


def test_sdk_allocate_associate_disassociate(site: Site, admin_neutron: Neutron) -> None:
    conn = site.user.conn
    port = site.port(name="vm")
    fip = conn.network.create_ip(floating_network_id=site.external.network_id,
                                 description="web")
    assert fip.status == "DOWN" and fip.port_id is None and fip.router_id is None
    assert fip.floating_ip_address.startswith("198.51.100.")
    assert fip.project_id == site.user.project_id and fip.revision_number == 0
    [own] = ports_on(admin_neutron, device_id=fip.id)
    assert own["device_owner"] == "network:floatingip" and own["project_id"] == ""
    assert own["fixed_ips"][0]["ip_address"] == fip.floating_ip_address
    fip = conn.network.update_ip(fip, port_id=port["id"])
    assert fip.port_id == port["id"] and fip.router_id == site.router_id
    assert fip.fixed_ip_address == port["fixed_ips"][0]["ip_address"]
    wait_status(site.user, fip.id, "ACTIVE")     # once the L3 side has applied it
    details = conn.network.get_ip(fip.id).port_details
    assert details["device_owner"] == "" and details["network_id"] == site.subnet["network_id"]
    assert set(details) == {"name", "network_id", "mac_address", "admin_state_up", "status",
                            "device_id", "device_owner"}
    assert [f.id for f in conn.network.ips(port_id=port["id"])] == [fip.id]
    # the fixed IP a floating IP leads to is the router's reason to keep its interface
    error(site.user.put(f"/routers/{site.router_id}/remove_router_interface",
                        {"subnet_id": site.subnet["id"]}), 409,
          "RouterInterfaceInUseByFloatingIP")
    error(site.user.put(f"/routers/{site.router_id}", {"router": {
        "external_gateway_info": None}}), 409, "RouterExternalGatewayInUseByFloatingIp")
    fip = conn.network.update_ip(fip, port_id=None)
    assert fip.port_id is None and fip.fixed_ip_address is None and fip.router_id is None
    assert fip.status == "DOWN" and conn.network.get_ip(fip.id).port_details is None
    conn.network.delete_ip(fip)
    assert ports_on(admin_neutron, device_id=fip.id) == []
    assert conn.network.find_ip(fip.id) is None


def test_cli_create_set_unset_delete(cloud: Cloud, site: Site) -> None:
    port = site.port(name="cli-vm")
    fip = cloud.cli_json("floating", "ip", "create", "--project", site.user.project_id,
                         "--port", port["id"], site.external.network_id)
    try:
        assert fip["port_id"] == port["id"] and fip["router_id"] == site.router_id
        assert fip["project_id"] == site.user.project_id
        cloud.cli("floating", "ip", "unset", "--port", fip["id"])
        shown = cloud.cli_json("floating", "ip", "show", fip["id"])
        assert shown["port_id"] is None and shown["status"] == "DOWN"
        cloud.cli("floating", "ip", "set", "--port", port["id"], fip["id"])
        shown = cloud.cli_json("floating", "ip", "show", fip["floating_ip_address"])
        assert shown["port_id"] == port["id"]
        listed = cloud.cli_json("floating", "ip", "list", "--port", port["id"])
        assert [f["ID"] for f in listed] == [fip["id"]]
    finally:
        cloud.cli("floating", "ip", "delete", fip["id"])
    assert cloud.cli_json("floating", "ip", "list", "--port", port["id"]) == []


def test_a_floating_ip_stays_with_its_port(site: Site) -> None:
    conn = site.user.conn
    port = site.port()
    fip = conn.network.create_ip(floating_network_id=site.external.network_id,
                                 port_id=port["id"])
    assert fip.port_id == port["id"]
    # the port's address that the floating IP leads to may not change
    msg = error(site.user.put(f"/ports/{port['id']}", {"port": {"fixed_ips": [
        {"subnet_id": site.subnet["id"], "ip_address": "10.30.0.200"}]}}), 400)
    assert msg == (f"Bad port request: Cannot update the fixed_ips of the port {port['id']}, "
                   "because its original fixed_ip has been associated to a floating ip.")
    conn.network.delete_port(port["id"])
    kept = conn.network.get_ip(fip.id)
    assert kept.port_id is None and kept.fixed_ip_address is None and kept.router_id is None
    assert kept.floating_ip_address == fip.floating_ip_address


def test_association_rules(site: Site, make_user: Any, admin_neutron: Neutron) -> None:
    user = site.user
    ext = site.external.network_id
    port = site.port()
    first = user.post("/floatingips", {"floatingip": {"floating_network_id": ext,
                                                      "port_id": port["id"]}})
    assert first.status_code == 201, first.text
    # one floating IP per fixed address and external network
    msg = error(user.post("/floatingips", {"floatingip": {"floating_network_id": ext,
                                                          "port_id": port["id"]}}), 409,
                "FloatingIPPortAlreadyAssociated")
    assert port["fixed_ips"][0]["ip_address"] in msg
    # a subnet no router with a gateway on the network reaches: 404, nothing made
    lonely = private_subnet(user, "10.31.0.0/24")
    r = user.post("/ports", {"port": {"network_id": lonely["network_id"]}})
    far = r.json()["port"]
    before = len(ports_on(admin_neutron, network_id=ext))
    msg = error(user.post("/floatingips", {"floatingip": {
        "floating_network_id": ext, "port_id": far["id"]}}), 404,
        "ExternalGatewayForFloatingIPNotFound")
    assert msg == (f"External network {ext} is not reachable from subnet {lonely['id']}.  "
                   f"Therefore, cannot associate Port {far['id']} with a Floating IP.")
    assert len(ports_on(admin_neutron, network_id=ext)) == before
    # fixed_ip_address: must be the port's, needs the port, is needed with two
    second = site.port(fixed_ips=[{"subnet_id": site.subnet["id"]},
                                  {"subnet_id": site.subnet["id"]}])
    fip = user.post("/floatingips", {"floatingip": {"floating_network_id": ext}}
                    ).json()["floatingip"]
    path = f"/floatingips/{fip['id']}"
    msg = error(user.put(path, {"floatingip": {"port_id": second["id"]}}), 400)
    assert "has multiple fixed IPv4 addresses" in msg
    error(user.put(path, {"floatingip": {"port_id": second["id"],
                                         "fixed_ip_address": "10.30.0.254"}}), 400)
    error(user.put(path, {"floatingip": {"fixed_ip_address": "10.30.0.254"}}), 400)
    error(user.put(path, {"floatingip": {"port_id": ZERO}}), 404, "PortNotFound")
    addresses = [ip["ip_address"] for ip in second["fixed_ips"]]
    for address in addresses:
        r = user.put(path, {"floatingip": {"port_id": second["id"],
                                           "fixed_ip_address": address}})
        assert r.status_code == 200 and r.json()["floatingip"]["fixed_ip_address"] == address
    # another project neither sees the floating IP nor may lead its own to the port
    other = make_user()
    error(other.put(path, {"floatingip": {"port_id": None}}), 404, "FloatingIPNotFound")
    error(other.delete(path), 404, "FloatingIPNotFound")
    assert fip["id"] not in {f["id"] for f in other.get("/floatingips").json()["floatingips"]}
    error(other.post("/floatingips", {"floatingip": {"floating_network_id": ext,
                                                     "port_id": port["id"]}}), 404,
          "PortNotFound")
    assert other.get("/floatingips").json()["floatingips"] == []


def test_bad_input_and_policies(site: Site, make_user: Any, admin_neutron: Neutron) -> None:
    user = site.user
    ext = site.external.network_id
    before = {p["id"] for p in ports_on(admin_neutron, network_id=ext)}
    # a floating IP from a network that is not external
    msg = error(user.post("/floatingips", {"floatingip": {
        "floating_network_id": site.subnet["network_id"]}}), 400, "BadRequest")
    assert msg == (f"Bad floatingip request: Network {site.subnet['network_id']} is not a "
                   "valid external network.")
    error(user.post("/floatingips", {"floatingip": {"floating_network_id": ZERO}}), 404,
          "NetworkNotFound")
    error(user.post("/floatingips", {"floatingip": {}}), 400)
    error(user.post("/floatingips", {"floatingip": {"floating_network_id": "x"}}), 400)
    error(user.post("/floatingips", {"floatingip": {"floating_network_id": ext,
                                                    "fixed_ip_address": "10.30.0.9"}}), 400)
    error(user.post("/floatingips", {"floatingip": {"floating_network_id": ext,
                                                    "colour": "red"}}), 400)
    # choosing the address is the admin's (or the project manager's)
    error(user.post("/floatingips", {"floatingip": {
        "floating_network_id": ext, "floating_ip_address": "198.51.100.77"}}), 403)
    assert {p["id"] for p in ports_on(admin_neutron, network_id=ext)} == before
    r = admin_neutron.post("/floatingips", {"floatingip": {
        "floating_network_id": ext, "floating_ip_address": "198.51.100.77",
        "project_id": user.project_id}})
    assert r.status_code == 201, r.text
    assert r.json()["floatingip"]["floating_ip_address"] == "198.51.100.77"
    error(admin_neutron.post("/floatingips", {"floatingip": {
        "floating_network_id": ext, "floating_ip_address": "198.51.100.77"}}), 409)
    # a reader sees and changes nothing; the floating IP quota counts
    reader = make_user("reader", project_id=user.project_id)
    assert len(reader.get("/floatingips").json()["floatingips"]) == 1
    error(reader.post("/floatingips", {"floatingip": {"floating_network_id": ext}}), 403)
    error(reader.delete(f"/floatingips/{r.json()['floatingip']['id']}"), 403)
    assert usage(admin_neutron.cloud, user.project_id, "floatingip") == 1
    assert admin_neutron.delete(f"/floatingips/{r.json()['floatingip']['id']}"
                                ).status_code == 204
    assert usage(admin_neutron.cloud, user.project_id, "floatingip") == 0


def test_port_forwardings(site: Site, make_user: Any) -> None:
    user = site.user
    port = site.port()
    address = port["fixed_ips"][0]["ip_address"]
    fip = user.post("/floatingips", {"floatingip": {
        "floating_network_id": site.external.network_id}}).json()["floatingip"]
    base = f"/floatingips/{fip['id']}/port_forwardings"
    ssh = {"protocol": "tcp", "internal_port_id": port["id"], "internal_ip_address": address,
           "internal_port": 22, "external_port": 2222, "description": "ssh"}
    r = user.post(base, {"port_forwarding": ssh})
    assert r.status_code == 201, r.text
    made = r.json()["port_forwarding"]
    assert made["internal_port"] == 22 and made["external_port"] == 2222
    assert made["external_port_range"] == "2222:2222" and made["description"] == "ssh"
    shown = wait_status(user, fip["id"], "ACTIVE")
    assert shown["router_id"] == site.router_id and shown["port_id"] is None
    assert shown["port_forwardings"] == [{
        "id": made["id"], "internal_ip_address": address, "protocol": "tcp",
        "internal_port_id": port["id"], "internal_port": 22, "external_port": 2222}]
    # ranges, N to N
    web = {**ssh, "internal_port": None, "external_port": None, "description": "",
           "internal_port_range": "8000:8009", "external_port_range": "9000:9009"}
    r = user.post(base, {"port_forwarding": {k: v for k, v in web.items() if v is not None}})
    assert r.status_code == 201, r.text
    assert r.json()["port_forwarding"]["internal_port_range"] == "8000:8009"
    # collisions and malformed ports: 400, nothing made
    msg = error(user.post(base, {"port_forwarding": {**ssh, "internal_port": 23}}), 400)
    assert msg == ("Bad port_forwarding request: There is a port collision with the "
                   "external_port_range. The following ranges collide: 2222:2222 and "
                   "2222:2222.")
    error(user.post(base, {"port_forwarding": {**ssh, "external_port": 9005}}), 400)
    error(user.post(base, {"port_forwarding": {**ssh, "external_port": 2223}}), 400)
    error(user.post(base, {"port_forwarding": {**ssh, "external_port": 70000}}), 400)
    error(user.post(base, {"port_forwarding": {**ssh, "protocol": "http"}}), 400)
    error(user.post(base, {"port_forwarding": {**ssh, "internal_ip_address": "10.30.0.250",
                                               "external_port": 2224}}), 400)
    assert len(user.get(base).json()["port_forwardings"]) == 2
    # listing filters; the two that Neutron refuses
    assert [f["id"] for f in user.get(base, params={"external_port": 2222}).json()[
        "port_forwardings"]] == [made["id"]]
    error(user.get(base, params={"internal_port": 22}), 400,
          "PortForwardingNotSupportFilterField")
    # a floating IP that forwards ports is not also associated, nor deleted, and the port
    # it forwards to takes no floating IP of its own
    error(user.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}}),
          409, "FipInUseByPortForwarding")
    error(user.delete(f"/floatingips/{fip['id']}"), 409, "FipInUseByPortForwarding")
    # update, show, isolation
    r = user.put(f"{base}/{made['id']}", {"port_forwarding": {"external_port": 2200}})
    assert r.status_code == 200 and r.json()["port_forwarding"]["external_port"] == 2200
    assert user.get(f"{base}/{made['id']}").json()["port_forwarding"]["internal_port"] == 22
    other = make_user()
    error(other.get(base), 404, "FloatingIPNotFound")
    error(other.post(base, {"port_forwarding": ssh}), 404)
    reader = make_user("reader", project_id=user.project_id)
    assert reader.get(f"{base}/{made['id']}").status_code == 200
    error(reader.delete(f"{base}/{made['id']}"), 403)
    error(user.get(f"{base}/{ZERO}"), 404, "PortForwardingNotFound")
    # deleting the port forwarded to drops its forwardings
    spare = site.port()
    r = user.post(base, {"port_forwarding": {**ssh, "internal_port_id": spare["id"],
                                             "internal_ip_address":
                                                 spare["fixed_ips"][0]["ip_address"],
                                             "external_port": 3333}})
    assert r.status_code == 201, r.text
    assert user.delete(f"/ports/{spare['id']}").status_code == 204
    assert {f["external_port_range"] for f in user.get(base).json()["port_forwardings"]} == {
        "2200:2200", "9000:9009"}
    lone = user.post("/floatingips", {"floatingip": {
        "floating_network_id": site.external.network_id}}).json()["floatingip"]
    target = site.port()
    r = user.post(f"/floatingips/{lone['id']}/port_forwardings", {"port_forwarding": {
        **ssh, "internal_port_id": target["id"],
        "internal_ip_address": target["fixed_ips"][0]["ip_address"]}})
    assert r.status_code == 201, r.text
    assert user.get(f"/floatingips/{lone['id']}").json()["floatingip"]["router_id"] == \
        site.router_id
    assert user.delete(f"/ports/{target['id']}").status_code == 204
    assert user.get(f"/floatingips/{lone['id']}").json()["floatingip"]["router_id"] is None
    # the last forwarding gone, the floating IP leaves the router
    for item in user.get(base).json()["port_forwardings"]:
        assert user.delete(f"{base}/{item['id']}").status_code == 204
    shown = user.get(f"/floatingips/{fip['id']}").json()["floatingip"]
    assert shown["router_id"] is None and shown["status"] == "DOWN"
    assert user.delete(f"/floatingips/{fip['id']}").status_code == 204


def test_concurrent_associations_to_one_address(site: Site) -> None:
    user = site.user
    port = site.port()
    fips = [user.post("/floatingips", {"floatingip": {
        "floating_network_id": site.external.network_id}}).json()["floatingip"]
        for _ in range(6)]

    def associate(fip: dict[str, Any]) -> Any:
        return user.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}})

    with ThreadPoolExecutor(len(fips)) as pool:
        replies = list(pool.map(associate, fips))
    assert sorted(r.status_code for r in replies) == [200] + [409] * (len(fips) - 1)
    for r in replies:
        if r.status_code == 409:
            error(r, 409, "FloatingIPPortAlreadyAssociated")
    held = user.get("/floatingips", params={"port_id": port["id"]}).json()["floatingips"]
    assert len(held) == 1


def test_deleting_an_external_network_takes_its_unassociated_floating_ips(
        site: Site, admin_neutron: Neutron) -> None:
    user = site.user
    ext = make_external(admin_neutron, "203.0.113.0/24")
    fip = user.post("/floatingips", {"floatingip": {"floating_network_id": ext.network_id}}
                    ).json()["floatingip"]
    assert usage(admin_neutron.cloud, user.project_id, "floatingip") == 1
    assert admin_neutron.delete(f"/networks/{ext.network_id}").status_code == 204
    error(user.get(f"/floatingips/{fip['id']}"), 404, "FloatingIPNotFound")
    assert usage(admin_neutron.cloud, user.project_id, "floatingip") == 0
    # an associated one keeps its network in use
    port = site.port()
    held = user.post("/floatingips", {"floatingip": {
        "floating_network_id": site.external.network_id, "port_id": port["id"]}})
    assert held.status_code == 201, held.text
    error(admin_neutron.delete(f"/networks/{site.external.network_id}"), 409, "NetworkInUse")
    assert user.get(f"/floatingips/{held.json()['floatingip']['id']}").status_code == 200
