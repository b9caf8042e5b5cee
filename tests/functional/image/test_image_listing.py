"""Listing: filters, operators, sorting, pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.image.conftest import Caller, unique


@pytest.fixture(scope="module")
def lister(make_caller: Any) -> Caller:
    caller: Caller = make_caller("member")
    return caller


@pytest.fixture(scope="module")
def made(lister: Caller) -> Iterator[dict[str, dict[str, Any]]]:
    out = {
        "a": lister.create(name="alpha", disk_format="raw", container_format="bare",
                           tags=["red"], flavour="sweet", min_ram=128),
        "b": lister.create(name="beta", disk_format="qcow2", container_format="ovf",
                           tags=["red", "blue"], protected=True),
        "c": lister.create(name="gamma", disk_format="iso", container_format="bare",
                           os_hidden=True),
    }
    lister.upload(out["a"]["id"], b"\0" * 100)
    out["a"] = lister.show(out["a"]["id"])
    yield out
    lister.patch(out["b"]["id"], [{"op": "replace", "path": "/protected", "value": False}])


def _names(caller: Caller, query: str) -> list[str]:
    r = caller.call("GET", f"/images?{query}")
    assert r.status_code == 200, r.text
    return [i["name"] for i in r.json()["images"]]


def test_filters(lister: Caller, made: dict[str, Any]) -> None:
    assert _names(lister, "name=alpha") == ["alpha"]
    assert sorted(_names(lister, "name=in:alpha,beta")) == ["alpha", "beta"]
    assert _names(lister, "status=active") == ["alpha"]
    assert _names(lister, "disk_format=qcow2") == ["beta"]
    assert sorted(_names(lister, "container_format=bare")) == ["alpha"]
    assert sorted(_names(lister, "tag=red")) == ["alpha", "beta"]
    assert _names(lister, "tag=red&tag=blue") == ["beta"]
    assert _names(lister, "size_min=50&size_max=150") == ["alpha"]
    assert _names(lister, "size_min=101") == []
    assert _names(lister, "protected=true") == ["beta"]
    assert _names(lister, "flavour=sweet") == ["alpha"]
    assert _names(lister, "os_hidden=true") == ["gamma"]
    assert "gamma" not in _names(lister, "")
    created = made["a"]["created_at"]
    assert "alpha" in _names(lister, f"created_at=gte:{created}")
    assert _names(lister, "created_at=lt:2000-01-01T00:00:00Z") == []


def test_sort_and_pagination(lister: Caller, made: dict[str, Any]) -> None:
    assert _names(lister, "sort_key=name&sort_dir=asc") == ["alpha", "beta"]
    assert _names(lister, "sort=name:desc") == ["beta", "alpha"]
    r = lister.call("GET", "/images?limit=1&sort_key=name&sort_dir=asc")
    body = r.json()
    assert [i["name"] for i in body["images"]] == ["alpha"]
    assert body["first"] == "/v2/images" and body["schema"] == "/v2/schemas/images"
    r = lister.call("GET", body["next"].removeprefix("/v2"))
    body = r.json()
    assert [i["name"] for i in body["images"]] == ["beta"]
    assert "next" not in body


def test_bad_list_parameters_are_400(lister: Caller) -> None:
    for query in ("limit=-1", "limit=x", "sort_key=colour", "sort_dir=up",
                  f"marker={unique('m')}", "visibility=everyone", "size_min=big",
                  "member_status=maybe", "created_at=gt:yesterday"):
        r = lister.call("GET", f"/images?{query}")
        assert r.status_code == 400, (query, r.text)
