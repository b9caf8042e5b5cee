"""Names of the Linux bridge driver's kernel objects, and their tags."""

from __future__ import annotations

from nubo.network.agent.linuxbridge import names
from nubo.network.agent.linuxbridge.devices import device_of
from nubo.network.agent.linuxbridge.names import Tag

NET = "6e0a3f52-94c1-4f0e-8b2a-3f1c2d4e5f60"
PORT = "0b1c2d3e-4f50-4a6b-9c7d-8e9fa0b1c2d3"


def test_device_names_are_neutrons_and_fit_in_fifteen_characters() -> None:
    assert names.bridge(NET) == "brq6e0a3f52-94"
    assert names.tap(PORT) == "tap0b1c2d3e-4f"
    assert names.dhcp_device(PORT) == "ns-0b1c2d3e-4f"
    assert names.router_interface(PORT) == "qr-0b1c2d3e-4f"
    assert names.router_gateway(PORT) == "qg-0b1c2d3e-4f"
    assert names.vxlan(16777215) == "vxlan-16777215"
    for name in (names.bridge(NET), names.tap(PORT), names.vxlan(16777215)):
        assert len(name) <= 15


def test_namespaces_carry_the_whole_id() -> None:
    assert names.dhcp_namespace(NET) == f"qdhcp-{NET}"
    assert names.router_namespace(NET) == f"qrouter-{NET}"


def test_vlan_devices_are_interface_dot_vid_and_shortened_uniquely() -> None:
    assert names.vlan("eth1", 100) == "eth1.100"
    long_a, long_b = names.vlan("enp0s31f6long", 4094), names.vlan("enp0s31f6lonG", 4094)
    assert len(long_a) == 15 and long_a.endswith(".4094")
    assert long_a != long_b


def test_tags_round_trip_and_foreign_aliases_are_not_tags() -> None:
    tag = Tag("ab12cd34", "net", NET, "0123456789abcdef0123")
    assert tag.render() == f"nubo:ab12cd34:net:{NET}:0123456789abcdef0123"
    assert Tag.parse(tag.render()) == tag
    assert Tag.parse(Tag("ab12cd34", "seg", NET).render()) == Tag("ab12cd34", "seg", NET)
    for alias in (None, "", "uplink to the lab", "nubo:only:three", "other:a:b:c:d"):
        assert Tag.parse(alias) is None


def test_device_monitor_lines() -> None:
    assert device_of("12: tap0b1c2d3e-4f: <BROADCAST,MULTICAST> mtu 1500 qdisc noop") \
        == "tap0b1c2d3e-4f"
    assert device_of("Deleted 12: tap0b1c2d3e-4f@if11: <BROADCAST> mtu 1450") \
        == "tap0b1c2d3e-4f"
    assert device_of("") is None
    assert device_of("    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff") is None
