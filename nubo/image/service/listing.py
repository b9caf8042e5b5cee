"""Listing images: Glance's filters, sort orders and markers, as pure functions
over image dicts (the API's rendering), so the rules are tested without a cloud.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nubo.core.errors import BadRequest
from nubo.image.service.records import is_uuid

SORT_KEYS = frozenset({"name", "status", "container_format", "disk_format", "size", "id",
                       "created_at", "updated_at", "visibility", "owner", "min_disk",
                       "min_ram", "virtual_size"})
OPERATORS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "in"})
# parameters that are not filters on the image's fields
CONTROL = frozenset({"limit", "marker", "sort_key", "sort_dir", "sort", "member_status",
                     "visibility", "size_min", "size_max", "tag", "os_hidden"})
BOOLEANS = frozenset({"protected", "os_hidden"})
TIMES = frozenset({"created_at", "updated_at"})


@dataclass(frozen=True)
class Sort:
    keys: tuple[tuple[str, str], ...]


def parse_sort(query: Mapping[str, Any]) -> Sort:
    """``sort=k:dir,...`` or repeated ``sort_key``/``sort_dir``; default created_at desc."""
    pairs: list[tuple[str, str]] = []
    if query.get("sort"):
        if query.get("sort_key") or query.get("sort_dir"):
            raise BadRequest("The 'sort' parameter cannot be used with 'sort_key' or "
                             "'sort_dir'.")
        for part in str(query["sort"]).split(","):
            key, _, direction = part.strip().partition(":")
            pairs.append((key, direction or "desc"))
    else:
        keys = _many(query, "sort_key")
        dirs = _many(query, "sort_dir")
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise BadRequest("The number of sort_dir values must match sort_key.")
        for i, key in enumerate(keys):
            pairs.append((key, dirs[i] if len(dirs) > 1 else (dirs[0] if dirs else "desc")))
        if not keys and dirs:
            pairs.append(("created_at", dirs[0]))
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise BadRequest(f"Invalid sort key: {key}. It should be one of the following: "
                             f"{', '.join(sorted(SORT_KEYS))}.")
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction: {direction}")
    if not pairs:
        pairs = [("created_at", "desc")]
    if "id" not in {k for k, _ in pairs}:
        pairs.append(("id", pairs[-1][1]))
    return Sort(tuple(pairs))


def _many(query: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(query, "getlist", None)
    values = getlist(key) if getlist else ([query[key]] if key in query else [])
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in str(v).split(",") if x.strip())
    return out


def sort_images(images: list[dict[str, Any]], sort: Sort,
                exact: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Sort in place; ``exact`` (image id -> stored row) supplies the timestamps with
    their microseconds, which the rendered images round to the second."""
    for key, direction in reversed(sort.keys):
        images.sort(key=_sort_key(key, exact if key in TIMES else None),
                    reverse=direction == "desc")
    return images


def _sort_key(key: str, exact: Mapping[str, Mapping[str, Any]] | None
              ) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    if exact is not None:
        return lambda image: _sortable(exact[image["id"]][key])
    return lambda image: _sortable(image.get(key))


def _sortable(value: Any) -> tuple[int, Any]:
    # None sorts first ascending, as in SQL NULLS FIRST
    return (0, "") if value is None else (1, value)


def parse_time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid datetime value: {value}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _bool(key: str, value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"Invalid value for {key}: {value!r} is not a boolean")


Predicate = Callable[[dict[str, Any]], bool]


def _compare(key: str, raw: str) -> Predicate:
    op, sep, operand = raw.partition(":")
    if not sep or op not in OPERATORS:
        op, operand = "eq", raw
    if key in TIMES:
        when = [parse_time(x) for x in operand.split(",")] if op == "in" else [parse_time(operand)]

        def value_of(image: dict[str, Any]) -> Any:
            return parse_time(image[key])
        wanted: list[Any] = when
    elif key in BOOLEANS:
        wanted = [_bool(key, operand)]

        def value_of(image: dict[str, Any]) -> Any:
            return bool(image.get(key))
    else:
        wanted = operand.split(",") if op == "in" else [operand]

        def value_of(image: dict[str, Any]) -> Any:
            value = image.get(key)
            return None if value is None else str(value)
    return _operator(op, value_of, wanted)


def _operator(op: str, value_of: Callable[[dict[str, Any]], Any], wanted: list[Any]
              ) -> Predicate:
    first = wanted[0]
    tests: dict[str, Callable[[Any], bool]] = {
        "eq": lambda v: v == first, "neq": lambda v: v != first,
        "in": lambda v: v in wanted,
        "gt": lambda v: v is not None and v > first, "gte": lambda v: v is not None and v >= first,
        "lt": lambda v: v is not None and v < first, "lte": lambda v: v is not None and v <= first,
    }
    test = tests[op]
    return lambda image: test(value_of(image))


def _size(key: str, raw: str) -> int:
    if not raw.isdigit():
        raise BadRequest(f"Invalid value for {key}: {raw!r} is not an integer")
    return int(raw)


def predicates(filters: Mapping[str, str]) -> list[Predicate]:
    """Predicates for every filter in ``filters`` (the query without control keys
    other than size_min/size_max/tag/os_hidden, which are handled here too)."""
    out: list[Predicate] = []
    for key, raw in filters.items():
        if key in ("limit", "marker", "sort_key", "sort_dir", "sort", "member_status",
                   "visibility", "tag"):
            continue
        if key in ("size_min", "size_max"):
            out.append(_size_bound(key, _size(key, raw)))
        elif key == "id" and not raw.startswith("in:") and not is_uuid(raw):
            out.append(lambda i: False)
        else:
            out.append(_compare(key, raw))
    return out


def _size_bound(key: str, bound: int) -> Predicate:
    if key == "size_min":
        return lambda image: image.get("size") is not None and image["size"] >= bound
    return lambda image: image.get("size") is not None and image["size"] <= bound


# filters the database can apply itself when they are plain equalities
INDEXABLE = ("id", "name", "status", "disk_format", "container_format", "owner")


def equalities(filters: Mapping[str, str]) -> dict[str, Any]:
    """The plain ``key=value`` filters on columns, for the query to narrow the rows
    (the predicates still decide); values with an operator prefix are left out."""
    out: dict[str, Any] = {}
    for key in (*INDEXABLE, *BOOLEANS):
        raw = filters.get(key)
        if raw is None or raw.partition(":")[0] in OPERATORS:
            continue
        if key in BOOLEANS:
            out[key] = _bool(key, raw)
        else:
            out[key] = raw
    if "os_hidden" not in filters:
        out["os_hidden"] = False
    return out


def has_tags(image: Mapping[str, Any], tags: list[str]) -> bool:
    return all(tag in image.get("tags", ()) for tag in tags)


def page(images: list[dict[str, Any]], marker: str | None, limit: int | None
         ) -> tuple[list[dict[str, Any]], bool]:
    """The page after ``marker`` (400 if it is not in the list) and whether more follow."""
    if marker:
        ids = [i["id"] for i in images]
        if marker not in ids:
            raise BadRequest(f"Invalid marker. Image {marker} could not be found.")
        images = images[ids.index(marker) + 1:]
    if limit is None:
        return images, False
    return images[:limit], len(images) > limit
