"""Security group rules as Neutron reads them: a request body in, a normalised rule out.

Pure logic: no database, no HTTP. The checks run in Neutron's order (the attribute
converters first, then the plugin's checks), so the first mistake a request makes is
the one reported, with Neutron's message and fault ``type``.

What a stored rule looks like after normalisation (what the API shows back):

- ``protocol``: ``None`` for "any"; a name in lower case; a number as its decimal
  string; with IPv6, ``icmp``/``icmpv6`` become ``ipv6-icmp`` and ``1`` becomes ``58``.
- ``port_range_min``/``max``: ints; the whole range 1-65535 becomes no range.
- ``remote_ip_prefix``: the address as given with an explicit prefix length
  (``10.0.0.1`` -> ``10.0.0.1/32``; host bits are kept, ``10.0.0.1/24`` stays);
  ``normalized_cidr`` is its network (``10.0.0.0/24``).

Where Neutron would store a value its own database layer then refuses (protocol
``"06"``, ``"ANY"``, ``True``), nubo normalises (``"6"``, no protocol) or refuses with
the converter's message instead of failing with a 500.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import Any, Final

from nubo.core.errors import BadRequest, Conflict

# neutron_lib.constants.IP_PROTOCOL_MAP, in its order (the order shows in an error message)
PROTOCOL_NUMBERS: Final[Mapping[str, int]] = MappingProxyType({
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
    "igmp": 2, "ip": 0, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58,
    "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89,
    "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
})
# the name a number is compared as (0 is "ip", 58 "ipv6-icmp": the later name wins)
PROTOCOL_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {n: name for name, n in PROTOCOL_NUMBERS.items() if name != "icmpv6"})
PORT_PROTOCOLS: Final = ("dccp", "sctp", "tcp", "udp", "udplite")
ICMP_NUMBERS: Final = frozenset({1, 58})
# protocols that exist only over IPv6, by name and number
IPV6_ONLY_PROTOCOLS: Final = frozenset(
    {"ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts",
     "ipv6-route", "41", "44", "58", "59", "60", "43"})
ETHERTYPES: Final = ("IPv4", "IPv6")
DIRECTIONS: Final = ("ingress", "egress")
ANY_PREFIXES: Final = frozenset({"0.0.0.0/0", "::/0"})
SUPPORTED_PROTOCOLS: Final = (None, "any", *PROTOCOL_NUMBERS)
DESCRIPTION_MAX = 255
UUID_MAX = 36

# what a POST may set, in Neutron's attribute order; what it may only read
RULE_POST_ATTRIBUTES: Final = (
    "security_group_id", "remote_group_id", "direction", "protocol", "port_range_min",
    "port_range_max", "ethertype", "remote_ip_prefix", "tenant_id", "project_id",
    "description", "remote_address_group_id")
RULE_READ_ONLY_ATTRIBUTES: Final = (
    "id", "normalized_cidr", "belongs_to_default_sg", "created_at", "updated_at",
    "revision_number")


@dataclass(frozen=True)
class Rule:
    """A rule's normalised attributes (without its group, owner and id)."""

    direction: str
    ethertype: str = "IPv4"
    protocol: str | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = None
    remote_group_id: str | None = None
    remote_address_group_id: str | None = None
    description: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Rule:
        """A stored rule or template, read back (its values are already normal)."""
        return cls(**{name: row[name] for name in cls.__dataclass_fields__ if name in row})

    @property
    def normalized_cidr(self) -> str | None:
        return normalized_cidr(self.remote_ip_prefix)

    @property
    def key(self) -> str:
        return rule_key(self)

    def columns(self) -> dict[str, Any]:
        return asdict(self)


def parse_rule(body: Mapping[str, Any]) -> tuple[str, Rule]:
    """``(security_group_id, rule)`` from a ``security_group_rule`` request object.

    ``project_id``/``tenant_id`` are accepted and left to the caller.
    """
    check_attributes(body, RULE_POST_ATTRIBUTES, RULE_READ_ONLY_ATTRIBUTES,
                     required=("security_group_id", "direction"))
    group_id = string_attribute(body["security_group_id"], "security_group_id", UUID_MAX)
    rule = convert_rule(body, description_max=DESCRIPTION_MAX)
    return group_id, checked_rule(rule)


def check_attributes(body: Mapping[str, Any], allowed: Iterable[str],
                     read_only: Iterable[str], *, required: Iterable[str]) -> None:
    """Neutron's first checks of a POST body: unknown, read-only and missing attributes."""
    allowed, read_only = tuple(allowed), tuple(read_only)
    unknown = sorted(set(body) - set(allowed) - set(read_only))
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'",
                         type="HTTPBadRequest")
    for name in read_only:
        if name in body:
            raise BadRequest(f"Attribute '{name}' not allowed in POST", type="HTTPBadRequest")
    for name in required:
        if name not in body:
            raise BadRequest(f"Failed to parse request. Required attribute '{name}' "
                             "not specified", type="HTTPBadRequest")


