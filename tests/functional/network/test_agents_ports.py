"""The network agents through the API: a port bound to a host is plugged by that
host's agent and becomes ACTIVE, unbinding makes it DOWN; DHCP, routers, floating
IPs and security groups reach the hosts' data planes (the fake driver's recorded
state, one file per host); compute hears of its ports (``network-vif-plugged``…);
the agents are listed alive."""

from __future__ import annotations

import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nubo.network.agent import fake
from tests import conftest as root
from tests.cloud import Cloud, free_port
from tests.databases import database
from tests.functional.compute.servers import image_id
from tests.functional.network.neutron import Neutron, error, unique

__all__ = ["image_id"]

LOCAL = socket.gethostname()            # the all-in-one's network node
WAIT = 20.0


def poll(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def host_state(cloud: Cloud, host: str) -> dict[str, Any]:
    """What the fake network driver of ``host`` has applied."""
    for _ in range(20):                 # a file removed between listing and reading
        try:
            return fake.read_host(cloud.state_dir, host)
        except FileNotFoundError:
            time.sleep(0.05)
    raise AssertionError(f"unreadable state of {host}")


def applied(cloud: Cloud, host: str, kind: str, key: str) -> dict[str, Any] | None:
    item = host_state(cloud, host).get(kind, {}).get(key)
    return item["state"] if item else None


def port_status(conn: Any, port_id: str, status: str) -> Any:
    return poll(lambda: (p := conn.network.get_port(port_id)).status == status and p,
                f"port {port_id} {status}")


@pytest.fixture(scope="module")
def lan(cloud: Cloud) -> Iterator[tuple[Any, Any]]:
    """An admin network with a DHCP-enabled subnet."""
    conn = cloud.connect("nubo-admin")
    net = conn.network.create_network(name=unique("agent-net"))
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                        cidr="10.77.0.0/24", name=unique("agent-sub"),
                                        dns_nameservers=["10.77.0.53"])
    yield net, subnet
    for port in conn.network.ports(network_id=net.id):
        if not port.device_owner.startswith("network:"):
            conn.network.delete_port(port)
    conn.network.delete_network(net)


def test_bound_port_is_plugged_active_and_down_once_unbound(
        cloud: Cloud, admin_conn: Any, lan: tuple[Any, Any]) -> None:
    net, _ = lan
    port = admin_conn.network.create_port(network_id=net.id, name=unique("p"))
    try:
        assert port.status == "DOWN" and port.binding_host_id == ""
        assert applied(cloud, "fake-host-1", "ports", port.id) is None
        admin_conn.network.update_port(port, binding_host_id="fake-host-1")
        active = port_status(admin_conn, port.id, "ACTIVE")
        assert active.binding_vif_type == "bridge"
        plugged = applied(cloud, "fake-host-1", "ports", port.id)
        assert plugged is not None
        assert plugged["mac_address"] == port.mac_address and plugged["mtu"] == net.mtu
        assert [ip["ip_address"] for ip in plugged["fixed_ips"]] == \
            [port.fixed_ips[0]["ip_address"]]
        assert plugged["security_group_ids"] == sorted(port.security_group_ids)
        bridge = applied(cloud, "fake-host-1", "networks", net.id)
        assert bridge is not None and bridge["mtu"] == net.mtu
        assert bridge["segments"][0]["segmentation_id"] == net.provider_segmentation_id
        assert applied(cloud, "fake-host-2", "ports", port.id) is None
        # administratively down: DOWN, still plugged; up again: ACTIVE
        admin_conn.network.update_port(port, is_admin_state_up=False)
        port_status(admin_conn, port.id, "DOWN")
        admin_conn.network.update_port(port, is_admin_state_up=True)
        port_status(admin_conn, port.id, "ACTIVE")
        # unbound: unplugged, DOWN, and the host no longer needs the network
        admin_conn.network.update_port(port, binding_host_id="")
        port_status(admin_conn, port.id, "DOWN")
        poll(lambda: applied(cloud, "fake-host-1", "ports", port.id) is None, "unplugged")
        poll(lambda: applied(cloud, "fake-host-1", "networks", net.id) is None,
             "bridge removed")
    finally:
        admin_conn.network.delete_port(port)


