"""Layer 2: a bridge per network on each host that has its ports, joined by VXLAN
(VNI = the segmentation id, flooding to the other hosts' tunnel addresses), with
the network's MTU everywhere; taps put on the bridge when they come."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.network.conftest import HOST1, PHYSNET, Net
from tests.e2e.network.netlab import in_ns, links, wait_for


def status(conn: Any, port_id: str) -> str:
    return str(conn.network.get_port(port_id).status)


def flood_peers(ns: str | None, device: str) -> set[str]:
    out = in_ns(ns, "bridge", "-j", "fdb", "show", "dev", device).stdout
    return {e["dst"] for e in json.loads(out or "[]")
            if e.get("mac") == "00:00:00:00:00:00" and e.get("dst")}


def test_ports_on_two_hosts_talk_over_vxlan(net: Net) -> None:
    conn = net.conn()
    network = conn.network.create_network(name="nb-l2", port_security_enabled=False)
    bridge = "brq" + network.id[:11]
    vxlan = f"vxlan-{network.provider_segmentation_id}"
    try:
        p1 = conn.network.create_port(network_id=network.id, binding_host_id=net.host)
        p2 = conn.network.create_port(network_id=network.id, binding_host_id=HOST1)
        g1 = net.lab.guest("g1", p1.to_dict())
        g2 = net.lab.guest("g2", p2.to_dict(), host_ns=net.host1_ns)
        for p in (p1, p2):
            wait_for(f"port {p.id} ACTIVE", lambda p=p: status(conn, p.id) == "ACTIVE")
        for ns, tap, peer in ((None, g1.tap, net.host1_ip), (net.host1_ns, g2.tap, net.root_ip)):
            found = links(ns)
            assert found[bridge]["mtu"] == 1450
            assert found[vxlan]["master"] == bridge and found[vxlan]["mtu"] == 1450
            assert found[vxlan]["linkinfo"]["info_data"]["id"] == network.provider_segmentation_id
            assert found[tap]["master"] == bridge and found[tap]["mtu"] == 1450
            assert flood_peers(ns, vxlan) == {peer}
        g1.address("10.250.5.1/24")
        g2.address("10.250.5.2/24")
        assert g1.ping("10.250.5.2", count=2)
        conn.network.delete_port(p2)
        wait_for("tap off the bridge on fake-host-1",
                 lambda: links(net.host1_ns)[g2.tap].get("master") is None)
        wait_for("fake-host-1 drops the network",
                 lambda: not {bridge, vxlan} & set(links(net.host1_ns)))
        assert not g1.ping("10.250.5.2")
    finally:
        for p in conn.network.ports(network_id=network.id):
            conn.network.delete_port(p)
        conn.network.delete_network(network)
    wait_for("the bridge and its VXLAN device gone",
             lambda: bridge not in links() and vxlan not in links())


def test_port_is_up_once_its_tap_comes_and_down_when_it_goes(net: Net) -> None:
    conn = net.conn()
    network = conn.network.create_network(name="nb-l2-tap", port_security_enabled=False)
    try:
        port = conn.network.create_port(network_id=network.id, binding_host_id=net.host)
        bridge = "brq" + network.id[:11]
        wait_for("the bridge", lambda: bridge in links())
        assert status(conn, port.id) == "DOWN"      # no tap yet: not plugged
        guest = net.lab.guest("g3", port.to_dict())
        wait_for("port ACTIVE once its tap came", lambda: status(conn, port.id) == "ACTIVE")
        assert links()[guest.tap]["master"] == bridge
        in_ns(None, "ip", "link", "del", guest.tap)
        wait_for("port DOWN once its tap went", lambda: status(conn, port.id) == "DOWN")
    finally:
        for p in conn.network.ports(network_id=network.id):
            conn.network.delete_port(p)
        conn.network.delete_network(network)



def vlan_missing() -> str | None:
    probe = in_ns(None, "ip", "link", "add", "link", "lo", "name", "nbprobe.5", "type", "vlan",
                  "id", "5", check=False)
    if probe.returncode == 0:
        in_ns(None, "ip", "link", "del", "nbprobe.5", check=False)
        return None
    return f"the kernel cannot make 802.1Q VLAN devices: {probe.stderr.strip()}"


def provider_pair(net: Net, network: Any, cidr: str) -> None:
    """A port on each host of ``network``; their guests ping each other."""
    conn = net.conn()
    p1 = conn.network.create_port(network_id=network.id, binding_host_id=net.host)
    p2 = conn.network.create_port(network_id=network.id, binding_host_id=HOST1)
    g1 = net.lab.guest(f"{network.name[3:]}1", p1.to_dict())
    g2 = net.lab.guest(f"{network.name[3:]}2", p2.to_dict(), host_ns=net.host1_ns)
    for p in (p1, p2):
        wait_for("port ACTIVE", lambda p=p: status(conn, p.id) == "ACTIVE")
    g1.address(f"{cidr}.1/24")
    g2.address(f"{cidr}.2/24")
    assert g1.ping(f"{cidr}.2", count=2)


def drop(conn: Any, network: Any) -> None:
    for p in conn.network.ports(network_id=network.id):
        conn.network.delete_port(p)
    conn.network.delete_network(network)


def test_flat_network_on_the_physical_interface(net: Net) -> None:
    """A flat provider network: the mapped interface itself on each host's bridge;
    the hosts meet through the lab's switch."""
    conn = net.conn()
    physical = net.lab.name("phy")
    flat = conn.network.create_network(
        name="nb-flat", port_security_enabled=False, provider_network_type="flat",
        provider_physical_network=PHYSNET)
    bridge = "brq" + flat.id[:11]
    try:
        provider_pair(net, flat, "10.250.7")
        for ns in (None, net.host1_ns):
            assert links(ns)[physical]["master"] == bridge
            assert links(ns)[bridge]["mtu"] == 1500
    finally:
        drop(conn, flat)
    wait_for("the interface off the bridge, the bridge gone", lambda: (
        links()[physical].get("master") is None and bridge not in links()))


def test_vlan_network_on_a_sub_interface(net: Net) -> None:
    """A VLAN provider network: <interface>.<vid> on each host's bridge."""
    missing = vlan_missing()
    if missing:
        pytest.skip(missing)
    conn = net.conn()
    physical = net.lab.name("phy")
    vlan = conn.network.create_network(
        name="nb-vlan", port_security_enabled=False, provider_network_type="vlan",
        provider_physical_network=PHYSNET, provider_segmentation_id=142)
    try:
        provider_pair(net, vlan, "10.250.8")
        for ns in (None, net.host1_ns):
            found = links(ns)
            assert found[f"{physical}.142"]["master"] == "brq" + vlan.id[:11]
            assert found[f"{physical}.142"]["linkinfo"]["info_data"]["id"] == 142
    finally:
        drop(conn, vlan)
    wait_for("the VLAN device gone", lambda: f"{physical}.142" not in links())
