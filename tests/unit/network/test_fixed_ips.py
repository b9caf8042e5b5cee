"""Which addresses a port gets: Neutron's rules as plans of wants."""

from __future__ import annotations

import ipaddress

import pytest

from nubo.core.errors import BadRequest, Conflict
from nubo.network.fixed_ips import (
    Held,
    Subnet,
    Want,
    default_wants,
    eligible,
    is_eui64,
    requested_wants,
    update_plan,
)
from nubo.network.pools import IpRange
from nubo.network.port_attributes import FixedIp

MAC = "fa:16:3e:00:00:01"
EUI = ipaddress.ip_address("2001:db8:1::f816:3eff:fe00:1")


def subnet(ident: str, cidr: str, *, auto: bool = False, types: tuple[str, ...] = ()
           ) -> Subnet:
    network = ipaddress.ip_network(cidr)
    first, last = network.network_address + 2, network.broadcast_address - 1
    return Subnet(ident, network, (IpRange(first, last),), auto, types)


V4A, V4B = subnet("a", "10.0.0.0/24"), subnet("b", "10.0.1.0/24")
SLAAC = subnet("s", "2001:db8:1::/64", auto=True)
STATEFUL = subnet("f", "2001:db8:2::/64")
ALL = [V4A, V4B, SLAAC, STATEFUL]


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_default_one_v4_one_stateful_v6_and_every_eui64() -> None:
    assert default_wants(ALL, "", MAC) == [Want(("a", "b")), Want(("f",)), Want(("s",), EUI)]


def test_router_interfaces_get_no_eui64() -> None:
    assert default_wants(ALL, "network:router_interface", MAC) == [Want(("a", "b")),
                                                                    Want(("f",))]


def test_service_types() -> None:
    dhcp_only = subnet("d", "10.0.9.0/24", types=("network:dhcp",))
    assert [s.id for s in eligible([V4A, dhcp_only], "network:dhcp", "n")] == ["d", "a"]
    assert [s.id for s in eligible([V4A, dhcp_only], "compute:nova", "n")] == ["a"]
    with pytest.raises(Conflict) as err:
        eligible([dhcp_only], "compute:nova", "net-1")
    assert err.value.details["type"] == "IpAddressGenerationFailureNoMatchingSubnet"
    assert eligible([], "compute:nova", "n") == []


def test_requested_entries() -> None:
    wants = requested_wants([FixedIp("b"), FixedIp(None, ip("10.0.0.7"))], ALL, "n", "", MAC)
    assert wants == [Want(("b",)), Want(("a",), ip("10.0.0.7")), Want(("s",), EUI)]
    # the EUI-64 address asked for is not added twice
    assert requested_wants([FixedIp("s", EUI)], ALL, "n", "", MAC) == [Want(("s",), EUI)]
    # an empty list still gets the SLAAC address, as in Neutron
    assert requested_wants([], ALL, "n", "", MAC) == [Want(("s",), EUI)]


@pytest.mark.parametrize("entry, kind", [
    (FixedIp("a", ip("10.0.1.5")), "InvalidIpForSubnet"),
    (FixedIp("a", ip("10.0.0.255")), "InvalidIpForSubnet"),
    (FixedIp(None, ip("192.168.0.1")), "InvalidIpForNetwork"),
    (FixedIp("zzz"), "InvalidInput"),
    (FixedIp("s", ip("2001:db8:1::5")), "AllocationOnAutoAddressSubnet"),
])
def test_requested_refused(entry: FixedIp, kind: str) -> None:
    with pytest.raises(BadRequest) as err:
        requested_wants([entry], ALL, "n", "", MAC)
    assert err.value.details["type"] == kind


def test_no_subnets_for_requested_entries() -> None:
    with pytest.raises(BadRequest, match="IP allocation requires subnets for network"):
        requested_wants([FixedIp(None, ip("10.0.0.5"))], [], "n", "", MAC)


def test_update_keeps_named_removes_others_adds_new() -> None:
    held = [Held("a", "10.0.0.5"), Held("a", "10.0.0.6"), Held("s", str(EUI))]
    plan = update_plan(held, [FixedIp(None, ip("10.0.0.5")), FixedIp("b")], ALL, "n", "", MAC)
    assert plan.keep == [Held("a", "10.0.0.5"), Held("s", str(EUI))]  # SLAAC stays
    assert plan.remove == [Held("a", "10.0.0.6")]
    assert plan.add == [Want(("b",))]


def test_update_by_subnet_keeps_the_address() -> None:
    plan = update_plan([Held("a", "10.0.0.5")], [FixedIp("a")], ALL, "n", "", MAC)
    assert plan.keep == [Held("a", "10.0.0.5")] and plan.add == [Want(("s",), EUI)]


def test_update_without_fixed_ips_changes_nothing() -> None:
    held = [Held("a", "10.0.0.5")]
    assert update_plan(held, None, ALL, "n", "", MAC).keep == held


def test_new_mac_moves_eui64() -> None:
    new_mac = "fa:16:3e:00:00:02"
    held = [Held("a", "10.0.0.5"), Held("s", str(EUI))]
    plan = update_plan(held, None, ALL, "n", "", new_mac, mac_changed=True)
    assert plan.keep == [Held("a", "10.0.0.5")]
    assert plan.remove == [Held("s", str(EUI))]
    assert plan.add == [Want(("s",), ip("2001:db8:1::f816:3eff:fe00:2"))]


def test_is_eui64() -> None:
    assert is_eui64(str(EUI))
    assert not is_eui64("2001:db8::5") and not is_eui64("10.0.0.1")