def test_port_follows_its_binding_between_hosts(
        cloud: Cloud, admin_conn: Any, lan: tuple[Any, Any]) -> None:
    net, _ = lan
    port = admin_conn.network.create_port(network_id=net.id, binding_host_id="fake-host-1")
    try:
        port_status(admin_conn, port.id, "ACTIVE")
        revision = admin_conn.network.get_port(port.id).revision_number
        admin_conn.network.update_port(port, binding_host_id="fake-host-2")
        poll(lambda: applied(cloud, "fake-host-2", "ports", port.id), "plugged on host 2")
        poll(lambda: applied(cloud, "fake-host-1", "ports", port.id) is None,
             "unplugged from host 1")
        moved = port_status(admin_conn, port.id, "ACTIVE")
        assert moved.binding_host_id == "fake-host-2"
        assert moved.revision_number > revision + 1      # moved (DOWN), then ACTIVE
    finally:
        admin_conn.network.delete_port(port)
    poll(lambda: applied(cloud, "fake-host-2", "ports", port.id) is None, "unplugged on delete")


def test_dhcp_serves_the_ports_of_the_network(
        cloud: Cloud, admin_conn: Any, lan: tuple[Any, Any]) -> None:
    net, subnet = lan
    port = admin_conn.network.create_port(
        network_id=net.id, extra_dhcp_opts=[{"opt_name": "bootfile-name",
                                             "opt_value": "pxe.0"}])
    ip = port.fixed_ips[0]["ip_address"]

    def entry() -> dict[str, Any] | None:
        dhcp = applied(cloud, LOCAL, "dhcp", net.id) or {"hosts": []}
        return next((h for h in dhcp["hosts"] if h["port_id"] == port.id), None)

    try:
        host = poll(entry, "a DHCP reservation")
        assert host["mac_address"] == port.mac_address and host["ip_addresses"] == [ip]
        assert host["hostname"] == "host-" + ip.replace(".", "-")
        assert host["options"] == [{"name": "bootfile-name", "value": "pxe.0",
                                    "ip_version": 4}]
        dhcp = applied(cloud, LOCAL, "dhcp", net.id)
        assert dhcp is not None and dhcp["mtu"] == net.mtu
        assert dhcp["subnets"][0]["cidr"] == "10.77.0.0/24"
        assert dhcp["subnets"][0]["gateway_ip"] == "10.77.0.1"
        # the network node has the network's bridge for its DHCP server
        assert applied(cloud, LOCAL, "networks", net.id) is not None
        admin_conn.network.update_subnet(subnet, dns_nameservers=["10.77.0.54"])
        poll(lambda: (applied(cloud, LOCAL, "dhcp", net.id) or {}).get("subnets", [{}])[0]
             .get("dns_nameservers") == ["10.77.0.54"], "new DNS servers served")
    finally:
        admin_conn.network.delete_port(port)
    poll(lambda: entry() is None, "reservation gone with the port")


def test_network_without_dhcp_gets_no_dhcp(cloud: Cloud, admin_conn: Any) -> None:
    net = admin_conn.network.create_network(name=unique("nodhcp"))
    try:
        subnet = admin_conn.network.create_subnet(network_id=net.id, ip_version=4,
                                                  cidr="10.78.0.0/24", is_dhcp_enabled=False)
        port = admin_conn.network.create_port(network_id=net.id)
        admin_conn.network.update_subnet(subnet, is_dhcp_enabled=True)
        poll(lambda: applied(cloud, LOCAL, "dhcp", net.id), "DHCP once enabled")
        admin_conn.network.update_subnet(subnet, is_dhcp_enabled=False)
        poll(lambda: applied(cloud, LOCAL, "dhcp", net.id) is None, "DHCP once disabled")
        admin_conn.network.delete_port(port)
    finally:
        admin_conn.network.delete_network(net)
    poll(lambda: applied(cloud, LOCAL, "networks", net.id) is None, "bridge gone")


