"""The rules a new security group starts with, and the template API that sets them
(``default-security-group-rules``, extension ``security-groups-default-rules``).

A template is a rule without a group, flagged for the project's ``default`` group
(``used_in_default_sg``), for every other new group (``used_in_non_default_sg``), or
both. A ``remote_group_id`` of ``PARENT`` stands for the group being created.

Until an operator changes them, the templates are Neutron's four built-in ones: every
group lets all traffic out (IPv4 and IPv6), and the ``default`` group also lets in
what comes from its own members.

Two templates conflict (409) when they are the same rule (``rule_key``) and are used
for the same kind of group, i.e. share a flag that is true. Neutron means that too,
but its check always compares a new template with those ``used_in_non_default_sg``,
whatever the new template's flags; nubo compares per flag.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from nubo.core.errors import BadRequest, Conflict
from nubo.network.sg_rules import (
    Rule,
    check_attributes,
    checked_rule,
    convert_rule,
    invalid_attribute,
)

PARENT: Final = "PARENT"
DEFAULT_GROUP_NAME: Final = "default"
DEFAULT_GROUP_DESCRIPTION: Final = "Default security group"
# Neutron accepts 1024 characters but stores 255; nubo refuses what it cannot store
TEMPLATE_DESCRIPTION_MAX = 255

TEMPLATE_POST_ATTRIBUTES: Final = (
    "tenant_id", "project_id", "description", "remote_group_id", "remote_address_group_id",
    "direction", "protocol", "port_range_min", "port_range_max", "ethertype",
    "remote_ip_prefix", "used_in_default_sg", "used_in_non_default_sg")
TEMPLATE_READ_ONLY_ATTRIBUTES: Final = ("id",)

_TRUE: Final = frozenset({"1", "t", "true", "on", "y", "yes"})
_FALSE: Final = frozenset({"0", "f", "false", "off", "n", "no"})


@dataclass(frozen=True)
class Template:
    rule: Rule
    used_in_default_sg: bool = False
    used_in_non_default_sg: bool = True

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Template:
        return cls(Rule.from_row(row), bool(row["used_in_default_sg"]),
                   bool(row["used_in_non_default_sg"]))

    @property
    def default_key(self) -> str | None:
        """The rule's key if it is used in ``default`` groups (unique among those)."""
        return self.rule.key if self.used_in_default_sg else None

    @property
    def non_default_key(self) -> str | None:
        """The rule's key if it is used in other groups (unique among those)."""
        return self.rule.key if self.used_in_non_default_sg else None

    def columns(self) -> dict[str, Any]:
        return {**self.rule.columns(), "used_in_default_sg": self.used_in_default_sg,
                "used_in_non_default_sg": self.used_in_non_default_sg}


_EGRESS = "Legacy default SG rule for egress traffic"
_INGRESS = "Legacy default SG rule for ingress traffic"

BUILTIN_TEMPLATES: Final = (
    Template(Rule("egress", "IPv4", description=_EGRESS), True, True),
    Template(Rule("egress", "IPv6", description=_EGRESS), True, True),
    Template(Rule("ingress", "IPv4", remote_group_id=PARENT, description=_INGRESS),
             True, False),
    Template(Rule("ingress", "IPv6", remote_group_id=PARENT, description=_INGRESS),
             True, False),
)


def parse_template(body: Mapping[str, Any]) -> Template:
    """A template from a ``default_security_group_rule`` request object.

    ``used_in_default_sg`` defaults to false and ``used_in_non_default_sg`` to true,
    as the API reference says. ``remote_group_id`` is ``PARENT`` or a group's id.
    """
    check_attributes(body, TEMPLATE_POST_ATTRIBUTES, TEMPLATE_READ_ONLY_ATTRIBUTES,
                     required=("direction",))
    remote_group = body.get("remote_group_id")
    if remote_group is not None and remote_group != PARENT and not _is_uuid(remote_group):
        raise invalid_attribute("remote_group_id", f"'{remote_group}' is not a valid UUID")
    address_group = body.get("remote_address_group_id")
    if address_group is not None and not _is_uuid(address_group):
        raise invalid_attribute("remote_address_group_id",
                                f"'{address_group}' is not a valid UUID")
    rule = checked_rule(convert_rule(body, description_max=TEMPLATE_DESCRIPTION_MAX))
    return Template(rule, convert_boolean(body.get("used_in_default_sg", False)),
                    convert_boolean(body.get("used_in_non_default_sg", True)))


def convert_boolean(value: Any) -> bool:
    """oslo's strict ``bool_from_string``, as Neutron's ``convert_to_boolean`` uses it."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise BadRequest(f"Invalid input for operation: '{value}' cannot be converted to "
                     "boolean.", type="InvalidInput")


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def conflicting_template(new: Template, existing: Iterable[tuple[str, Template]]) -> str | None:
    """The id of an existing template ``new`` duplicates, or None."""
    for template_id, old in existing:
        same_use = ((new.used_in_default_sg and old.used_in_default_sg)
                    or (new.used_in_non_default_sg and old.used_in_non_default_sg))
        if same_use and old.rule.key == new.rule.key:
            return template_id
    return None


def template_exists(template_id: str) -> Conflict:
    return Conflict(f"Default Security group rule already exists. Rule id is {template_id}.",
                    type="DefaultSecurityGroupRuleExists")


def rules_for_new_group(templates: Iterable[Template], group_id: str, *,
                        default_group: bool) -> list[Rule]:
    """The rules a new group gets: the templates for its kind, ``PARENT`` made its id.

    Template descriptions describe the template, not the rule: the rules have none.
    """
    rules = []
    for template in templates:
        if (template.used_in_default_sg if default_group else template.used_in_non_default_sg):
            rule = template.rule
            remote = group_id if rule.remote_group_id == PARENT else rule.remote_group_id
            rules.append(replace(rule, remote_group_id=remote, description=""))
    return rules


def template_view(template_id: str, template: Template) -> dict[str, Any]:
    """A template as the API shows it."""
    rule = template.rule
    return {
        "id": template_id, "description": rule.description, "direction": rule.direction,
        "ethertype": rule.ethertype, "protocol": rule.protocol,
        "port_range_min": rule.port_range_min, "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix, "remote_group_id": rule.remote_group_id,
        "remote_address_group_id": rule.remote_address_group_id,
        "used_in_default_sg": template.used_in_default_sg,
        "used_in_non_default_sg": template.used_in_non_default_sg,
    }
