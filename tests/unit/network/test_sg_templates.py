"""Default security group rule templates: the built-in ones, parsing, conflicts, and the
rules a new group gets from them."""

from __future__ import annotations

from typing import Any

import pytest

from nubo.core.errors import BadRequest, NuboError
from nubo.network.sg_rules import Rule
from nubo.network.sg_templates import (
    BUILTIN_TEMPLATES,
    PARENT,
    Template,
    conflicting_template,
    parse_template,
    rules_for_new_group,
    template_exists,
    template_view,
)

GROUP = "5d9c9e2e-6d36-4c0e-9e53-0d7b1c9c6f10"
OTHER = "0b4f3a55-8a0f-4f64-a0b1-7f3c7f2cf1a2"


def template(**body: Any) -> Template:
    return parse_template({"direction": "ingress", **body})


def views(templates: tuple[Template, ...]) -> list[dict[str, Any]]:
    return [{k: v for k, v in template_view("x", t).items() if k != "id"} for t in templates]


def test_builtin_templates_are_neutrons_legacy_rules() -> None:
    common = {"protocol": None, "port_range_min": None, "port_range_max": None,
              "remote_ip_prefix": None, "remote_address_group_id": None}
    egress = {**common, "direction": "egress", "remote_group_id": None,
              "used_in_default_sg": True, "used_in_non_default_sg": True,
              "description": "Legacy default SG rule for egress traffic"}
    ingress = {**common, "direction": "ingress", "remote_group_id": "PARENT",
               "used_in_default_sg": True, "used_in_non_default_sg": False,
               "description": "Legacy default SG rule for ingress traffic"}
    assert views(BUILTIN_TEMPLATES) == [
        {**egress, "ethertype": "IPv4"}, {**egress, "ethertype": "IPv6"},
        {**ingress, "ethertype": "IPv4"}, {**ingress, "ethertype": "IPv6"}]


def test_default_group_gets_four_rules_others_two() -> None:
    default = rules_for_new_group(BUILTIN_TEMPLATES, GROUP, default_group=True)
    assert [(r.direction, r.ethertype, r.remote_group_id) for r in default] == [
        ("egress", "IPv4", None), ("egress", "IPv6", None),
        ("ingress", "IPv4", GROUP), ("ingress", "IPv6", GROUP)]
    assert {r.description for r in default} == {""}
    custom = rules_for_new_group(BUILTIN_TEMPLATES, GROUP, default_group=False)
    assert [(r.direction, r.ethertype) for r in custom] == [("egress", "IPv4"),
                                                            ("egress", "IPv6")]


def test_remote_group_other_than_parent_is_kept() -> None:
    made = rules_for_new_group([template(remote_group_id=OTHER)], GROUP, default_group=False)
    assert made == [Rule("ingress", remote_group_id=OTHER)]


def test_parse_defaults_follow_the_api_reference() -> None:
    parsed = template(protocol="TCP", port_range_min=22, port_range_max="22",
                      description="ssh")
    assert (parsed.used_in_default_sg, parsed.used_in_non_default_sg) == (False, True)
    assert parsed.rule == Rule("ingress", "IPv4", "tcp", 22, 22, description="ssh")


@pytest.mark.parametrize(("given", "value"), [(True, True), ("true", True), ("Yes", True),
                                              (1, True), ("0", False), ("off", False),
                                              (False, False)])
def test_flags_are_booleans(given: Any, value: bool) -> None:
    assert template(used_in_default_sg=given).used_in_default_sg is value


def test_flag_that_is_no_boolean() -> None:
    with pytest.raises(BadRequest) as caught:
        template(used_in_non_default_sg="maybe")
    assert caught.value.message == ("Invalid input for operation: 'maybe' cannot be "
                                    "converted to boolean.")
    assert caught.value.details["type"] == "InvalidInput"


def test_templates_are_checked_like_rules() -> None:
    with pytest.raises(NuboError) as caught:
        template(protocol="tcp", port_range_min=80, port_range_max=22)
    assert caught.value.details["type"] == "SecurityGroupInvalidPortRange"
    with pytest.raises(NuboError) as caught:
        template(ethertype="IPv6", remote_ip_prefix="10.0.0.0/8")
    assert caught.value.details["type"] == "SecurityGroupRuleParameterConflict"
    assert template(ethertype="IPv6", protocol="icmp").rule.protocol == "ipv6-icmp"


def test_template_remote_ids() -> None:
    assert template(remote_group_id=PARENT).rule.remote_group_id == PARENT
    assert template(remote_group_id=OTHER).rule.remote_group_id == OTHER
    with pytest.raises(BadRequest) as caught:
        template(remote_group_id="parent")
    assert caught.value.message == ("Invalid input for remote_group_id. Reason: 'parent' "
                                    "is not a valid UUID.")
    with pytest.raises(BadRequest) as caught:
        template(remote_address_group_id="x")
    assert caught.value.message == ("Invalid input for remote_address_group_id. Reason: "
                                    "'x' is not a valid UUID.")


def test_template_body_attributes() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_template({"direction": "ingress", "security_group_id": GROUP})
    assert caught.value.message == "Unrecognized attribute(s) 'security_group_id'"
    with pytest.raises(BadRequest) as caught:
        parse_template({"ethertype": "IPv4"})
    assert caught.value.message == ("Failed to parse request. Required attribute "
                                    "'direction' not specified")
    with pytest.raises(BadRequest) as caught:
        template(description="d" * 256)
    assert caught.value.message.endswith("exceeds maximum length of 255.")


@pytest.mark.parametrize(("new_flags", "old_flags", "conflict"), [
    ((True, True), (True, True), True),
    ((True, False), (True, True), True),
    ((False, True), (True, True), True),
    ((True, False), (False, True), False),
    ((False, True), (True, False), False),
    ((True, False), (True, False), True),
    ((False, False), (True, True), False),
])
def test_conflicts_need_a_shared_use(new_flags: tuple[bool, bool],
                                     old_flags: tuple[bool, bool], conflict: bool) -> None:
    rule = Rule("ingress", protocol="tcp", port_range_min=22, port_range_max=22)
    new = Template(rule, *new_flags)
    existing = [("a", Template(Rule("egress"), True, True)), ("b", Template(rule, *old_flags))]
    assert conflicting_template(new, existing) == ("b" if conflict else None)


def test_conflict_compares_rules_like_duplicates() -> None:
    new = template(protocol="6", remote_ip_prefix="0.0.0.0/0")
    existing = [("t1", template(protocol="tcp"))]
    assert conflicting_template(new, existing) == "t1"
    err = template_exists("t1")
    assert (err.status, err.details["type"], err.message) == (
        409, "DefaultSecurityGroupRuleExists",
        "Default Security group rule already exists. Rule id is t1.")


def test_keys_per_use_for_unique_columns() -> None:
    both, default_only = template(used_in_default_sg=True), template(used_in_default_sg=True,
                                                                     used_in_non_default_sg=False)
    assert both.default_key == both.non_default_key == both.rule.key
    assert (default_only.default_key, default_only.non_default_key) == (both.rule.key, None)


def test_stored_template_reads_back() -> None:
    parsed = template(protocol="udp", port_range_min=53, port_range_max=53,
                      used_in_default_sg="true")
    row = {**parsed.columns(), "id": OTHER}
    assert Template.from_row(row) == parsed
