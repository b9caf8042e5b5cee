"""A port's request attributes as Neutron checks them."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from nubo.core.errors import BadRequest
from nubo.network.port_attributes import (
    FixedIp,
    binding,
    created_dhcp_opts,
    dns_assignment,
    merge_dhcp_opts,
    parse_address_pairs,
    parse_dhcp_opts,
    parse_dns_name,
    parse_fixed_ips,
    parse_optional_mac,
    with_port_mac,
)

SUBNET = "7c5d3f1e-7a3a-4d7e-9a57-1f0b6c0e3a11"


def test_fixed_ips() -> None:
    assert parse_fixed_ips([{"subnet_id": SUBNET}, {"ip_address": "10.0.0.5"}]) == [
        FixedIp(SUBNET, None), FixedIp(None, ipaddress.ip_address("10.0.0.5"))]
    assert parse_fixed_ips([]) == []


@pytest.mark.parametrize("data, reason", [
    ("10.0.0.5", "Invalid data format for fixed IP"),
    (["10.0.0.5"], "Invalid data format for fixed IP"),
    ([{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.5"}], "Duplicate IP address"),
    ([{"ip_address": "10.0.0.256"}], "is not a valid IP address"),
    ([{"subnet_id": "nope"}], "is not a valid UUID"),
    ([{"subnet": SUBNET}], "Unrecognized attribute"),
    ([{}], "requires subnet_id or ip_address"),
])
def test_fixed_ips_refused(data: Any, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        parse_fixed_ips(data)


def test_address_pairs() -> None:
    pairs = parse_address_pairs([{"ip_address": "10.0.0.5"},
                                 {"ip_address": "10.0.0.0/24", "mac_address": "FA-16-3E-00-00-01"},
                                 {"ip_address": "0.0.0.0/0"}])
    assert pairs == [{"ip_address": "10.0.0.5"},
                     {"ip_address": "10.0.0.0/24", "mac_address": "fa:16:3e:00:00:01"},
                     {"ip_address": "0.0.0.0/0"}]
    assert with_port_mac(pairs[:1], "fa:16:3e:aa:aa:aa") == [
        {"ip_address": "10.0.0.5", "mac_address": "fa:16:3e:aa:aa:aa"}]


@pytest.mark.parametrize("pairs, kind", [
    ([{"ip_address": "10.0.0.5"}] * 2, "DuplicateAddressPairInRequest"),
    ([{"mac_address": "fa:16:3e:00:00:01"}], "AllowedAddressPairsMissingIP"),
    ([{"ip_address": "239.1.1.1"}], "HTTPBadRequest"),
    ([{"ip_address": "224.0.0.0/3"}], "HTTPBadRequest"),
    ([{"ip_address": "ff02::1"}], "HTTPBadRequest"),
    ([{"ip_address": "10.0.0.5", "mac_address": "01:00:5e:00:00:01"}], "HTTPBadRequest"),
    ([{"ip_address": "10.0.0.5/33"}], "HTTPBadRequest"),
    ([{"ip_address": f"10.0.0.{i}"} for i in range(11)], "AllowedAddressPairExhausted"),
])
def test_address_pairs_refused(pairs: Any, kind: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse_address_pairs(pairs)
    assert err.value.details["type"] == kind


def test_dhcp_opts_create_and_merge() -> None:
    opts = parse_dhcp_opts([{"opt_name": "bootfile-name", "opt_value": "a"},
                            {"opt_name": "tftp-server", "opt_value": None},
                            {"opt_name": "router", "opt_value": "", "ip_version": "6"}])
    assert created_dhcp_opts(opts) == [
        {"opt_name": "bootfile-name", "opt_value": "a", "ip_version": 4},
        {"opt_name": "router", "opt_value": "", "ip_version": 6}]
    merged = merge_dhcp_opts(created_dhcp_opts(opts), parse_dhcp_opts([
        {"opt_name": "bootfile-name", "opt_value": None},
        {"opt_name": "mtu", "opt_value": "1400"}]))
    assert [o["opt_name"] for o in merged] == ["router", "mtu"]


@pytest.mark.parametrize("opts", [
    [{"opt_name": "x"}], [{"opt_name": "x", "opt_value": "y", "ip_version": 5}],
    [{"opt_name": "", "opt_value": "y"}], [{"opt_name": "x", "opt_value": ""}],
    [{"opt_name": "x", "opt_value": "a\nb"}], "x", ["x"]])
def test_dhcp_opts_refused(opts: Any) -> None:
    with pytest.raises(BadRequest):
        parse_dhcp_opts(opts)


def test_dns_names() -> None:
    assert parse_dns_name("Web-1", "openstacklocal") == "web-1"
    assert parse_dns_name("web.example.org.", "openstacklocal") == "web.example.org."
    assert parse_dns_name(None, "openstacklocal") == ""
    for bad in ("-x", "x-", "a..b", "a_b", "x" * 64, "a.123", 5):
        with pytest.raises(BadRequest):
            parse_dns_name(bad, "openstacklocal")
    assert dns_assignment("", ["10.0.0.5", "2001:db8::5"], "openstacklocal") == [
        {"ip_address": "10.0.0.5", "hostname": "host-10-0-0-5",
         "fqdn": "host-10-0-0-5.openstacklocal."},
        {"ip_address": "2001:db8::5", "hostname": "host-2001-db8--5",
         "fqdn": "host-2001-db8--5.openstacklocal."}]
    assert dns_assignment("web", ["10.0.0.5"], "example.org.")[0]["fqdn"] == "web.example.org."
    assert dns_assignment("web.x.", ["10.0.0.5"], "example.org")[0]["fqdn"] == "web.x."


def test_bindings_and_macs() -> None:
    assert binding("", "normal") == ("unbound", {})
    assert binding("node-1", "normal") == ("bridge", {"port_filter": True,
                                                      "connectivity": "l2"})
    assert binding("node-1", "direct") == ("binding_failed", {})
    assert parse_optional_mac(None) is None
    assert parse_optional_mac("FA:16:3E:00:00:0A") == "fa:16:3e:00:00:0a"
    with pytest.raises(BadRequest):
        parse_optional_mac("fa:16:3e:aa:bb")
