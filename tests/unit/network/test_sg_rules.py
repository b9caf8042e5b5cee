"""Security group rule bodies: Neutron's normalisation, checks, messages and duplicate key."""

from __future__ import annotations

from typing import Any

import pytest

from nubo.core.errors import BadRequest, Conflict, NuboError
from nubo.network.sg_rules import (
    PROTOCOL_NUMBERS,
    Rule,
    check_unique_in_request,
    normalized_cidr,
    parse_rule,
    rule_exists,
    rule_key,
)

GROUP = "5d9c9e2e-6d36-4c0e-9e53-0d7b1c9c6f10"
OTHER = "0b4f3a55-8a0f-4f64-a0b1-7f3c7f2cf1a2"


def rule(**body: Any) -> Rule:
    return parse_rule({"security_group_id": GROUP, "direction": "ingress", **body})[1]


def refused(**body: Any) -> NuboError:
    with pytest.raises(NuboError) as caught:
        parse_rule({"security_group_id": GROUP, "direction": "ingress", **body})
    return caught.value


def fault(err: NuboError) -> tuple[int, str, str]:
    return err.status, str(err.details["type"]), err.message


def test_minimal_rule_defaults() -> None:
    group, parsed = parse_rule({"security_group_id": GROUP, "direction": "egress"})
    assert group == GROUP
    assert parsed == Rule(direction="egress", ethertype="IPv4", protocol=None,
                          port_range_min=None, port_range_max=None, remote_ip_prefix=None,
                          remote_group_id=None, remote_address_group_id=None, description="")


@pytest.mark.parametrize(("given", "shown"), [
    ("tcp", "tcp"), ("TCP", "tcp"), ("Udp", "udp"), (6, "6"), ("6", "6"), ("06", "6"),
    (0, "0"), (255, "255"), ("icmp", "icmp"), (1, "1"), (None, None), ("any", None),
    ("ANY", None), ("vrrp", "vrrp"),
])
def test_protocol_shown_back(given: Any, shown: str | None) -> None:
    assert rule(protocol=given).protocol == shown


@pytest.mark.parametrize(("given", "shown"), [
    ("icmp", "ipv6-icmp"), ("icmpv6", "ipv6-icmp"), ("ipv6-icmp", "ipv6-icmp"),
    ("1", "58"), (1, "58"), ("58", "58"), ("tcp", "tcp"),
])
def test_ipv6_icmp_is_canonical(given: Any, shown: str) -> None:
    assert rule(protocol=given, ethertype="IPv6").protocol == shown


def test_every_protocol_name_is_accepted() -> None:
    assert len(PROTOCOL_NUMBERS) == 25
    for name, number in PROTOCOL_NUMBERS.items():
        ethertype = "IPv6" if name.startswith("ipv6") or name == "icmpv6" else "IPv4"
        assert rule(protocol=name, ethertype=ethertype).protocol is not None, number


@pytest.mark.parametrize("bad", ["foo", 256, "256", -1, "-1", True, 6.0, "6.5", [6]])
def test_unknown_protocol(bad: Any) -> None:
    status, kind, message = fault(refused(protocol=bad))
    assert (status, kind) == (400, "SecurityGroupRuleInvalidProtocol")
    assert message == (
        f"Security group rule protocol {bad} not supported. Only protocol values "
        "(None, 'any', 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', "
        "'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', "
        "'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', "
        "'udplite', 'vrrp') and integer representations [0 to 255] are supported.")


@pytest.mark.parametrize("protocol", ["tcp", "udp", "sctp", "dccp", "udplite", "6", "17",
                                      "132", "33", "136"])
def test_port_ranges_of_port_protocols(protocol: str) -> None:
    parsed = rule(protocol=protocol, port_range_min="22", port_range_max=80)
    assert (parsed.port_range_min, parsed.port_range_max) == (22, 80)


def test_whole_port_range_becomes_no_range() -> None:
    parsed = rule(protocol="tcp", port_range_min=1, port_range_max=65535)
    assert (parsed.port_range_min, parsed.port_range_max) == (None, None)
    assert parsed.key == rule(protocol="tcp").key


