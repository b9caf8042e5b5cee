"""Listing rules: filters, operators, sorting and markers."""

from __future__ import annotations

from typing import Any

import pytest

from nubo.core.errors import BadRequest
from nubo.image.service.listing import (
    equalities,
    page,
    parse_sort,
    predicates,
    sort_images,
)


def _img(name: str, size: int | None, created: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"id-{name}", "name": name, "size": size, "created_at": created,
            "updated_at": created, "protected": False, "os_hidden": False, **extra}


IMAGES = [_img("a", 10, "2026-01-01T00:00:00Z", colour="red"),
          _img("b", None, "2026-02-01T00:00:00Z"),
          _img("c", 30, "2026-03-01T00:00:00Z", protected=True)]


def _match(filters: dict[str, str]) -> list[str]:
    tests = predicates(filters)
    return [i["name"] for i in IMAGES if all(t(i) for t in tests)]


def test_filters_and_operators() -> None:
    assert _match({"name": "in:a,c"}) == ["a", "c"]
    assert _match({"name": "neq:a"}) == ["b", "c"]
    assert _match({"size_min": "11"}) == ["c"]
    assert _match({"size_max": "10"}) == ["a"]
    assert _match({"created_at": "gt:2026-01-15T00:00:00Z"}) == ["b", "c"]
    assert _match({"updated_at": "lte:2026-02-01T00:00:00Z"}) == ["a", "b"]
    assert _match({"protected": "true"}) == ["c"]
    assert _match({"colour": "red"}) == ["a"]
    assert _match({"id": "not-a-uuid"}) == []


def test_bad_filter_values() -> None:
    for filters in ({"size_min": "x"}, {"created_at": "gt:soon"}, {"protected": "maybe"}):
        with pytest.raises(BadRequest):
            predicates(filters)


def test_sorting() -> None:
    assert parse_sort({}).keys == (("created_at", "desc"), ("id", "desc"))
    assert parse_sort({"sort": "name:asc,size"}).keys[:2] == (("name", "asc"), ("size", "desc"))
    names = [i["name"] for i in sort_images(list(IMAGES), parse_sort({"sort": "size:asc"}))]
    assert names == ["b", "a", "c"]
    with pytest.raises(BadRequest):
        parse_sort({"sort_key": "colour"})
    with pytest.raises(BadRequest):
        parse_sort({"sort": "name:sideways"})
    with pytest.raises(BadRequest):
        parse_sort({"sort": "name", "sort_key": "id"})


def test_markers() -> None:
    assert page(list(IMAGES), "id-a", 1) == ([IMAGES[1]], True)
    assert page(list(IMAGES), "id-b", 5) == ([IMAGES[2]], False)
    with pytest.raises(BadRequest):
        page(list(IMAGES), "id-z", 1)


def test_equalities_for_the_query() -> None:
    assert equalities({"name": "in:a,b", "status": "active", "protected": "true",
                       "colour": "red", "size_min": "3"}) == {
        "status": "active", "protected": True, "os_hidden": False}
    assert equalities({"os_hidden": "true", "name": "x:y"}) == {"os_hidden": True,
                                                                 "name": "x:y"}


def test_timestamps_sort_with_their_microseconds() -> None:
    import datetime as dt

    # ids ordered against the times, so the id tie-break alone would get it wrong
    same_second = [{**_img("early", 1, "2026-01-01T00:00:00Z"), "id": "z"},
                   {**_img("late", 1, "2026-01-01T00:00:00Z"), "id": "a"}]
    stored = {"z": {"created_at": dt.datetime(2026, 1, 1, 0, 0, 0, 1)},
              "a": {"created_at": dt.datetime(2026, 1, 1, 0, 0, 0, 900)}}
    newest_first = sort_images(list(same_second), parse_sort({}), stored)
    assert [i["name"] for i in newest_first] == ["late", "early"]
    oldest_first = sort_images(list(same_second), parse_sort({"sort_dir": "asc"}), stored)
    assert [i["name"] for i in oldest_first] == ["early", "late"]