@pytest.fixture(scope="module")
def public(cloud: Cloud) -> Iterator[tuple[Any, Any]]:
    """An external network with a subnet (admin)."""
    conn = cloud.connect("nubo-admin")
    net = conn.network.create_network(name=unique("agent-public"), is_router_external=True)
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                        cidr="172.30.9.0/24", is_dhcp_enabled=False)
    yield net, subnet
    conn.network.delete_network(net)


def test_router_and_floating_ip_reach_the_l3_agent(
        cloud: Cloud, admin_conn: Any, lan: tuple[Any, Any],
        public: tuple[Any, Any]) -> None:
    net, subnet = lan
    ext, ext_subnet = public
    conn = admin_conn.network
    router = conn.create_router(name=unique("r"), external_gateway_info={"network_id": ext.id})
    conn.add_interface_to_router(router, subnet_id=subnet.id)
    port = conn.create_port(network_id=net.id, binding_host_id="fake-host-1")
    fip = conn.create_ip(floating_network_id=ext.id)
    try:
        assert fip.status == "DOWN"
        built = poll(lambda: (r := applied(cloud, LOCAL, "routers", router.id))
                     and r["interfaces"] and r["gateway"] and r, "router built")
        assert built["enable_snat"] is True
        assert built["external_gateways"] == [ext_subnet.gateway_ip]
        assert built["interfaces"][0]["fixed_ips"][0]["ip_address"] == subnet.gateway_ip
        legs = list(conn.ports(device_id=router.id))
        assert len(legs) == 2
        for leg in legs:
            port_status(admin_conn, leg.id, "ACTIVE")
        conn.update_ip(fip, port_id=port.id)
        nat = {"id": fip.id, "floating_ip_address": fip.floating_ip_address,
               "fixed_ip_address": port.fixed_ips[0]["ip_address"], "fixed_port_id": port.id}

        def carried() -> list[dict[str, Any]]:
            return list((applied(cloud, LOCAL, "routers", router.id) or {})["floating_ips"])

        poll(lambda: carried() == [nat] and conn.get_ip(fip.id).status == "ACTIVE",
             "floating IP applied and ACTIVE")
        conn.update_ip(fip, port_id=None)
        assert conn.get_ip(fip.id).status == "DOWN"
        poll(lambda: carried() == [], "floating IP removed")
        # a floating IP that only forwards ports is carried too
        forward = conn.create_port_forwarding(
            floatingip_id=fip.id, internal_port_id=port.id, protocol="tcp",
            internal_ip_address=port.fixed_ips[0]["ip_address"], internal_port=22,
            external_port=2222)
        poll(lambda: conn.get_ip(fip.id).status == "ACTIVE", "forwarding floating IP ACTIVE")
        [rule] = (applied(cloud, LOCAL, "routers", router.id) or {})["port_forwardings"]
        assert rule["floatingip_id"] == fip.id and rule["external_port_start"] == 2222
        conn.delete_port_forwarding(forward, fip.id)
    finally:
        conn.delete_ip(fip)
        conn.delete_port(port)
        conn.remove_interface_from_router(router, subnet_id=subnet.id)
        conn.delete_router(router)
    poll(lambda: applied(cloud, LOCAL, "routers", router.id) is None, "router removed")


def test_security_groups_reach_the_firewall_of_the_port_host(
        cloud: Cloud, make_user: Any) -> None:
    user: Neutron = make_user()
    conn = user.conn
    admin = cloud.connect("nubo-admin")
    net = conn.network.create_network(name=unique("fw"))
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.79.0.0/24")
    group = conn.network.create_security_group(name=unique("sg"))
    port = conn.network.create_port(network_id=net.id, security_group_ids=[group.id])
    other = conn.network.create_port(network_id=net.id, security_group_ids=[group.id])
    try:
        admin.network.update_port(port.id, binding_host_id="fake-host-2")
        port_status(admin, port.id, "ACTIVE")
        rule = conn.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", protocol="tcp",
            port_range_min=22, port_range_max=22, remote_group_id=group.id)

        def firewall() -> dict[str, Any]:
            return (host_state(cloud, "fake-host-2").get("firewall") or {}).get("state", {})

        def rule_there() -> bool:
            groups = {g["id"]: g for g in firewall().get("groups", [])}
            return rule.id in {r["id"] for r in groups.get(group.id, {}).get("rules", [])}

        poll(rule_there, "the rule in the host's firewall")
        members = firewall()["members"][group.id]
        assert {port.fixed_ips[0]["ip_address"], other.fixed_ips[0]["ip_address"]} \
            <= set(members)
        # a new member anywhere reaches the firewall; so does its going
        third = conn.network.create_port(network_id=net.id, security_group_ids=[group.id])
        address = third.fixed_ips[0]["ip_address"]
        poll(lambda: address in firewall()["members"][group.id], "new member in the set")
        conn.network.delete_port(third)
        poll(lambda: address not in firewall()["members"][group.id], "member gone")
        conn.network.delete_security_group_rule(rule)
        poll(lambda: not rule_there(), "the rule gone from the firewall")
    finally:
        conn.network.delete_port(port)
        conn.network.delete_port(other)
        conn.network.delete_security_group(group)
        conn.network.delete_network(net)