@pytest.mark.parametrize(("ports", "expected"), [
    ({"port_range_min": 80, "port_range_max": 22},
     (400, "SecurityGroupInvalidPortRange",
      "For TCP/UDP protocols, port_range_min must be <= port_range_max")),
    ({"port_range_min": 80},
     (400, "SecurityGroupInvalidPortRange",
      "For TCP/UDP protocols, port_range_min must be <= port_range_max")),
    ({"port_range_max": 80},
     (400, "SecurityGroupInvalidPortRange",
      "For TCP/UDP protocols, port_range_min must be <= port_range_max")),
    ({"port_range_min": 0, "port_range_max": 80},
     (400, "SecurityGroupInvalidPortValue", "Invalid value for port 0")),
    ({"port_range_min": 70000, "port_range_max": 70000},
     (400, "SecurityGroupInvalidPortValue", "Invalid value for port 70000")),
    ({"port_range_min": "http", "port_range_max": 80},
     (400, "SecurityGroupInvalidPortValue", "Invalid value for port http")),
    ({"port_range_min": 22, "port_range_max": -1},
     (400, "SecurityGroupInvalidPortValue", "Invalid value for port -1")),
])
def test_tcp_port_mistakes(ports: dict[str, Any], expected: tuple[int, str, str]) -> None:
    assert fault(refused(protocol="tcp", **ports)) == expected


def test_ports_without_protocol() -> None:
    assert fault(refused(port_range_min=22, port_range_max=22)) == (
        400, "SecurityGroupProtocolRequiredWithPorts",
        "Must also specify protocol if port range is given.")


def test_whole_range_without_protocol_is_no_range() -> None:
    parsed = rule(port_range_min=1, port_range_max=65535)
    assert (parsed.protocol, parsed.port_range_min, parsed.port_range_max) == (None,) * 3


@pytest.mark.parametrize(("protocol", "number"), [("gre", 47), ("vrrp", 112), ("50", 50),
                                                  ("ip", 0)])
def test_ports_with_a_protocol_without_ports(protocol: str, number: int) -> None:
    assert fault(refused(protocol=protocol, port_range_min=1, port_range_max=2)) == (
        400, "SecurityGroupInvalidProtocolForPort",
        f"Ports cannot be specified for protocol {number}. Ports are only supported for "
        "DCCP, SCTP, TCP, UDP, UDPLITE.")


@pytest.mark.parametrize(("ethertype", "protocol"), [("IPv4", "icmp"), ("IPv4", "1"),
                                                     ("IPv6", "ipv6-icmp"), ("IPv6", "58")])
def test_icmp_type_and_code(ethertype: str, protocol: str) -> None:
    parsed = rule(protocol=protocol, ethertype=ethertype, port_range_min=8, port_range_max=0)
    assert (parsed.port_range_min, parsed.port_range_max) == (8, 0)
    assert rule(protocol=protocol, ethertype=ethertype, port_range_min=0).port_range_min == 0


@pytest.mark.parametrize(("ports", "expected"), [
    ({"port_range_min": 256},
     ("SecurityGroupInvalidIcmpValue",
      "Invalid value for ICMP type (port_range_min) 256. It must be 0 to 255.")),
    ({"port_range_min": 8, "port_range_max": 300},
     ("SecurityGroupInvalidIcmpValue",
      "Invalid value for ICMP code (port_range_max) 300. It must be 0 to 255.")),
    ({"port_range_max": 0},
     ("SecurityGroupMissingIcmpType",
      "ICMP code (port-range-max) 0 is provided but ICMP type (port-range-min) is missing.")),
])
def test_icmp_mistakes(ports: dict[str, Any], expected: tuple[str, str]) -> None:
    assert fault(refused(protocol="icmp", **ports)) == (400, *expected)


@pytest.mark.parametrize("protocol", ["ipv6-icmp", "icmpv6", "58", "ipv6-frag", "41"])
def test_ipv6_protocols_refused_with_ipv4(protocol: str) -> None:
    assert fault(refused(protocol=protocol)) == (
        400, "SecurityGroupEthertypeConflictWithProtocol",
        f"Invalid ethertype IPv4 for protocol {protocol}.")


@pytest.mark.parametrize(("given", "stored", "network"), [
    ("10.0.0.0/24", "10.0.0.0/24", "10.0.0.0/24"),
    ("10.0.0.1/24", "10.0.0.1/24", "10.0.0.0/24"),
    ("10.0.0.1", "10.0.0.1/32", "10.0.0.1/32"),
    ("10.0.0.0/255.255.255.0", "10.0.0.0/24", "10.0.0.0/24"),
    ("0.0.0.0/0", "0.0.0.0/0", "0.0.0.0/0"),
    ("", None, None),
])
def test_remote_ip_prefix(given: str, stored: str | None, network: str | None) -> None:
    parsed = rule(remote_ip_prefix=given)
    assert parsed.remote_ip_prefix == stored
    assert parsed.normalized_cidr == network


