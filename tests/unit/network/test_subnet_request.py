"""A subnet request read as Neutron reads it (nubo.network.subnet_request)."""

from __future__ import annotations

from ipaddress import ip_address, ip_network
from typing import Any

import pytest

from nubo.core.errors import NuboError
from nubo.network import subnet_request as req
from nubo.network.ipv6 import Ipv6Mode
from nubo.network.pools import IpRange
from nubo.network.subnetpools import PrefixBounds


def fault(err: pytest.ExceptionInfo[NuboError]) -> tuple[int, str, str]:
    return err.value.status, str(err.value.details.get("type")), err.value.message


def pools(layout: req.Layout) -> list[str]:
    return [str(p) for p in layout.pools]


# -- which way ------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "reason"), [
    ({"cidr": "10.0.0.0/24", "prefixlen": 24},
     "cidr and prefixlen must not be supplied together"),
    ({"subnetpool_id": "p", "use_default_subnetpool": True},
     "subnetpool_id and use_default_subnetpool cannot both be specified"),
    ({}, "a subnetpool must be specified in the absence of a cidr"),
    ({"cidr": None}, "a subnetpool must be specified in the absence of a cidr"),
    ({"subnetpool_id": "p", "allocation_pools": []},
     "allocation_pools allowed only for specific subnet requests."),
])
def test_shapes_refused(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(NuboError) as err:
        req.check_create_shape(body)
    assert fault(err) == (400, "BadRequest", f"Bad subnets request: {reason}.")


@pytest.mark.parametrize("body", [
    {"cidr": "10.0.0.0/24"}, {"subnetpool_id": "p"}, {"use_default_subnetpool": True},
    {"subnetpool_id": "p", "cidr": "10.0.0.0/24", "allocation_pools": []},
    {"subnetpool_id": "p", "prefixlen": 26}, {"cidr": "10.0.0.0/24", "prefixlen": None},
])
def test_shapes_accepted(body: dict[str, Any]) -> None:
    req.check_create_shape(body)


def test_requested_cidr_checks_version_and_dhcp() -> None:
    assert req.requested_cidr({}, 4, enable_dhcp=True) is None
    assert req.requested_cidr({"cidr": "10.0.0.7/24"}, 4, enable_dhcp=True) == \
        ip_network("10.0.0.0/24")
    with pytest.raises(NuboError) as err:
        req.requested_cidr({"cidr": "10.0.0.0/24"}, 6, enable_dhcp=True)
    assert fault(err)[2] == ("Invalid input for operation: cidr '10.0.0.0/24' does not "
                             "match the ip_version '6'.")
    with pytest.raises(NuboError):
        req.requested_cidr({"cidr": "10.0.0.0/31"}, 4, enable_dhcp=True)
    assert req.requested_cidr({"cidr": "10.0.0.0/31"}, 4, enable_dhcp=False) == \
        ip_network("10.0.0.0/31")


def test_gateway_form() -> None:
    req.check_gateway_form({"gateway_ip": None}, 4, ip_network("10.0.0.0/24"))
    req.check_gateway_form({"gateway_ip": "10.9.9.9"}, 4, None)    # CIDR not known yet
    with pytest.raises(NuboError) as err:
        req.check_gateway_form({"gateway_ip": "10.9.9.9"}, 4, ip_network("10.0.0.0/24"))
    assert fault(err) == (400, "InvalidInput", "Invalid input for operation: Gateway IP "
                          "10.9.9.9 is outside the subnet 10.0.0.0/24.")
    with pytest.raises(NuboError) as err:
        req.check_gateway_form({"gateway_ip": "2001:db8::1"}, 4, None)
    assert fault(err)[1] == "InvalidInput"


# -- the addresses ----------------------------------------------------------------------

def test_specific_layout_defaults() -> None:
    v4 = req.specific_layout(ip_network("10.0.0.0/24"), {})
    assert str(v4.gateway) == "10.0.0.1" and pools(v4) == ["10.0.0.2-10.0.0.254"]
    v6 = req.specific_layout(ip_network("2001:db8::/64"), {})
    assert str(v6.gateway) == "2001:db8::"
    assert pools(v6) == ["2001:db8::1-2001:db8::ffff:ffff:ffff:ffff"]
    none = req.specific_layout(ip_network("10.0.0.0/29"), {"gateway_ip": None})
    assert none.gateway is None and pools(none) == ["10.0.0.1-10.0.0.6"]
    assert none.values() == {"cidr": "10.0.0.0/29", "gateway_ip": None,
                             "allocation_pools": [{"start": "10.0.0.1", "end": "10.0.0.6"}]}


def test_specific_layout_given_pools() -> None:
    given = req.specific_layout(ip_network("10.0.0.0/24"), {
        "gateway_ip": "10.0.0.254", "allocation_pools": [{"start": "10.0.0.10",
                                                          "end": "10.0.0.20"}]})
    assert str(given.gateway) == "10.0.0.254" and pools(given) == ["10.0.0.10-10.0.0.20"]
    with pytest.raises(NuboError) as err:
        req.specific_layout(ip_network("10.0.0.0/24"), {
            "gateway_ip": "10.0.0.15", "allocation_pools": [{"start": "10.0.0.10",
                                                             "end": "10.0.0.20"}]})
    assert fault(err) == (409, "GatewayConflictWithAllocationPools", "Gateway ip 10.0.0.15 "
                          "conflicts with allocation pool 10.0.0.10-10.0.0.20.")


def test_pool_layout_takes_the_first_host() -> None:
    v6 = req.pool_layout(ip_network("2001:db8:1::/64"), {})
    assert str(v6.gateway) == "2001:db8:1::1"
    assert pools(v6) == ["2001:db8:1::2-2001:db8:1:0:ffff:ffff:ffff:ffff"]
    assert req.pool_layout(ip_network("10.0.0.0/28"), {"gateway_ip": None}).gateway is None


BOUNDS = PrefixBounds(min_prefixlen=16, max_prefixlen=28, default_prefixlen=24)


def test_pool_requests() -> None:
    assert req.pool_request({}, None, BOUNDS) == req.PoolRequest(None, 24)
    assert req.pool_request({"prefixlen": 26}, None, BOUNDS) == req.PoolRequest(None, 26)
    specific = req.pool_request({}, ip_network("10.1.2.0/25"), BOUNDS)
    assert specific.specific and specific.prefixlen == 25
    by_gateway = req.pool_request({"gateway_ip": "10.1.2.200", "prefixlen": 25}, None, BOUNDS)
    assert by_gateway.cidr == ip_network("10.1.2.128/25")
    with pytest.raises(NuboError) as err:
        req.pool_request({"prefixlen": 30}, None, BOUNDS)
    assert fault(err) == (400, "MaxPrefixSubnetAllocationError", "Unable to allocate subnet "
                          "with prefix length 30, maximum allowed prefix is 28.")
    with pytest.raises(NuboError) as err:
        req.pool_request({}, ip_network("10.0.0.0/8"), BOUNDS)
    assert fault(err)[1] == "MinPrefixSubnetAllocationError"


def test_modes() -> None:
    assert req.modes({"ipv6_address_mode": "slaac"}, 6, ip_network("2001:db8::/64"),
                     enable_dhcp=True) == (None, Ipv6Mode.SLAAC)
    with pytest.raises(NuboError) as err:
        req.modes({"ipv6_ra_mode": "slaac"}, 4, None, enable_dhcp=True)
    assert fault(err)[2] == ("Invalid input for operation: ipv6_ra_mode is not valid when "
                             "ip_version is 4.")


@pytest.mark.parametrize(("data", "kind"), [
    ("network:dhcp", "HTTPBadRequest"), ([5], "InvalidInputSubnetServiceType"),
    (["bogus:thing"], "InvalidSubnetServiceType"), (["computer"], "InvalidSubnetServiceType"),
])
def test_service_types_refused(data: object, kind: str) -> None:
    with pytest.raises(NuboError) as err:
        req.service_types(data)
    assert fault(err)[:2] == (400, kind)


def test_service_types_accepted() -> None:
    assert req.service_types(None) == []
    assert req.service_types(["network:dhcp", "compute:nova", "neutron:LOADBALANCERV2",
                              "compute:nova"]) == ["network:dhcp", "compute:nova",
                                                   "neutron:LOADBALANCERV2"]


# -- update ------------------------------------------------------------------------------

def current(**kw: Any) -> req.Current:
    values: dict[str, Any] = {
        "id": "s", "cidr": ip_network("10.0.0.0/24"), "gateway": ip_address("10.0.0.1"),
        "pools": [IpRange(ip_address("10.0.0.2"), ip_address("10.0.0.254"))],
        "enable_dhcp": True, "ra_mode": None, "address_mode": None, **kw}
    return req.Current(**values)


def test_update_layout() -> None:
    assert req.update_layout(current(), {"name": "x"}) == {}
    assert req.update_layout(current(), {"gateway_ip": None}) == {"gateway_ip": None}
    moved = req.update_layout(current(), {
        "gateway_ip": "10.0.0.254", "allocation_pools": [{"start": "10.0.0.2",
                                                          "end": "10.0.0.9"}]})
    assert moved == {"gateway_ip": "10.0.0.254",
                     "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.9"}]}
    with pytest.raises(NuboError) as err:
        req.update_layout(current(), {"gateway_ip": "10.0.0.9"})
    assert fault(err)[1] == "GatewayConflictWithAllocationPools"
    with pytest.raises(NuboError) as err:                  # new pools over the old gateway
        req.update_layout(current(), {"allocation_pools": [{"start": "10.0.0.1",
                                                            "end": "10.0.0.9"}]})
    assert fault(err)[1] == "GatewayConflictWithAllocationPools"
    with pytest.raises(NuboError) as err:
        req.update_layout(current(), {"gateway_ip": "10.1.0.1"})
    assert fault(err)[1] == "InvalidInput"
    # an old gateway inside the pools is left alone when nothing about it changes
    legacy = current(gateway=ip_address("10.0.0.5"))
    assert req.update_layout(legacy, {"name": "x"}) == {}


def test_dhcp_updates() -> None:
    req.check_dhcp_update(current(), {"enable_dhcp": False})
    with pytest.raises(NuboError):
        req.check_dhcp_update(current(cidr=ip_network("10.0.0.0/31"), enable_dhcp=False),
                              {"enable_dhcp": True})
    req.check_dhcp_update(current(cidr=ip_network("10.0.0.0/31")), {"enable_dhcp": True})
    six = current(cidr=ip_network("2001:db8::/64"), ra_mode=Ipv6Mode.SLAAC)
    with pytest.raises(NuboError) as err:
        req.check_dhcp_update(six, {"enable_dhcp": False})
    assert fault(err)[2] == ("Invalid input for operation: Cannot disable enable_dhcp with "
                             "ipv6 attributes set.")


def test_network_mtu() -> None:
    req.check_network_mtu("n", 1280, 6)
    req.check_network_mtu("n", 68, 4)
    with pytest.raises(NuboError) as err:
        req.check_network_mtu("n", 1279, 6)
    assert fault(err) == (409, "NetworkMTUSubnetConflict",
                          "MTU of n is not valid, subnet requires a minimum of 1280")
