"""Small request-body checks shared by the compute resource APIs, with Nova's
"Invalid input for field/attribute" messages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from nubo.core.api.routing import ApiRequest
from nubo.core.errors import BadRequest

INT_MAX = 2**31 - 1
# the strings oslo strutils.bool_from_string(strict=True) accepts
TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
FALSE = frozenset({"0", "f", "false", "off", "n", "no"})
# printable, no leading or trailing whitespace (Nova's parameter_types.name)
NAME = re.compile(r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$")
# a metadata key (server and image metadata: Nova's parameter_types.metadata)
METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


def invalid(field: str, value: Any, why: str) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. {why}")


def only(body: Mapping[str, Any], allowed: Iterable[str], where: str = "") -> None:
    extra = sorted(set(body) - set(allowed))
    if extra:
        names = ", ".join(repr(k) for k in extra)
        raise BadRequest(f"Invalid input for field/attribute {where or 'body'}. "
                         f"Additional properties are not allowed ({names} "
                         f"{'was' if len(extra) == 1 else 'were'} unexpected)")


def integer(field: str, value: Any, minimum: int = 0, maximum: int = INT_MAX) -> int:
    if isinstance(value, bool):
        raise invalid(field, value, f"{value!r} is not of type 'integer', 'string'")
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise invalid(field, value, f"{value!r} is not of type 'integer'")
    if value < minimum:
        raise invalid(field, value, f"{value} is less than the minimum of {minimum}")
    if value > maximum:
        raise invalid(field, value, f"{value} is greater than the maximum of {maximum}")
    return value


def string(field: str, value: Any, *, min_length: int = 1, max_length: int = 255,
           name_chars: bool = True, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise invalid(field, value, f"{value!r} is not of type 'string'")
    if len(value) < min_length:
        raise invalid(field, value, f"{value!r} is too short")
    if len(value) > max_length:
        raise invalid(field, value, f"{value!r} is too long")
    if name_chars and not NAME.match(value):
        raise invalid(field, value, f"{value!r} has leading or trailing whitespace or "
                                    "control characters")
    return value


def boolean(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise invalid(field, value, f"{value!r} is not of type 'boolean'")


def metadata(value: Any, field: str) -> dict[str, str]:
    """A metadata object: keys of METADATA_KEY, string values up to 255 characters."""
    if not isinstance(value, dict):
        raise invalid(field, value, f"{value!r} is not of type 'object'")
    for key, item in value.items():
        if not METADATA_KEY.match(key):
            raise invalid(field, value, "Additional properties are not allowed "
                                        f"({key!r} was unexpected)")
        if not isinstance(item, str):
            raise invalid(f"{field}/{key}", item, f"{item!r} is not of type 'string'")
        if len(item) > 255:
            raise invalid(f"{field}/{key}", item, f"{item!r} is too long")
    return dict(value)


async def metadata_body(req: ApiRequest, key: str) -> dict[str, str]:
    """The metadata under ``key`` of a body that has nothing else."""
    body = await req.json()
    if not isinstance(body, dict) or key not in body:
        raise BadRequest(f"Invalid input for field/attribute {key}. Value: {body}. "
                         f"'{key}' is a required property")
    only(body, {key})
    return metadata(body[key], key)


def single_meta(items: dict[str, str], key: str) -> dict[str, str]:
    """A ``{"meta": {key: value}}`` body's item, which must name the URL's key."""
    if len(items) != 1:
        raise BadRequest("Invalid input for field/attribute meta. Value: "
                         f"{items}. {items!r} should have exactly 1 property")
    if key not in items:
        raise BadRequest("Request body and URI mismatch")
    return items
