"""Parsing Glance's JSON-patch documents."""

from __future__ import annotations

import pytest

from nubo.core.errors import BadRequest, UnsupportedMediaType
from nubo.image.api.patch import check_media_type, parse


def test_both_forms_parse() -> None:
    assert parse([{"op": "add", "path": "/a~1b", "value": "1"},
                  {"remove": "/c"}, {"replace": "/name", "value": "n"}]) == [
        ("add", "a/b", "1"), ("remove", "c", None), ("replace", "name", "n")]


@pytest.mark.parametrize("body", [
    {}, [1], [{"op": "test", "path": "/a", "value": 1}], [{"path": "/a"}],
    [{"op": "add", "path": "a", "value": 1}], [{"op": "add", "path": "/a/b", "value": 1}],
    [{"op": "add", "path": "/a"}], [{"op": "add", "path": "/", "value": 1}],
    [{"op": "add", "path": "/a", "value": 1, "from": "/b"}]])
def test_bad_documents(body: object) -> None:
    with pytest.raises(BadRequest):
        parse(body)


def test_media_types() -> None:
    assert check_media_type("application/openstack-images-v2.1-json-patch; charset=utf-8")
    assert not check_media_type("application/openstack-images-v2.0-json-patch")
    with pytest.raises(UnsupportedMediaType):
        check_media_type("application/json")
