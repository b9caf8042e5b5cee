"""A router's NAT ruleset, rendered from its state."""

from __future__ import annotations

from dataclasses import replace

from nubo.network.agent.linuxbridge import nat
from nubo.network.agent.state import FixedIp, FloatingIp, PortForwarding, Route, Router, RouterPort

GW = RouterPort("gwport0000000", "ext", "fa:16:3e:00:00:0a",
                (FixedIp("ext-sub", "172.24.4.10", "172.24.4.0/24"),), 1500)
QR = RouterPort("ifport0000000", "net", "fa:16:3e:00:00:01",
                (FixedIp("sub", "10.0.0.1", "10.0.0.0/24"),), 1450)
ROUTER = Router("r1", True, True, GW, ("172.24.4.1",), (QR,), (Route("10.9.0.0/16", "10.0.0.9"),),
                (FloatingIp("f1", "172.24.4.20", "10.0.0.5", "p5"),), ())


def test_floating_ips_are_one_to_one_and_inside_subnets_are_snatted() -> None:
    pre, out, post = nat.rules(ROUTER, metadata=False)
    assert pre == ["ip daddr 172.24.4.20 dnat to 10.0.0.5"]
    assert out == ["ip daddr 172.24.4.20 dnat to 10.0.0.5"]
    assert post == [
        'ct status dnat oifname "qr-*" ip saddr 10.0.0.0/24 masquerade',
        'oifname "qg-gwport00000" ip saddr 10.0.0.5 snat to 172.24.4.20',
        'oifname "qg-gwport00000" ip saddr 10.0.0.0/24 snat to 172.24.4.10']


def test_no_snat_without_enable_snat_or_gateway() -> None:
    _, _, post = nat.rules(replace(ROUTER, enable_snat=False), metadata=False)
    assert not any("snat to 172.24.4.10" in r for r in post)
    _, _, post = nat.rules(replace(ROUTER, gateway=None, floating_ips=()), metadata=False)
    assert post == ['ct status dnat oifname "qr-*" ip saddr 10.0.0.0/24 masquerade']


def test_metadata_is_redirected_to_the_proxy_from_inside_only() -> None:
    pre, _, _ = nat.rules(ROUTER, metadata=True)
    assert pre[0] == ('iifname "qr-*" ip daddr 169.254.169.254 tcp dport 80 '
                      "redirect to :9697")
    pre, _, _ = nat.rules(replace(ROUTER, interfaces=()), metadata=True)
    assert not any("169.254.169.254" in r for r in pre)


def test_port_forwardings_map_port_by_port() -> None:
    pf = PortForwarding("pf", "f2", "172.24.4.30", "tcp", "10.0.0.6", 8000, 8001, 18000, 18001)
    pre, _, _ = nat.rules(replace(ROUTER, floating_ips=(), port_forwardings=(pf,)),
                          metadata=False)
    assert pre == ["ip daddr 172.24.4.30 tcp dport 18000 dnat to 10.0.0.6:8000",
                   "ip daddr 172.24.4.30 tcp dport 18001 dnat to 10.0.0.6:8001"]


def test_render_replaces_the_table_in_one_transaction() -> None:
    text = nat.render(ROUTER, metadata=False)
    assert text.startswith("table ip nubo {}\ndelete table ip nubo\ntable ip nubo {\n")
    assert "type nat hook prerouting priority dstnat; policy accept;" in text
    assert "type nat hook postrouting priority srcnat; policy accept;" in text
    assert nat.gateway_address(ROUTER) == "172.24.4.10"
