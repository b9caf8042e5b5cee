"""Checks of request bodies, with Neutron's messages ("Invalid input for
name. Reason: ...") and its refusal of attributes it does not know."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from nubo.core.api.routing import ApiRequest
from nubo.core.errors import BadRequest
from nubo.network.errors import invalid_attribute

MISSING: Any = object()


invalid = invalid_attribute


async def resource_body(req: ApiRequest, resource: str) -> dict[str, Any]:
    """``body[resource]``: the object a create or update sends."""
    body = await req.json()
    if not isinstance(body, dict) or not isinstance(body.get(resource), dict):
        raise BadRequest(f"Resource body required: '{resource}' is missing or not an object",
                         type="HTTPBadRequest")
    value: dict[str, Any] = body[resource]
    return value


def only(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'",
                         type="HTTPBadRequest")


def forbid_update(body: Mapping[str, Any], fixed: Iterable[str], resource: str) -> None:
    """Attributes that can be set only at create."""
    for key in fixed:
        if key in body:
            raise BadRequest(f"Cannot update read-only attribute {key}",
                             type="HTTPBadRequest")


def string(body: Mapping[str, Any], key: str, *, max_len: int = 255,
           default: Any = MISSING, nullable: bool = False) -> Any:
    value = body.get(key, default)
    if value is MISSING or (value is None and nullable):
        return value
    if not isinstance(value, str):
        raise invalid(key, f"'{value}' is not a valid string")
    if len(value) > max_len:
        raise invalid(key, f"'{value}' exceeds maximum length of {max_len}")
    return value


def boolean(body: Mapping[str, Any], key: str, *, default: Any = MISSING) -> Any:
    value = body.get(key, default)
    if value is MISSING or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise invalid(key, f"'{value}' cannot be converted to boolean")


def integer(body: Mapping[str, Any], key: str, *, minimum: int | None = None,
            maximum: int | None = None, default: Any = MISSING,
            nullable: bool = False) -> Any:
    value = body.get(key, default)
    if value is MISSING or (value is None and nullable):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid(key, f"'{value}' is not an integer")
    try:
        number = int(value)
    except ValueError:
        raise invalid(key, f"'{value}' is not an integer") from None
    if minimum is not None and number < minimum:
        raise invalid(key, f"'{number}' is too small - must be at least '{minimum}'")
    if maximum is not None and number > maximum:
        raise invalid(key, f"'{number}' is too large - must be no larger than '{maximum}'")
    return number


def uuid_value(body: Mapping[str, Any], key: str, *, default: Any = MISSING,
               nullable: bool = False) -> Any:
    value = body.get(key, default)
    if value is MISSING or (value is None and nullable):
        return value
    if not is_uuid(value):
        raise invalid(key, f"'{value}' is not a valid UUID")
    return value


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def string_list(body: Mapping[str, Any], key: str, *, default: Any = MISSING,
                max_len: int = 255) -> Any:
    value = body.get(key, default)
    if value is MISSING:
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(key, f"'{value}' is not a list of strings")
    for v in value:
        if len(v) > max_len:
            raise invalid(key, f"'{v}' exceeds maximum length of {max_len}")
    if len(set(value)) != len(value):
        raise invalid(key, f"Duplicate items in the list: '{', '.join(value)}'")
    return value


async def one_or_many(req: ApiRequest, resource: str, collection: str
                      ) -> tuple[list[dict[str, Any]], bool]:
    """The bodies of a create: ``{resource: {...}}``, or Neutron's bulk form
    ``{collection: [{...}, ...]}`` (made all or none); and whether it was bulk."""
    raw = await req.json()
    if isinstance(raw, dict) and isinstance(raw.get(collection), list):
        bodies = list(raw[collection])
        if not bodies or not all(isinstance(item, dict) for item in bodies):
            raise BadRequest("Resources required", type="HTTPBadRequest")
        return bodies, True
    return [await resource_body(req, resource)], False