def test_ipv6_prefix_is_lower_case_and_compressed() -> None:
    parsed = rule(ethertype="IPv6", remote_ip_prefix="2001:DB8:0:0::1/64")
    assert parsed.remote_ip_prefix == "2001:db8::1/64"
    assert parsed.normalized_cidr == "2001:db8::/64"
    assert normalized_cidr(None) is None


@pytest.mark.parametrize("bad", ["10.0.0.300/24", "10.0.0.0/33", "foo", "fe80::1%eth0",
                                 "10.0.0.0/24 "])
def test_invalid_cidr(bad: str) -> None:
    assert fault(refused(remote_ip_prefix=bad)) == (
        400, "InvalidCIDR", f"Invalid CIDR {bad} given as IP prefix.")


@pytest.mark.parametrize(("ethertype", "prefix", "shown"), [
    ("IPv6", "10.0.0.1", "10.0.0.1/32"), ("IPv4", "2001:db8::/64", "2001:db8::/64"),
    ("IPv6", "0.0.0.0/0", "0.0.0.0/0"),
])
def test_prefix_must_match_ethertype(ethertype: str, prefix: str, shown: str) -> None:
    assert fault(refused(ethertype=ethertype, remote_ip_prefix=prefix)) == (
        400, "SecurityGroupRuleParameterConflict",
        f"Conflicting value ethertype {ethertype} for CIDR {shown}")


@pytest.mark.parametrize(("given", "shown"), [("ipv4", "IPv4"), ("IPV6", "IPv6"),
                                              ("IPv6", "IPv6")])
def test_ethertype_case_insensitive(given: str, shown: str) -> None:
    assert rule(ethertype=given).ethertype == shown


@pytest.mark.parametrize("bad", ["IPv5", None, 4])
def test_unknown_ethertype(bad: Any) -> None:
    assert fault(refused(ethertype=bad)) == (
        400, "SecurityGroupRuleInvalidEtherType",
        f"Security group rule for ethertype '{bad}' not supported. "
        "Allowed values are ['IPv4', 'IPv6'].")


@pytest.mark.parametrize("bad", ["in", "INGRESS", None, 1])
def test_unknown_direction(bad: Any) -> None:
    assert fault(refused(direction=bad)) == (
        400, "HTTPBadRequest", f"Invalid input for direction. Reason: {bad} is not in "
        "valid_values.")


@pytest.mark.parametrize("remotes", [
    {"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": OTHER},
    {"remote_group_id": OTHER, "remote_address_group_id": OTHER},
    {"remote_ip_prefix": "10.0.0.0/8", "remote_address_group_id": OTHER},
])
def test_one_remote_only(remotes: dict[str, str]) -> None:
    assert fault(refused(**remotes)) == (
        400, "SecurityGroupMultipleRemoteEntites",
        "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may "
        "be provided.")


def test_remote_group_and_address_group_kept() -> None:
    assert rule(remote_group_id=OTHER).remote_group_id == OTHER
    assert rule(remote_address_group_id=OTHER).remote_address_group_id == OTHER


def test_description() -> None:
    assert rule(description="ssh from the office").description == "ssh from the office"
    assert fault(refused(description="x" * 256)) == (
        400, "HTTPBadRequest",
        f"Invalid input for description. Reason: '{'x' * 256}' exceeds maximum length "
        "of 255.")
    assert fault(refused(description=None)) == (
        400, "HTTPBadRequest", "Invalid input for description. Reason: 'None' is not a "
        "valid string.")


def test_body_attributes() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_rule({"security_group_id": GROUP, "direction": "ingress", "zz": 1, "aa": 2})
    assert caught.value.message == "Unrecognized attribute(s) 'aa, zz'"
    with pytest.raises(BadRequest) as caught:
        parse_rule({"security_group_id": GROUP, "direction": "ingress", "id": OTHER})
    assert caught.value.message == "Attribute 'id' not allowed in POST"
    with pytest.raises(BadRequest) as caught:
        parse_rule({"security_group_id": GROUP})
    assert caught.value.message == ("Failed to parse request. Required attribute "
                                    "'direction' not specified")
    with pytest.raises(BadRequest) as caught:
        parse_rule({"direction": "ingress"})
    assert caught.value.message == ("Failed to parse request. Required attribute "
                                    "'security_group_id' not specified")
    assert parse_rule({"security_group_id": GROUP, "direction": "ingress",
                       "project_id": "p", "tenant_id": "p"})[0] == GROUP


