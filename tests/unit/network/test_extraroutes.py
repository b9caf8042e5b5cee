"""A router's static routes: parsing, limits, nexthop checks, add/remove merging
(nubo.network.extraroutes)."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from nubo.core.errors import NuboError
from nubo.network import extraroutes as xr


def fault(err: pytest.ExceptionInfo[NuboError]) -> tuple[int, str, str]:
    return err.value.status, str(err.value.details.get("type")), err.value.message


def test_routes_parsed_in_canonical_form_and_order() -> None:
    routes = xr.parse_routes([{"destination": "10.2.0.0/16", "nexthop": "10.0.0.5"},
                              {"nexthop": "2001:db8:0::1", "destination": "2001:db8:1::/64"}])
    assert routes == [{"destination": "10.2.0.0/16", "nexthop": "10.0.0.5"},
                      {"destination": "2001:db8:1::/64", "nexthop": "2001:db8::1"}]
    assert xr.parse_routes(None) == [] and xr.parse_routes([]) == []


@pytest.mark.parametrize(("data", "reason"), [
    ("10.0.0.0/8", "Invalid data format for hostroute: '10.0.0.0/8'"),
    ([{"destination": "10.0.0.0/8"}],
     "Validation of dictionary's keys failed. Expected keys: {'destination', 'nexthop'} "
     "Provided keys: {'destination'}"),
    ([{"destination": "10.0.0.1/8", "nexthop": "10.0.0.1"}], "'10.0.0.1/8' is not a valid CIDR"),
    ([{"destination": "10.0.0.0/8", "nexthop": "10.0.0"}], "'10.0.0' is not a valid IP address"),
    ([{"destination": "127.0.0.0/8", "nexthop": "10.0.0.1"}],
     "'127.0.0.0/8' is not a routable CIDR"),
    (["x"], "Invalid input. 'x' must be a dictionary with keys: ['destination', 'nexthop']"),
])
def test_malformed_routes_refused(data: object, reason: str) -> None:
    with pytest.raises(NuboError) as err:
        xr.parse_routes(data)
    assert fault(err) == (400, "HTTPBadRequest", f"Invalid input for routes. Reason: {reason}.")


def test_duplicate_route_refused() -> None:
    route = {"destination": "10.2.0.0/16", "nexthop": "10.0.0.5"}
    with pytest.raises(NuboError) as err:
        xr.parse_routes([route, dict(route)])
    assert "Duplicate hostroute" in err.value.message and err.value.status == 400


def test_limit() -> None:
    routes = [{"destination": f"10.{i}.0.0/16", "nexthop": "10.0.0.5"} for i in range(3)]
    xr.check_limit("r1", routes, limit=3)
    with pytest.raises(NuboError) as err:
        xr.check_limit("r1", routes, limit=2)
    assert fault(err) == (400, "RoutesExhausted", "Unable to complete operation for r1. "
                          "The number of routes exceeds the maximum 2.")


def test_nexthop_must_be_connected_and_not_the_router() -> None:
    routes = [{"destination": "10.2.0.0/16", "nexthop": "10.0.0.5"}]
    connected = [ip_network("10.0.0.0/24"), ip_network("2001:db8::/64")]
    xr.check_nexthops(routes, connected, [ip_address("10.0.0.1")])
    with pytest.raises(NuboError) as err:
        xr.check_nexthops(routes, [ip_network("10.1.0.0/24")], [])
    assert fault(err) == (400, "InvalidRoutes", "Invalid format for routes: "
                          "[{'destination': '10.2.0.0/16', 'nexthop': '10.0.0.5'}], "
                          "the nexthop is not connected with router")
    with pytest.raises(NuboError) as err:
        xr.check_nexthops(routes, connected, [ip_address("10.0.0.5")])
    assert err.value.message.endswith("the nexthop is used by router")


def test_routes_via_a_subnet() -> None:
    a = {"destination": "10.2.0.0/16", "nexthop": "10.0.0.5"}
    b = {"destination": "10.3.0.0/16", "nexthop": "10.1.0.5"}
    assert xr.via([a, b], ip_network("10.0.0.0/24")) == [a]
    assert xr.via([a, b], ip_network("2001:db8::/64")) == []


def test_merge_and_subtract() -> None:
    a = {"destination": "10.2.0.0/16", "nexthop": "10.0.0.5"}
    b = {"destination": "10.2.0.0/16", "nexthop": "10.0.0.6"}
    c = {"destination": "10.3.0.0/16", "nexthop": "10.0.0.5"}
    assert xr.merged([a], [a, b]) == [a, b]        # same destination, two nexthops: both
    assert xr.without([a, b], [b, c]) == [a]       # removing a missing route is fine
