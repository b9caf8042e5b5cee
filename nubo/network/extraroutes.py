"""A router's static routes (Neutron's ``extraroute`` and ``extraroute-atomic``).

A route sends traffic for ``destination`` to ``nexthop``. Neutron accepts a route
only when its nexthop lies on a subnet the router is connected to (an interface or
its gateway) and is not one of the router's own addresses; it checks the whole
set of routes each time they change. ``add_extraroutes`` and ``remove_extraroutes``
merge into and subtract from the current set, so the result is checked the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from nubo.core.errors import BadRequest
from nubo.network.errors import bad_request, dict_keys_reason, invalid_attribute
from nubo.network.ipam import IPAddress, IPNetwork, Unparsable, to_address
from nubo.network.subnet_options import route_destination

Route = dict[str, str]
MAX_ROUTES = 30


def parse_routes(data: object) -> list[Route]:
    """The ``routes`` of a request (None is ``[]``), checked as neutron-lib's
    ``hostroutes`` validator checks them, in canonical form and in the order given."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise invalid_attribute("routes", f"Invalid data format for hostroute: '{data}'")
    routes: list[Route] = []
    for item in data:
        route = _route(item)
        if route in routes:
            raise invalid_attribute("routes", f"Duplicate hostroute '{item}'")
        routes.append(route)
    return routes


def _route(item: object) -> Route:
    reason = dict_keys_reason(item, ("destination", "nexthop"))
    if reason:
        raise invalid_attribute("routes", reason)
    assert isinstance(item, dict)
    try:
        destination = route_destination(item["destination"])
        nexthop = to_address(item["nexthop"])
    except Unparsable as err:
        raise invalid_attribute("routes", err.reason) from None
    return {"destination": str(destination), "nexthop": str(nexthop)}


def check_limit(router_id: str, routes: Sequence[Route], limit: int = MAX_ROUTES) -> None:
    """Neutron's ``max_routes``: 400 RoutesExhausted past it."""
    if len(routes) > limit:
        raise bad_request("RoutesExhausted", f"Unable to complete operation for {router_id}. "
                          f"The number of routes exceeds the maximum {limit}.")


def check_nexthops(routes: Sequence[Route], connected: Iterable[IPNetwork],
                   own: Iterable[IPAddress]) -> None:
    """Every nexthop on a ``connected`` subnet and none of the router's ``own``
    addresses; 400 InvalidRoutes naming the whole set otherwise."""
    cidrs = list(connected)
    mine = set(own)
    for route in routes:
        nexthop = to_address(route["nexthop"])
        if not any(nexthop.version == c.version and nexthop in c for c in cidrs):
            raise invalid_routes(routes, "the nexthop is not connected with router")
        if nexthop in mine:
            raise invalid_routes(routes, "the nexthop is used by router")


def invalid_routes(routes: Sequence[Route], reason: str) -> BadRequest:
    return bad_request("InvalidRoutes",
                       f"Invalid format for routes: {list(routes)}, {reason}")


def via(routes: Iterable[Route], network: IPNetwork) -> list[Route]:
    """The routes whose nexthop lies in ``network`` (they need that subnet's interface)."""
    out = []
    for route in routes:
        nexthop = to_address(route["nexthop"])
        if nexthop.version == network.version and nexthop in network:
            out.append(route)
    return out


def merged(old: Iterable[Route], add: Iterable[Route]) -> list[Route]:
    """``add_extraroutes``: the old routes and the new, exact duplicates once."""
    out: list[Route] = []
    for route in [*old, *add]:
        if route not in out:
            out.append(route)
    return out


def without(old: Iterable[Route], remove: Iterable[Route]) -> list[Route]:
    """``remove_extraroutes``: the old routes but those named (missing ones are fine)."""
    gone = list(remove)
    return [route for route in old if route not in gone]
