"""A quota update's body read as Neutron reads it: integer limits from -1 to the
largest 32-bit integer, known resources only, ``force`` and ``check_limit``."""

from __future__ import annotations

from typing import Any

import pytest

from nubo.core.errors import BadRequest
from nubo.network.api.quotas import parse_limits


def test_limits_and_force() -> None:
    assert parse_limits({"network": "5", "port": -1, "force": True}) == (
        {"network": 5, "port": -1}, True)
    assert parse_limits({"subnet": 0, "check_limit": "True"}) == ({"subnet": 0}, False)
    assert parse_limits({}) == ({}, False)


@pytest.mark.parametrize(("body", "kind", "message"), [
    ({"network": -2}, "HTTPBadRequest",
     "Invalid input for network. Reason: '-2' is too small - must be at least '-1'."),
    ({"network": 2**31}, "HTTPBadRequest",
     "Invalid input for network. Reason: '2147483648' is too large - must be no larger "
     "than '2147483647'."),
    ({"port": "many"}, "InvalidInput",
     "Invalid input for operation: 'many' is not an integer."),
    ({"port": None}, "InvalidInput",
     "Invalid input for operation: 'None' is not an integer."),
    ({"volumes": 3}, "HTTPBadRequest", "Unrecognized attribute(s) 'volumes'"),
    ({"network": 1, "force": "sideways"}, "HTTPBadRequest",
     "Invalid input for force. Reason: 'sideways' cannot be converted to boolean."),
])
def test_refused(body: dict[str, Any], kind: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_limits(body)
    assert caught.value.details["type"] == kind
    assert caught.value.message == message
