"""DNS servers and host routes of a subnet (nubo.network.subnet_options)."""

from __future__ import annotations

from typing import Any

import pytest

from nubo.core.errors import NuboError
from nubo.network import subnet_options as options


def fault(err: pytest.ExceptionInfo[NuboError]) -> tuple[int, str, str]:
    return err.value.status, str(err.value.details.get("type")), err.value.message


# -- DNS servers -------------------------------------------------------------------

def test_nameservers_keep_their_order_in_canonical_form() -> None:
    assert options.dns_nameservers(["8.8.8.8", "1.1.1.1"], 4) == ["8.8.8.8", "1.1.1.1"]
    assert options.dns_nameservers(["2001:DB8:0::53"], 6) == ["2001:db8::53"]
    assert options.dns_nameservers(None, 4) == []
    assert options.dns_nameservers([], 4) == []


@pytest.mark.parametrize(("data", "reason"), [
    ("8.8.8.8", "Invalid data format for nameserver: '8.8.8.8'"),
    (["8.8.8.8", "dns.example.com"], "'dns.example.com' is not a valid nameserver. "
                                     "'dns.example.com' is not a valid IP address"),
    (["08.8.8.8"], "'08.8.8.8' is not a valid nameserver. '08.8.8.8' is not an accepted "
                   "IP address, '8.8.8.8' is recommended"),
    (["8.8.8.8", "1.1.1.1", "8.8.8.8"], "Duplicate nameserver '8.8.8.8'"),
    (["2001:db8::53", "2001:DB8::53"], "Duplicate nameserver '2001:DB8::53'"),
])
def test_malformed_nameservers(data: Any, reason: str) -> None:
    with pytest.raises(NuboError) as err:
        options.dns_nameservers(data, 4)
    assert fault(err) == (400, "HTTPBadRequest",
                          f"Invalid input for dns_nameservers. Reason: {reason}.")


def test_nameserver_limit() -> None:
    five = [f"10.0.0.{i}" for i in range(1, 6)]
    assert options.dns_nameservers(five, 4) == five
    with pytest.raises(NuboError) as err:
        options.dns_nameservers([*five, "10.0.0.6"], 4)
    assert fault(err) == (400, "DNSNameServersExhausted", "Unable to complete operation for "
                          "new subnet. The number of DNS nameservers exceeds the limit 5.")
    with pytest.raises(NuboError) as err:
        options.dns_nameservers(five[:3], 4, limit=2, subnet_id="sub-1")
    assert "operation for sub-1." in err.value.message and "limit 2." in err.value.message


def test_nameserver_of_the_other_version() -> None:
    with pytest.raises(NuboError) as err:
        options.dns_nameservers(["8.8.8.8"], 6)
    assert fault(err) == (400, "InvalidInput", "Invalid input for operation: dns_nameserver "
                          "'8.8.8.8' does not match the ip_version '6'.")


# -- host routes -------------------------------------------------------------------

def test_host_routes_in_canonical_form() -> None:
    routes = [{"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"},
              {"nexthop": "10.0.0.2", "destination": "192.168.0.0/16"}]
    assert options.host_routes(routes, 4) == [
        {"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"},
        {"destination": "192.168.0.0/16", "nexthop": "10.0.0.2"}]
    assert options.host_routes([{"destination": "2001:DB8::/48", "nexthop": "FE80::1"}], 6) == [
        {"destination": "2001:db8::/48", "nexthop": "fe80::1"}]
    assert options.host_routes(None, 4) == []


@pytest.mark.parametrize(("data", "reason"), [
    ({"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"},
     "Invalid data format for hostroute: '{'destination': '0.0.0.0/0', 'nexthop': "
     "'10.0.0.1'}'"),
    (["0.0.0.0/0"], "Invalid input. '0.0.0.0/0' must be a dictionary with keys: "
                    "['destination', 'nexthop']"),
    ([{"destination": "0.0.0.0/0"}], "Validation of dictionary's keys failed. Expected "
     "keys: {'destination', 'nexthop'} Provided keys: {'destination'}"),
    ([{"destination": "0.0.0.0/0", "nexthop": "10.0.0.1", "metric": 1}],
     "Validation of dictionary's keys failed. Expected keys: {'destination', 'nexthop'} "
     "Provided keys: {'destination', 'metric', 'nexthop'}"),
    ([{"destination": "10.0.0.1/24", "nexthop": "10.0.0.1"}],
     "'10.0.0.1/24' is not a valid CIDR"),
    ([{"destination": "10.0.0.0", "nexthop": "10.0.0.1"}], "'10.0.0.0' is not a valid CIDR"),
    ([{"destination": "127.0.0.0/8", "nexthop": "10.0.0.1"}],
     "'127.0.0.0/8' is not a routable CIDR"),
    ([{"destination": "::1/128", "nexthop": "2001:db8::1"}],
     "'::1/128' is not a routable CIDR"),
    ([{"destination": "0.0.0.0/0", "nexthop": "10.0.0"}], "'10.0.0' is not a valid IP address"),
    ([{"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"},
      {"nexthop": "10.0.0.1", "destination": "0.0.0.0/0"}],
     "Duplicate hostroute '{'nexthop': '10.0.0.1', 'destination': '0.0.0.0/0'}'"),
])
def test_malformed_host_routes(data: Any, reason: str) -> None:
    with pytest.raises(NuboError) as err:
        options.host_routes(data, 4)
    assert fault(err) == (400, "HTTPBadRequest",
                          f"Invalid input for host_routes. Reason: {reason}.")


def test_host_route_limit() -> None:
    routes = [{"destination": f"192.168.{i}.0/24", "nexthop": "10.0.0.1"} for i in range(21)]
    assert len(options.host_routes(routes[:20], 4)) == 20
    with pytest.raises(NuboError) as err:
        options.host_routes(routes, 4)
    assert fault(err) == (400, "HostRoutesExhausted", "Unable to complete operation for new "
                          "subnet. The number of host routes exceeds the limit 20.")
    with pytest.raises(NuboError):
        options.host_routes(routes[:3], 4, limit=2)


@pytest.mark.parametrize(("route", "message"), [
    ({"destination": "0.0.0.0/0", "nexthop": "2001:db8::1"},
     "nexthop '2001:db8::1' does not match the ip_version '4'"),
    ({"destination": "2001:db8::/64", "nexthop": "10.0.0.1"},
     "destination '2001:db8::/64' does not match the ip_version '4'"),
])
def test_host_route_of_the_other_version(route: dict[str, str], message: str) -> None:
    with pytest.raises(NuboError) as err:
        options.host_routes([route], 4)
    assert fault(err) == (400, "InvalidInput", f"Invalid input for operation: {message}.")
