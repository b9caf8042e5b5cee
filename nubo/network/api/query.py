"""The Neutron request conventions every resource shares: list parameters
(filters, ``fields``, sorting, pagination, tags), the ``*_links`` of a page,
``If-Match: revision_number=N``, and the checks of body attributes that
Neutron guards with their own policy rules (``create_network:shared``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from nubo.core.api.routing import ApiRequest
from nubo.core.errors import BadRequest
from nubo.network.policies import ATTRIBUTE_RULES
from nubo.network.service.listing import ListQuery

RESERVED = frozenset({"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse",
                      "tags", "tags-any", "not-tags", "not-tags-any", "changed_since"})


def list_query(req: ApiRequest) -> ListQuery:
    """Parse a list request's query string."""
    q = req.query
    filters: dict[str, list[str]] = {}
    for key, value in q.multi_items():
        if key not in RESERVED:
            filters.setdefault(key, []).append(value)
    return ListQuery(
        filters=filters, sorts=_sorts(q.getlist("sort_key"), q.getlist("sort_dir")),
        limit=_limit(req), marker=q.get("marker") or None,
        page_reverse=q.get("page_reverse", "false").lower() == "true",
        tags=_csv(q.getlist("tags")), tags_any=_csv(q.getlist("tags-any")),
        not_tags=_csv(q.getlist("not-tags")), not_tags_any=_csv(q.getlist("not-tags-any")),
        changed_since=_timestamp(q.get("changed_since")),
    )


def _csv(values: Sequence[str]) -> list[str]:
    return [tag for value in values for tag in value.split(",") if tag]


def _sorts(keys: Sequence[str], dirs: Sequence[str]) -> list[tuple[str, bool]]:
    if len(keys) != len(dirs) and dirs:
        raise BadRequest("The number of sort_keys and sort_dirs must be same",
                         type="HTTPBadRequest")
    out = []
    for i, key in enumerate(keys):
        direction = dirs[i] if dirs else "asc"
        if direction not in ("asc", "desc"):
            raise BadRequest(f"{direction} is invalid value for sort_dir, valid value is "
                             "'asc' and 'desc'", type="HTTPBadRequest")
        out.append((key, direction == "asc"))
    return out


def _limit(req: ApiRequest) -> int | None:
    raw = req.query.get("limit")
    cap = req.rt.settings.network.pagination_max_limit
    if raw is None:
        return cap if cap > 0 else None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Limit must be an integer 0 or greater and not '{raw}'",
                         type="HTTPBadRequest") from None
    if value < 0:
        raise BadRequest(f"Limit must be an integer 0 or greater and not '{raw}'",
                         type="HTTPBadRequest")
    if value == 0:
        return cap if cap > 0 else None
    return min(value, cap) if cap > 0 else value


def _timestamp(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"The input changed_since must be in the following format: "
                         f"YYYY-MM-DDTHH:MM:SS, not '{raw}'", type="InvalidInput") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def fields(req: ApiRequest) -> list[str]:
    return [f for value in req.query.getlist("fields") for f in value.split(",") if f]


def project(item: Mapping[str, Any], wanted: Sequence[str]) -> dict[str, Any]:
    """Only the asked ``fields`` of a resource (all of them when none are asked)."""
    if not wanted:
        return dict(item)
    return {k: item[k] for k in wanted if k in item}


def page(req: ApiRequest, collection: str, items: list[dict[str, Any]], more: bool,
         query: ListQuery) -> dict[str, Any]:
    """A list reply: the projected items and, when paginating, the next/previous links."""
    wanted = fields(req)
    out: dict[str, Any] = {collection: [project(i, wanted) for i in items]}
    if query.limit is None or not items:
        return out
    links = []
    ahead = more if not query.page_reverse else True
    behind = bool(query.marker) if not query.page_reverse else more
    if ahead:
        links.append({"rel": "next", "href": _link(req, items[-1]["id"], reverse=False)})
    if behind:
        links.append({"rel": "previous", "href": _link(req, items[0]["id"], reverse=True)})
    if links:
        out[f"{collection}_links"] = links
    return out


def _link(req: ApiRequest, marker: str, *, reverse: bool) -> str:
    params = [(k, v) for k, v in req.query.multi_items()
              if k not in ("marker", "page_reverse")]
    params.append(("marker", marker))
    if reverse:
        params.append(("page_reverse", "True"))
    base = f"{req.rt.settings.public_url}{req.path}"
    return f"{base}?{urlencode(params)}"


def if_match(req: ApiRequest) -> int | None:
    """The revision an update is constrained to (``If-Match: revision_number=N``)."""
    raw = req.headers.get("if-match")
    if not raw:
        return None
    for part in raw.split(","):
        key, _, value = part.strip().partition("=")
        if key == "revision_number":
            try:
                return int(value)
            except ValueError:
                break
    raise BadRequest(f"If-Match header must be 'revision_number=<int>', not '{raw}'",
                     type="InvalidInput")


def authorize_attributes(req: ApiRequest, action: str, resource: str,
                         body: Iterable[str], target: Mapping[str, Any]) -> None:
    """The rules Neutron keeps for single attributes (``update_network:shared``),
    for each attribute the body sets."""
    for attribute in body:
        rule = f"{action}_{resource}:{attribute}"
        if rule in ATTRIBUTE_RULES:
            req.authorize(rule, target)


def visible_attribute(req: ApiRequest, resource: str, attribute: str,
                      target: Mapping[str, Any]) -> bool:
    """Whether the caller may see an attribute that has its own ``get_`` rule."""
    rule = f"get_{resource}:{attribute}"
    return rule not in ATTRIBUTE_RULES or req.allowed(rule, target)
