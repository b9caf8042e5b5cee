"""Neutron's error shapes, built once for the network service's pure logic.

Neutron answers a malformed attribute with ``HTTPBadRequest`` ("Invalid input for
cidr. Reason: ..."), a request its checks refuse with ``InvalidInput`` ("Invalid
input for operation: ..."), and everything else with an exception class whose name
is the fault body's ``type``. ``neutron_fault`` renders ``details["type"]``.
"""

from __future__ import annotations

from nubo.core.errors import BadRequest, Conflict


def invalid_attribute(attr: str, reason: str) -> BadRequest:
    """An attribute that fails its format check (Neutron's attribute validators)."""
    return BadRequest(f"Invalid input for {attr}. Reason: {reason}.", type="HTTPBadRequest")


def invalid_input(reason: str) -> BadRequest:
    """Neutron's ``InvalidInput``: well-formed values that do not fit together."""
    return BadRequest(f"Invalid input for operation: {reason}.", type="InvalidInput")


def bad_request(kind: str, message: str) -> BadRequest:
    """A 400 whose fault ``type`` is Neutron's exception class name ``kind``."""
    return BadRequest(message, type=kind)


def conflict(kind: str, message: str) -> Conflict:
    """A 409 whose fault ``type`` is Neutron's exception class name ``kind``."""
    return Conflict(message, type=kind)


def bad_resource_request(resource: str, msg: str) -> BadRequest:
    """Neutron's generic ``BadRequest``: "Bad router request: ..."."""
    return BadRequest(f"Bad {resource} request: {msg}.", type="BadRequest")


def dict_keys_reason(value: object, expected: tuple[str, ...]) -> str | None:
    """Why ``value`` is not a dict with exactly the keys ``expected`` (neutron-lib's
    ``_verify_dict_keys``), or None."""
    if not isinstance(value, dict):
        return (f"Invalid input. '{value}' must be a dictionary with keys: "
                f"{list(expected)}")
    if set(value) != set(expected):
        return ("Validation of dictionary's keys failed. Expected keys: "
                f"{_set_repr(expected)} Provided keys: {_set_repr(value)}")
    return None


def _set_repr(keys: object) -> str:
    assert isinstance(keys, tuple | dict)
    names = sorted(repr(k) for k in keys)
    return "{" + ", ".join(names) + "}" if names else "set()"