def test_first_mistake_in_neutrons_order_is_reported() -> None:
    err = refused(direction="up", protocol="foo")
    assert err.details["type"] == "HTTPBadRequest"
    err = refused(protocol="foo", ethertype="IPv5")
    assert err.details["type"] == "SecurityGroupRuleInvalidProtocol"
    err = refused(protocol="gre", port_range_min=1, remote_ip_prefix="10.0.0.0/8",
                  remote_group_id=OTHER)
    assert err.details["type"] == "SecurityGroupInvalidProtocolForPort"


# -- duplicates ------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "second"), [
    ({"protocol": "tcp"}, {"protocol": "6"}),
    ({"protocol": "TCP"}, {"protocol": 6}),
    ({"protocol": "udp", "port_range_min": 53, "port_range_max": 53},
     {"protocol": "17", "port_range_min": "53", "port_range_max": "53"}),
    ({}, {"remote_ip_prefix": "0.0.0.0/0"}),
    ({"ethertype": "IPv6"}, {"ethertype": "IPv6", "remote_ip_prefix": "::/0"}),
    ({}, {"protocol": "any"}),
    ({"ethertype": "IPv6", "protocol": "icmpv6"}, {"ethertype": "IPv6", "protocol": "58"}),
    ({"ethertype": "IPv6", "protocol": "icmp"}, {"ethertype": "IPv6", "protocol": "1"}),
    ({"ethertype": "IPv6", "protocol": "ipv6-icmp"}, {"ethertype": "IPv6", "protocol": 58}),
    ({"protocol": "ip"}, {"protocol": "0"}),
    ({"protocol": "tcp"}, {"protocol": "tcp", "port_range_min": 1, "port_range_max": 65535}),
    ({"remote_ip_prefix": "10.0.0.1"}, {"remote_ip_prefix": "10.0.0.1/32"}),
    ({"description": "a"}, {"description": "b"}),
])
def test_same_rule(first: dict[str, Any], second: dict[str, Any]) -> None:
    assert rule(**first).key == rule(**second).key


@pytest.mark.parametrize(("first", "second"), [
    ({"protocol": "tcp"}, {"protocol": "udp"}),
    ({"protocol": "hopopt"}, {"protocol": "0"}),
    ({}, {"direction": "egress"}),
    ({}, {"ethertype": "IPv6"}),
    ({"remote_ip_prefix": "10.0.0.0/24"}, {"remote_ip_prefix": "10.0.0.1/24"}),
    ({"remote_group_id": GROUP}, {"remote_group_id": OTHER}),
    ({"remote_group_id": GROUP}, {"remote_address_group_id": GROUP}),
    ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
     {"protocol": "tcp", "port_range_min": 22, "port_range_max": 23}),
    ({"protocol": "icmp", "port_range_min": 8}, {"protocol": "icmp", "port_range_min": 0}),
    ({"protocol": "icmp"}, {"protocol": "ipv6-icmp", "ethertype": "IPv6"}),
])
def test_different_rules(first: dict[str, Any], second: dict[str, Any]) -> None:
    assert rule(**first).key != rule(**second).key


def test_key_of_a_stored_rule_matches_the_parsed_one() -> None:
    parsed = rule(protocol="TCP", port_range_min="80", port_range_max=80,
                  remote_ip_prefix="10.1.0.0/16")
    row = {**parsed.columns(), "id": OTHER, "security_group_id": GROUP, "project_id": "p"}
    assert Rule.from_row(row) == parsed
    assert rule_key(Rule.from_row(row)) == parsed.key
    assert len(rule(ethertype="IPv6", protocol="ipv6-route", remote_group_id=OTHER).key) < 255


def test_duplicates_in_one_request() -> None:
    check_unique_in_request([rule(protocol="tcp"), rule(protocol="udp")])
    with pytest.raises(Conflict) as caught:
        check_unique_in_request([rule(protocol="tcp"), rule(protocol="udp"),
                                 rule(protocol="6")])
    assert fault(caught.value) == (409, "DuplicateSecurityGroupRuleInPost",
                                   "Duplicate Security Group Rule in POST.")


def test_rule_exists_message() -> None:
    assert fault(rule_exists(OTHER)) == (
        409, "SecurityGroupRuleExists", f"Security group rule already exists. Rule id is "
        f"{OTHER}.")