def convert_rule(body: Mapping[str, Any], *, description_max: int) -> Rule:
    """The attribute converters and validators, each value on its own, in Neutron's order."""
    direction = body["direction"]
    if not isinstance(direction, str) or direction not in DIRECTIONS:
        raise invalid_attribute("direction", f"{direction} is not in valid_values")
    protocol = convert_protocol(body.get("protocol"))
    port_min = convert_port(body.get("port_range_min"))
    port_max = convert_port(body.get("port_range_max"))
    ethertype = convert_ethertype(body.get("ethertype", "IPv4"))
    prefix = convert_ip_prefix(body.get("remote_ip_prefix"))
    description = string_attribute(body.get("description", ""), "description", description_max)
    return Rule(
        direction=direction, ethertype=ethertype, protocol=protocol,
        port_range_min=port_min, port_range_max=port_max, remote_ip_prefix=prefix,
        remote_group_id=optional_id(body.get("remote_group_id"), "remote_group_id"),
        remote_address_group_id=optional_id(body.get("remote_address_group_id"),
                                            "remote_address_group_id"),
        description=description)


def checked_rule(rule: Rule) -> Rule:
    """Neutron's checks of the converted values together, and its normalisations."""
    protocol = canonical_protocol(rule.protocol, rule.ethertype)
    port_min, port_max = rule.port_range_min, rule.port_range_max
    if (port_min, port_max) == (1, 65535):
        port_min = port_max = None
    check_ports(protocol, port_min, port_max)
    check_prefix(rule.remote_ip_prefix, rule.ethertype)
    check_ethertype_protocol(rule.ethertype, protocol)
    check_single_remote(rule)
    return replace(rule, protocol=protocol, port_range_min=port_min, port_range_max=port_max)


# -- the converters -------------------------------------------------------------------

def convert_protocol(value: Any) -> str | None:
    """A protocol name (any case), a number 0-255 (int or string), or ``any``/None."""
    if value is None or (isinstance(value, str) and value.lower() == "any"):
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        if value.lower() in PROTOCOL_NUMBERS:
            return value.lower()
        try:
            number = int(value)
        except ValueError:
            number = None
    if number is None or not 0 <= number <= 255:
        raise BadRequest(
            f"Security group rule protocol {value} not supported. Only protocol values "
            f"{SUPPORTED_PROTOCOLS} and integer representations [0 to 255] are supported.",
            type="SecurityGroupRuleInvalidProtocol")
    return str(number)