def test_members_cannot_bind_ports(cloud: Cloud, make_user: Any) -> None:
    user: Neutron = make_user()
    net = user.conn.network.create_network(name=unique("n"))
    port = user.conn.network.create_port(network_id=net.id)
    try:
        error(user.put(f"/ports/{port.id}", {"port": {"binding:host_id": "fake-host-1"}}), 403)
        time.sleep(0.3)
        assert applied(cloud, "fake-host-1", "ports", port.id) is None
        assert user.conn.network.get_port(port.id).status == "DOWN"
    finally:
        user.conn.network.delete_port(port)
        user.conn.network.delete_network(net)


def test_compute_hears_of_its_ports(cloud: Cloud, admin_conn: Any, image_id: str,
                                    lan: tuple[Any, Any]) -> None:
    """A server's port is bound to its host, plugged there and ACTIVE, and compute
    gets network-vif-plugged; deleting the port sends network-vif-deleted."""
    net, _ = lan
    server = admin_conn.compute.create_server(name=unique("vm"), image_id=image_id,
                                              flavor_id="1", networks=[{"uuid": net.id}])
    server = admin_conn.compute.wait_for_server(server, wait=60)
    try:
        [port] = list(admin_conn.network.ports(device_id=server.id))
        assert port.device_owner.startswith("compute:")
        assert port.binding_host_id == server.compute_host
        port_status(admin_conn, port.id, "ACTIVE")
        assert applied(cloud, server.compute_host, "ports", port.id) is not None

        def events() -> set[str]:
            actions = admin_conn.compute.get(
                f"/servers/{server.id}/os-instance-actions",
                microversion="2.84").json()["instanceActions"]
            create = next(a for a in actions if a["action"] == "create")
            shown = admin_conn.compute.get(
                f"/servers/{server.id}/os-instance-actions/{create['request_id']}",
                microversion="2.84").json()["instanceAction"]
            return {(e["event"], e.get("details")) for e in shown["events"]}

        plugged = ("compute_external_instance_event_network-vif-plugged", port.id)
        poll(lambda: plugged in events(), "network-vif-plugged recorded")
        admin_conn.network.delete_port(port)
        deleted = ("compute_external_instance_event_network-vif-deleted", port.id)
        poll(lambda: deleted in events(), "network-vif-deleted recorded")
        poll(lambda: applied(cloud, server.compute_host, "ports", port.id) is None,
             "unplugged")
    finally:
        admin_conn.compute.delete_server(server)
        admin_conn.compute.wait_for_delete(server, wait=60)


def test_agents_are_listed_alive(cloud: Cloud, admin_conn: Any) -> None:
    listed = cloud.cli_json("network", "agent", "list")
    by_kind = {(a["Agent Type"], a["Host"]): a for a in listed}
    for kind, binary in (("Linux bridge agent", "neutron-linuxbridge-agent"),
                         ("DHCP agent", "neutron-dhcp-agent"),
                         ("L3 agent", "neutron-l3-agent"),
                         ("Metadata agent", "neutron-metadata-agent")):
        agent = by_kind[(kind, LOCAL)]
        assert agent["Alive"] is True and agent["State"] is True
        assert agent["Binary"] == binary
    for host in ("fake-host-1", "fake-host-2"):
        assert by_kind[("Linux bridge agent", host)]["Alive"] is True
        assert ("DHCP agent", host) not in by_kind and ("L3 agent", host) not in by_kind
    dhcp = next(a for a in admin_conn.network.agents(agent_type="DHCP agent"))
    assert dhcp.availability_zone == "nova" and dhcp.topic == "dhcp_agent"
    assert "networks" in dhcp.configuration


