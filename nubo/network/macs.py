"""Port MAC addresses: random ones under the cloud's base MAC, and the checks of
user-given ones, as Neutron makes them.

Neutron's ``base_mac`` (default ``fa:16:3e:00:00:00``) fixes the first three octets
of every generated MAC, and the fourth when it is not ``00``; the rest is random.
A user may give a MAC in any notation netaddr reads (``aa:bb:cc:dd:ee:ff``,
``aa-bb-...``, ``aabb.ccdd.eeff``, bare hex, ...); it is stored lowercase with colons.
Neutron refuses only the all-zero and broadcast MACs on ports; other multicast MACs
are refused where Neutron refuses them (allowed address pairs):
:func:`check_not_multicast`.
"""

from __future__ import annotations

import random
import re

from nubo.core.errors import BadRequest, ConfigError
from nubo.network.errors import invalid_attribute

BASE_MAC = "fa:16:3e:00:00:00"

_HEX = "[0-9A-Fa-f]"
_BASE_PATTERN = re.compile(f"{_HEX}[aceACE02468](:{_HEX}{{2}}){{5}}")
"""neutron-lib's ``MAC_PATTERN``: six colon-separated octets, unicast first octet."""

_FORMATS = [
    (re.compile(sep.join([f"({_HEX}{{1,{width}}})"] * count)), width)
    for sep, width, count in ((":", 2, 6), ("-", 2, 6), (":", 4, 3), ("-", 4, 3),
                              (r"\.", 4, 3))
] + [
    (re.compile(f"({_HEX}{{5,6}})-({_HEX}{{5,6}})"), 6),
    (re.compile(f"({_HEX}{{5,6}}):({_HEX}{{5,6}})"), 6),
    (re.compile(f"({_HEX}{{11,12}})"), 12),
]
"""The EUI-48 notations netaddr accepts: octets of 1-2 digits, three groups of 1-4,
two of 5-6, or 11-12 bare digits (each group zero-padded to its width)."""

_REFUSED = {0, (1 << 48) - 1}


def check_base_mac(base: str) -> str:
    """The configured base MAC, lowercase; ConfigError if it is not six octets with a
    unicast first octet."""
    if not _BASE_PATTERN.fullmatch(base):
        raise ConfigError(f"Base MAC: '{base}' is not a valid input")
    return base.lower()


def random_mac(base: str = BASE_MAC, rng: random.Random | None = None) -> str:
    """A random MAC under ``base`` (see the module docstring)."""
    fixed = bytes.fromhex(check_base_mac(base).replace(":", ""))
    keep = 4 if fixed[3] else 3
    octets = fixed[:keep] + bytes((rng or random).getrandbits(8) for _ in range(6 - keep))
    return _format(int.from_bytes(octets))


def mac_value(data: object) -> int | None:
    """``data`` read as an EUI-48 the way netaddr reads it, or None."""
    if not isinstance(data, str):
        return None
    for pattern, width in _FORMATS:
        match = pattern.fullmatch(data)
        if match:
            return int("".join(group.rjust(width, "0") for group in match.groups()), 16)
    return None


def parse_mac(data: object, attr: str = "mac_address") -> str:
    """A user-given MAC, normalised to ``aa:bb:cc:dd:ee:ff``; 400 as Neutron's
    ``validate_mac_address`` for a malformed, all-zero or broadcast MAC."""
    value = mac_value(data)
    if value is None or value in _REFUSED:
        raise invalid_attribute(attr, f"'{data}' is not a valid MAC address")
    return _format(value)


def is_multicast(mac: str) -> bool:
    """Whether a normalised MAC has the group bit (lowest bit of the first octet)."""
    return bool(int(mac[:2], 16) & 1)


def check_not_multicast(mac: str) -> None:
    """400 for a multicast MAC where Neutron refuses one (allowed address pairs)."""
    if is_multicast(mac):
        raise not_multicast_error(mac)


def not_multicast_error(mac: str) -> BadRequest:
    return BadRequest(f"MAC address {mac} is a multicast address, which is not supported.",
                      type="HTTPBadRequest")


def _format(value: int) -> str:
    raw = f"{value:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))