def convert_port(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            port = int(value)
        except ValueError:
            port = -1
        if 0 <= port <= 65535:
            return port
    raise BadRequest(f"Invalid value for port {value}", type="SecurityGroupInvalidPortValue")


def convert_ethertype(value: Any) -> str:
    for ethertype in ETHERTYPES:
        if isinstance(value, str) and value.lower() == ethertype.lower():
            return ethertype
    raise BadRequest(f"Security group rule for ethertype '{value}' not supported. "
                     f"Allowed values are {list(ETHERTYPES)}.",
                     type="SecurityGroupRuleInvalidEtherType")


def convert_ip_prefix(value: Any) -> str | None:
    """An address or network with its prefix length made explicit (host bits kept)."""
    if not value:
        return None
    try:
        if not isinstance(value, str) or "%" in value:
            raise ValueError(value)
        return str(ipaddress.ip_interface(value))
    except ValueError:
        raise BadRequest(f"Invalid CIDR {value} given as IP prefix.",
                         type="InvalidCIDR") from None


def string_attribute(value: Any, name: str, max_len: int) -> str:
    if not isinstance(value, str):
        raise invalid_attribute(name, f"'{value}' is not a valid string")
    if len(value) > max_len:
        raise invalid_attribute(name, f"'{value}' exceeds maximum length of {max_len}")
    return value


def optional_id(value: Any, name: str) -> str | None:
    """Neutron takes any remote id here and looks it up later (404 if unknown)."""
    return None if value is None else string_attribute(value, name, UUID_MAX)


def invalid_attribute(name: str, reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for {name}. Reason: {reason}.", type="HTTPBadRequest")


# -- the checks of values together ----------------------------------------------------

def protocol_number(protocol: str | None) -> int | None:
    """The IP protocol number of a normalised protocol value."""
    if protocol is None:
        return None
    return PROTOCOL_NUMBERS[protocol] if protocol in PROTOCOL_NUMBERS else int(protocol)


def canonical_protocol(protocol: str | None, ethertype: str) -> str | None:
    """IPv6 rules name ICMP ``ipv6-icmp`` (58), whatever legacy name they were given."""
    if ethertype == "IPv6":
        if protocol in ("icmp", "icmpv6"):
            return "ipv6-icmp"
        if protocol == "1":
            return "58"
    return protocol


def check_ports(protocol: str | None, port_min: int | None, port_max: int | None) -> None:
    if port_min is None and port_max is None:
        return
    if protocol is None:
        raise BadRequest("Must also specify protocol if port range is given.",
                         type="SecurityGroupProtocolRequiredWithPorts")
    number = protocol_number(protocol)
    if number in {PROTOCOL_NUMBERS[p] for p in PORT_PROTOCOLS}:
        check_port_range(port_min, port_max)
    elif number in ICMP_NUMBERS:
        check_icmp(port_min, port_max)
    else:
        raise BadRequest(
            f"Ports cannot be specified for protocol {number}. Ports are only supported "
            f"for {', '.join(p.upper() for p in PORT_PROTOCOLS)}.",
            type="SecurityGroupInvalidProtocolForPort")


def check_port_range(port_min: int | None, port_max: int | None) -> None:
    if port_min == 0 or port_max == 0:
        raise BadRequest("Invalid value for port 0", type="SecurityGroupInvalidPortValue")
    if port_min is None or port_max is None or port_min > port_max:
        raise BadRequest("For TCP/UDP protocols, port_range_min must be <= port_range_max",
                         type="SecurityGroupInvalidPortRange")


def check_icmp(icmp_type: int | None, icmp_code: int | None) -> None:
    """ICMP rules carry the type in ``port_range_min`` and the code in ``port_range_max``."""
    for value, field, attr in ((icmp_type, "type", "port_range_min"),
                               (icmp_code, "code", "port_range_max")):
        if value is not None and not 0 <= value <= 255:
            raise BadRequest(f"Invalid value for ICMP {field} ({attr}) {value}. "
                             "It must be 0 to 255.", type="SecurityGroupInvalidIcmpValue")
    if icmp_type is None and icmp_code is not None:
        raise BadRequest(f"ICMP code (port-range-max) {icmp_code} is provided but ICMP type "
                         "(port-range-min) is missing.", type="SecurityGroupMissingIcmpType")


def check_prefix(prefix: str | None, ethertype: str) -> None:
    if prefix and f"IPv{ipaddress.ip_interface(prefix).version}" != ethertype:
        raise BadRequest(f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
                         type="SecurityGroupRuleParameterConflict")


def check_ethertype_protocol(ethertype: str, protocol: str | None) -> None:
    if ethertype == "IPv4" and protocol in IPV6_ONLY_PROTOCOLS:
        raise BadRequest(f"Invalid ethertype {ethertype} for protocol {protocol}.",
                         type="SecurityGroupEthertypeConflictWithProtocol")


def check_single_remote(rule: Rule) -> None:
    remotes = (rule.remote_ip_prefix, rule.remote_group_id, rule.remote_address_group_id)
    if sum(1 for remote in remotes if remote) > 1:
        raise BadRequest("Only one of remote_ip_prefix or remote_group_id or "
                         "remote_address_group_id may be provided.",
                         type="SecurityGroupMultipleRemoteEntites")


def normalized_cidr(prefix: str | None) -> str | None:
    """The network of a ``remote_ip_prefix`` (host bits cleared), as Neutron shows it."""
    if not prefix:
        return None
    return str(ipaddress.ip_interface(prefix).network)


# -- identity -------------------------------------------------------------------------

def rule_key(rule: Rule) -> str:
    """The identity two rules of one group are duplicates by, as Neutron compares them.

    Direction, ethertype, ports, protocol (a name and its number are one protocol:
    ``tcp`` = ``6``, ``icmpv6`` = ``ipv6-icmp`` = ``58`` for IPv6), the remote group
    and address group, and the remote prefix (``0.0.0.0/0`` and ``::/0`` are the same
    as none; otherwise compared as stored, host bits included). The group itself is
    not part of the key: keys are unique per group. Description is not compared.
    """
    prefix = None if rule.remote_ip_prefix in ANY_PREFIXES else rule.remote_ip_prefix
    parts = (rule.direction, rule.ethertype, rule.port_range_max, rule.port_range_min,
             protocol_identity(rule.protocol, rule.ethertype), rule.remote_group_id,
             rule.remote_address_group_id, prefix)
    return "|".join("+" if part is None else str(part) for part in parts)


def protocol_identity(protocol: str | None, ethertype: str) -> str | None:
    """``name/number`` of a protocol, the way duplicates are compared."""
    protocol = canonical_protocol(protocol, ethertype)
    if protocol is None:
        return None
    if protocol in PROTOCOL_NUMBERS:
        return f"{protocol}/{PROTOCOL_NUMBERS[protocol]}"
    number = int(protocol)
    return f"{PROTOCOL_NAMES.get(number, protocol)}/{number}"


def check_unique_in_request(rules: Iterable[Rule]) -> None:
    """A bulk create must not carry the same rule twice."""
    seen: set[str] = set()
    for rule in rules:
        if rule.key in seen:
            raise Conflict("Duplicate Security Group Rule in POST.",
                           type="DuplicateSecurityGroupRuleInPost")
        seen.add(rule.key)


def rule_exists(rule_id: str) -> Conflict:
    """The 409 for a rule whose key its group already holds (under id ``rule_id``)."""
    return Conflict(f"Security group rule already exists. Rule id is {rule_id}.",
                    type="SecurityGroupRuleExists")
