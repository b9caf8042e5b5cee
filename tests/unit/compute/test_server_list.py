"""Sorting and marker paging of server lists (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from nubo.compute.service.server_list import paginate, sort_servers
from nubo.core.errors import BadRequest

T0 = dt.datetime(2026, 1, 1)


def server(n: int, name: str, host: str | None) -> dict[str, object]:
    return {"id": n, "uuid": f"u{n}", "display_name": name, "host": host,
            "created_at": T0 + dt.timedelta(minutes=n)}


SERVERS = [server(1, "b", "h2"), server(2, "a", None), server(3, "c", "h1"),
           server(4, "a", "h1")]


def uuids(found: list[dict[str, object]]) -> list[object]:
    return [s["uuid"] for s in found]


def test_default_is_newest_first() -> None:
    assert uuids(sort_servers(SERVERS, [])) == ["u4", "u3", "u2", "u1"]


def test_several_keys_and_directions() -> None:
    found = sort_servers(SERVERS, [("display_name", "asc"), ("created_at", "desc")])
    assert uuids(found) == ["u4", "u2", "u1", "u3"]


def test_missing_values_sort_first_ascending() -> None:
    assert uuids(sort_servers(SERVERS, [("host", "asc")]))[0] == "u2"
    assert uuids(sort_servers(SERVERS, [("host", "desc")]))[-1] == "u2"


def test_marker_and_limit() -> None:
    ordered = sort_servers(SERVERS, [])
    assert uuids(paginate(ordered, None, 2)) == ["u4", "u3"]
    assert uuids(paginate(ordered, "u3", 2)) == ["u2", "u1"]
    assert paginate(ordered, "u1", 2) == []
    with pytest.raises(BadRequest, match=r"marker \[nope\] not found"):
        paginate(ordered, "nope", 2)
