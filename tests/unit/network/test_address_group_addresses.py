"""The addresses of an address group, read as neutron-lib's ``subnet_list`` validator
reads them and stored as Neutron stores them (networks)."""

from __future__ import annotations

import pytest

from nubo.core.errors import BadRequest
from nubo.network.service.address_groups import parse_addresses


def test_addresses_are_stored_as_networks() -> None:
    assert parse_addresses(["10.0.0.1/24", "2001:db8::1/64", "192.168.1.7/32"]) == [
        "10.0.0.0/24", "2001:db8::/64", "192.168.1.7/32"]
    # two ways of writing one network are one address
    assert parse_addresses(["10.0.0.1/24", "10.0.0.2/24"]) == ["10.0.0.0/24"]
    assert parse_addresses([]) == []


@pytest.mark.parametrize(("value", "reason"), [
    ("10.0.0.0/24", "'10.0.0.0/24' is not a list"),
    (["10.0.0.0/24", "10.0.0.0/24"], "Duplicate items in the list: '10.0.0.0/24'"),
    (["10.0.0.0"], "'10.0.0.0' is not a valid IP subnet"),
    (["10.0.0.0/33"], "'10.0.0.0/33' is not a valid IP subnet"),
    (["010.0.0.0/8"], "'010.0.0.0/8' is not a valid IP subnet"),
    (["nonsense"], "'nonsense' is not a valid IP subnet"),
])
def test_bad_addresses(value: object, reason: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse_addresses(value)
    assert err.value.message == f"Invalid input for addresses. Reason: {reason}."
