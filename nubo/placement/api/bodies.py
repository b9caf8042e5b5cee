"""Checking request bodies and query strings the way Placement's JSON schemas do.

Every failure is a 400 in Placement's error body; nothing is written before
the whole request has been checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.responses import Response

from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest
from nubo.core.errors import BadRequest
from nubo.placement.capacity import MAX_INT
from nubo.placement.queries import BAD_VALUE, UUID

NAME = re.compile(r"^[A-Z0-9_]+$")


def invalid(message: str) -> BadRequest:
    return BadRequest(f"JSON does not validate: {message}")


async def body_object(req: ApiRequest) -> dict[str, Any]:
    body = await req.json()
    if not isinstance(body, dict):
        raise invalid(f"{_short(body)} is not of type 'object'")
    return body


def only(body: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str] = ()) -> None:
    allowed = set(allowed)
    extra = sorted(set(body) - allowed)
    if extra:
        raise invalid(f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                      "were unexpected)")
    for key in required:
        if key not in body:
            raise invalid(f"'{key}' is a required property")


def integer(body: Mapping[str, Any], key: str, *, minimum: int = 0,
            maximum: int = MAX_INT) -> int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{_short(value)} is not of type 'integer' ({key})")
    if not minimum <= value <= maximum:
        raise invalid(f"{value} is out of range for '{key}' ({minimum}..{maximum})")
    return value


def number(body: Mapping[str, Any], key: str) -> float:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(f"{_short(value)} is not of type 'number' ({key})")
    if not 0 < value <= 3.40282e38:
        raise invalid(f"{value} is out of range for '{key}'")
    return float(value)


def string(body: Mapping[str, Any], key: str, *, max_length: int = 255,
           nullable: bool = False) -> str | None:
    value = body[key]
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise invalid(f"{_short(value)} is not a valid '{key}' (a string of 1 to "
                      f"{max_length} characters)")
    return value


def uuid(value: Any, key: str, *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not UUID.match(value):
        raise invalid(f"{_short(value)} is not a 'uuid' ({key})")
    return value


def generation(body: Mapping[str, Any], key: str = "resource_provider_generation") -> int:
    if key not in body:
        raise invalid(f"'{key}' is a required property")
    return integer(body, key, minimum=0)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def query(req: ApiRequest, allowed: Iterable[str]) -> None:
    """Unknown query parameters are a 400, as Placement's query schemas say."""
    allowed = set(allowed)
    for key in req.query:
        if key not in allowed:
            raise BadRequest(f"Invalid query string parameters: Additional properties are not "
                             f"allowed ('{key}' was unexpected)", code=BAD_VALUE)


def one(req: ApiRequest, key: str) -> str | None:
    values = req.query.getlist(key)
    if len(values) > 1:
        raise BadRequest(f"Query parameter {key!r} can be specified only once.",
                         code="placement.query.duplicate_key")
    return values[0] if values else None


def reply(req: ApiRequest, body: Mapping[str, Any] | None, *, status: int = 200,
          headers: Mapping[str, str] | None = None) -> Response:
    """A response with Placement's caching headers (from 1.15) on bodies."""
    out = dict(headers or {})
    if body is not None and req.at_least("1.15"):
        out["cache-control"] = "no-cache"
        out["last-modified"] = format_datetime(datetime.now(UTC), usegmt=True)
    if body is None:
        return Response(status_code=status, headers=out)
    return JSONResponse(dict(body), status_code=status, headers=out)
