"""Nova's pagination: ``limit`` / ``marker`` / ``offset`` query parameters and the
``*_links`` ``next`` link of a full page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from nubo.core.api.routing import ApiRequest
from nubo.core.errors import BadRequest


def max_limit(req: ApiRequest) -> int:
    return req.rt.settings.compute.max_list_limit


def _int(req: ApiRequest, name: str) -> int | None:
    raw = req.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} param must be an integer") from None
    if value < 0:
        raise BadRequest(f"{name} param must be positive")
    return value


def limit(req: ApiRequest) -> int:
    """The page size: the asked limit, capped at the configured maximum."""
    asked = _int(req, "limit")
    cap = max_limit(req)
    return cap if asked is None else min(asked, cap)


def offset(req: ApiRequest) -> int:
    return _int(req, "offset") or 0


def marker(req: ApiRequest) -> str | None:
    return req.query.get("marker")


def next_links(req: ApiRequest, items: Sequence[Any], page: int, last_id: str
               ) -> list[dict[str, str]]:
    """``[{"rel": "next", "href": ...}]`` when the page is full, else ``[]``."""
    if not items or len(items) < page:
        return []
    params = [(k, v) for k, v in req.query.multi_items() if k != "marker"]
    params.append(("marker", last_id))
    path = req.path.removeprefix("/compute")
    href = f"{req.rt.settings.public_url}/compute{path}?{urlencode(params)}"
    return [{"rel": "next", "href": href}]


def bool_param(req: ApiRequest, name: str, default: bool = False) -> bool:
    raw = req.query.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on", "t", "y"):
        return True
    if lowered in ("0", "false", "no", "off", "f", "n", ""):
        return False
    raise BadRequest(f"Invalid value {raw!r} for {name}: a boolean is required.")
