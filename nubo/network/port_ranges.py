"""The ports of a floating IP port forwarding: single ports or ranges.

A forwarding maps the floating IP's ``external_port`` (or ``external_port_range``,
"first:last") to ``internal_port`` (or ``internal_port_range``) on a fixed IP of an
internal port. Ranges map N ports to N ports, or N ports to one; a request gives
single ports or ranges, not both. Two forwardings of one floating IP and protocol
may not share an external port, and two of one internal address and protocol may
not share an internal port. Messages are Neutron's (``pf_plugin``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nubo.core.errors import BadRequest
from nubo.network.errors import bad_resource_request, invalid_attribute

RESOURCE = "port_forwarding"
LOWEST, HIGHEST = 1, 65535
# neutron-lib's IPTABLES_PROTOCOL_MAP: the protocols a forwarding may name
PROTOCOLS = ("dccp", "icmp", "ipv6-icmp", "sctp", "tcp", "udp")


@dataclass(frozen=True)
class PortRange:
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.start}:{self.end}"

    @property
    def width(self) -> int:
        return self.end - self.start

    def collides(self, other: PortRange) -> bool:
        return max(self.start, other.start) <= min(self.end, other.end)


@dataclass(frozen=True)
class Ports:
    """A forwarding's internal and external ports."""

    internal: PortRange
    external: PortRange

    def view(self) -> dict[str, Any]:
        """As Neutron shows them: both ranges, and the single ports where a range
        holds one port."""
        out: dict[str, Any] = {"internal_port_range": str(self.internal),
                               "external_port_range": str(self.external)}
        if self.internal.width == 0:
            out["internal_port"] = self.internal.start
        if self.external.width == 0:
            out["external_port"] = self.external.start
        return out


def protocol(data: object) -> str:
    if not isinstance(data, str) or data.lower() not in PROTOCOLS:
        raise invalid_attribute("protocol", f"{data} is not in valid_values")
    return data.lower()


def single_port(data: object, attr: str) -> int:
    """``internal_port`` / ``external_port`` (neutron-lib's ``validate_range``)."""
    if isinstance(data, bool) or not isinstance(data, int | str):
        raise invalid_attribute(attr, f"'{data}' is not an integer")
    try:
        port = int(data)
    except ValueError:
        raise invalid_attribute(attr, f"'{data}' is not an integer") from None
    if port < LOWEST:
        raise invalid_attribute(attr, f"'{port}' is too small - must be at least '{LOWEST}'")
    if port > HIGHEST:
        raise invalid_attribute(attr, f"'{port}' is too large - must be no larger than "
                                      f"'{HIGHEST}'")
    return port


def port_range(data: object, attr: str) -> PortRange:
    """A "first:last" (or single "port") range (neutron-lib's ``validate_port_range``)."""
    text = str(data)
    parts = text.split(":")
    if len(parts) > 2 or any(not p for p in parts):
        raise invalid_attribute(attr, "Port range must be two integers separated by a colon")
    numbers = []
    for part in parts:
        if not part.isdigit():
            raise invalid_attribute(attr, f"Invalid port: {part}")
        number = int(part)
        if not LOWEST <= number <= HIGHEST:
            raise invalid_attribute(attr, f"Invalid port: {part}, the port must be in the "
                                          f"range [{LOWEST}, {HIGHEST}]")
        numbers.append(number)
    if numbers[0] > numbers[-1]:
        raise invalid_attribute(attr, "First port in a port range must be lower than the "
                                      "second port")
    return PortRange(numbers[0], numbers[-1])


def requested(body: Mapping[str, Any], current: Ports | None = None) -> Ports:
    """The ports a create (``current`` None) or an update asks for, checked."""
    singles = [k for k in ("internal_port", "external_port") if body.get(k) is not None]
    ranges = [k for k in ("internal_port_range", "external_port_range")
              if body.get(k) is not None]
    if singles and ranges:
        raise bad_resource_request(RESOURCE, "internal_port and external_port cannot be "
                                   "used with internal_port_range and external_port_range")
    internal = current.internal if current else None
    external = current.external if current else None
    if body.get("internal_port") is not None:
        port = single_port(body["internal_port"], "internal_port")
        internal = PortRange(port, port)
    if body.get("external_port") is not None:
        port = single_port(body["external_port"], "external_port")
        external = PortRange(port, port)
    if body.get("internal_port_range") is not None:
        internal = port_range(body["internal_port_range"], "internal_port_range")
    if body.get("external_port_range") is not None:
        external = port_range(body["external_port_range"], "external_port_range")
    if internal is None or external is None:
        raise bad_resource_request(RESOURCE, "an internal and an external port (or port "
                                   "range) are required")
    ports = Ports(internal, external)
    check_relation(ports)
    return ports


def check_relation(ports: Ports) -> None:
    """N internal ports for N external ones, or one for N."""
    if ports.internal.width > 0 and ports.internal.width != ports.external.width:
        raise bad_resource_request(RESOURCE, "Invalid ranges of internal and/or external "
                                   "ports. The relation between internal and external "
                                   "ports must be N-N or 1-N")


def collision(key: str, existing: PortRange, new: PortRange) -> BadRequest:
    """Two forwardings that would share a port (``key``: which side)."""
    return bad_resource_request(RESOURCE, f"There is a port collision with the {key}. The "
                                f"following ranges collide: {existing} and {new}")
