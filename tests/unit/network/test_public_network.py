"""The all-in-one's public network: its addresses and the forwarding guard."""

from __future__ import annotations

from nubo.core.config import NetworkSettings
from nubo.network import public_network


def test_gateway_and_pool_of_the_public_cidr() -> None:
    gateway, first, last = public_network.addresses(NetworkSettings())
    assert str(gateway) == "172.24.4.1/24" and (first, last) == ("172.24.4.2", "172.24.4.254")


def test_guard_forwards_nothing_off_the_bridge() -> None:
    text = public_network.guard("br-ex", "ab12cd34")
    assert text.startswith("table inet nubo-ab12cd34-public {}\n"
                           "delete table inet nubo-ab12cd34-public\n")
    assert 'iifname "br-ex" oifname != "br-ex" drop' in text
    assert 'oifname "br-ex" iifname != "br-ex" drop' in text