@pytest.fixture(params=root.SELECTED)
def crashing_cloud(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    """A cloud of its own whose fake hosts plug ports slowly, and fake-host-2 not at all."""
    with tempfile.TemporaryDirectory(prefix="nubo-netagent-") as tmp:
        try:
            ctx = database(request.param, tmp)
            url = ctx.__enter__()
        except RuntimeError as e:
            pytest.skip(str(e))
        env = {**root.test_env(), "NUBO_NETWORK__FAKE_DELAYS": '{"plug_port": 1.0}',
               "NUBO_NETWORK__FAKE_FAILURES": '{"plug_port": ["fake-host-2"]}'}
        c = Cloud(Path(tmp) / "state", free_port(), url, env=env)
        try:
            c.start()
            yield c
        finally:
            c.stop()
            ctx.__exit__(None, None, None)


def _edit_host(cloud: Cloud, host: str, change: Callable[[dict[str, Any]], None]) -> None:
    data = fake.read_host(cloud.state_dir, host)
    change(data)
    fake.write_host(cloud.state_dir, host, data)


def test_agents_reconcile_after_a_crash(crashing_cloud: Cloud) -> None:
    cloud = crashing_cloud
    conn = cloud.connect("nubo-admin")
    net = conn.network.create_network(name=unique("crash"))
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.90.0.0/24")
    kept = conn.network.create_port(network_id=net.id, binding_host_id="fake-host-1")
    port_status(conn, kept.id, "ACTIVE")
    # a host that cannot plug: ERROR, nothing recorded there
    broken = conn.network.create_port(network_id=net.id, binding_host_id="fake-host-2")
    port_status(conn, broken.id, "ERROR")
    assert applied(cloud, "fake-host-2", "ports", broken.id) is None
    # killed while the agent plugs a port
    late = conn.network.create_port(network_id=net.id)
    conn.network.update_port(late, binding_host_id="fake-host-1")
    time.sleep(0.3)
    assert conn.network.get_port(late.id).status == "DOWN"      # still plugging
    cloud.stop(signal.SIGKILL)
    # while it is down, the host loses a tap and gains things nobody wants
    orphan_port = {"digest": "x", "state": {"network_id": net.id}}
    orphan_net = {"digest": "x", "state": {}}

    def tamper(data: dict[str, Any]) -> None:
        data["ports"].pop(kept.id)
        data["ports"]["orphan-port"] = orphan_port
        data["networks"]["orphan-net"] = orphan_net

    _edit_host(cloud, "fake-host-1", tamper)
    _edit_host(cloud, LOCAL, lambda d: d["routers"].update(
        {"orphan-router": {"digest": "x", "state": {"gateway": None, "interfaces": [],
                                                    "floating_ips": [],
                                                    "port_forwardings": []}}}))
    cloud.start()
    conn = cloud.connect("nubo-admin")
    port_status(conn, late.id, "ACTIVE")
    poll(lambda: applied(cloud, "fake-host-1", "ports", kept.id), "lost tap plugged again")
    state = host_state(cloud, "fake-host-1")
    assert set(state["ports"]) == {kept.id, late.id}
    assert set(state["networks"]) == {net.id}
    assert "orphan-router" not in host_state(cloud, LOCAL)["routers"]
    assert conn.network.get_port(kept.id).status == "ACTIVE"
    assert conn.network.get_port(broken.id).status == "ERROR"
    # one row per agent and host, however often they started
    rows = cloud.sql("SELECT agent_type, host, COUNT(*) FROM network_agents "
                     "GROUP BY agent_type, host")
    assert rows and all(count == 1 for _, _, count in rows)
    assert ("Linux bridge agent", "fake-host-1", 1) in [tuple(r) for r in rows]
