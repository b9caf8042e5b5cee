"""Keystone's ``links`` on entities and collections."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nubo.core.api.routing import ApiRequest


def base(req: ApiRequest) -> str:
    return f"{req.rt.settings.public_url}/identity/v3"


def entity(req: ApiRequest, path: str, item: dict[str, Any]) -> dict[str, Any]:
    item["links"] = {"self": f"{base(req)}/{path}/{item['id']}"}
    return item


def collection(req: ApiRequest, key: str, path: str, items: Iterable[dict[str, Any]],
               *, truncate: bool = True) -> dict[str, Any]:
    rendered = [entity(req, path, i) for i in items]
    out: dict[str, Any] = {key: rendered}
    limit = req.rt.settings.identity.list_limit
    if truncate and limit and len(rendered) > limit:
        out[key] = rendered[:limit]
        out["truncated"] = True
    query = req.query_string
    self_url = f"{req.rt.settings.public_url}{req.path}" + (f"?{query}" if query else "")
    out["links"] = {"self": self_url, "previous": None, "next": None}
    return out


def filters(req: ApiRequest) -> dict[str, str]:
    return {k: v for k, v in req.query.items()}
