"""A server's network info built from networking's views: VIFs in attach order with
compute's own flags, and the ``addresses`` / ``ips`` views."""

from __future__ import annotations

from typing import Any

from nubo.compute import network_info as ni

NET = {"id": "n1", "name": "private", "mtu": 1450}


def port(pid: str, *ips: str, status: str = "ACTIVE", mac: str = "fa:16:3e:00:00:01",
         created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {"id": pid, "network_id": "n1", "mac_address": mac, "status": status,
            "fixed_ips": [{"subnet_id": "s1", "ip_address": ip} for ip in ips],
            "created_at": created}


def test_vif_of_a_port_with_a_floating_ip() -> None:
    fip = {"port_id": "p1", "fixed_ip_address": "10.0.0.5",
           "floating_ip_address": "203.0.113.7"}
    other = {"port_id": "p2", "fixed_ip_address": "10.0.0.5",
             "floating_ip_address": "203.0.113.8"}
    vif = ni.vif_of(port("p1", "10.0.0.5", "fd00::5"), NET, [fip, other],
                    preserve_on_delete=True, tag="eth0")
    assert vif["network"] == {"id": "n1", "label": "private", "mtu": 1450}
    assert vif["fixed_ips"] == [
        {"address": "10.0.0.5", "version": 4, "subnet_id": "s1",
         "floating_ips": ["203.0.113.7"]},
        {"address": "fd00::5", "version": 6, "subnet_id": "s1", "floating_ips": []}]
    assert vif["active"] is True and vif["preserve_on_delete"] is True
    assert vif["tag"] == "eth0" and vif["devname"] == "tapp1"


def test_assemble_keeps_attach_order_and_compute_flags() -> None:
    ports = [port("b", "10.0.0.2", created="2026-01-01T00:00:02Z"),
             port("a", "10.0.0.1", status="DOWN", created="2026-01-01T00:00:01Z"),
             port("c", "10.0.0.3", created="2026-01-01T00:00:00Z")]
    records = [{"port_id": "a", "preserve_on_delete": True, "tag": "first"},
               {"port_id": "b", "preserve_on_delete": False, "tag": None}]
    info = ni.assemble(ports, {"n1": NET}, [], records)
    assert ni.port_ids(info) == ["a", "b", "c"]          # unrecorded ports last
    assert [v["preserve_on_delete"] for v in info] == [True, False, False]
    assert info[0]["tag"] == "first"
    assert ni.inactive(info) == ["a"]


def test_addresses_fixed_then_floating_per_network() -> None:
    fip = {"port_id": "p1", "fixed_ip_address": "10.0.0.5",
           "floating_ip_address": "203.0.113.7"}
    info = ni.assemble([port("p1", "10.0.0.5")], {"n1": NET}, [fip], [])
    mac = "fa:16:3e:00:00:01"
    assert ni.addresses(info) == {"private": [
        {"version": 4, "addr": "10.0.0.5", "OS-EXT-IPS:type": "fixed",
         "OS-EXT-IPS-MAC:mac_addr": mac},
        {"version": 4, "addr": "203.0.113.7", "OS-EXT-IPS:type": "floating",
         "OS-EXT-IPS-MAC:mac_addr": mac}]}
    assert ni.ips(info) == {"private": [{"version": 4, "addr": "10.0.0.5"},
                                        {"version": 4, "addr": "203.0.113.7"}]}


def test_no_ports_no_addresses() -> None:
    assert ni.addresses([]) == {} and ni.ips([]) == {} and ni.inactive([]) == []
