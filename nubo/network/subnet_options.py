"""A subnet's DNS servers and host routes: what DHCP hands to instances.

Checked as Neutron checks them: first the format (neutron-lib's ``nameservers`` and
``hostroutes`` validators, "Invalid input for dns_nameservers. Reason: ..."), then
the limits (``max_dns_nameservers``, ``max_subnet_host_routes``) and the IP version.
Values come back in canonical form, in the order given.
"""

from __future__ import annotations

from nubo.network.errors import (
    bad_request,
    dict_keys_reason,
    invalid_attribute,
)
from nubo.network.ipam import (
    IPAddress,
    IPNetwork,
    Unparsable,
    check_version,
    to_address,
    to_network,
)

MAX_DNS_NAMESERVERS = 5
MAX_HOST_ROUTES = 20


def dns_nameservers(data: object, ip_version: int, *, limit: int = MAX_DNS_NAMESERVERS,
                    subnet_id: str | None = None) -> list[str]:
    """The requested ``dns_nameservers`` (None is ``[]``); ``subnet_id`` names the
    subnet in the limit's message (an update), None a create."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise invalid_attribute("dns_nameservers",
                                f"Invalid data format for nameserver: '{data}'")
    servers: list[IPAddress] = []
    for host in data:
        try:
            server = to_address(host)
        except Unparsable as err:
            raise invalid_attribute("dns_nameservers", f"'{host}' is not a valid "
                                    f"nameserver. {err.reason}") from None
        if server in servers:
            raise invalid_attribute("dns_nameservers", f"Duplicate nameserver '{host}'")
        servers.append(server)
    if len(servers) > limit:
        raise bad_request("DNSNameServersExhausted", "Unable to complete operation for "
                          f"{subnet_id or 'new subnet'}. The number of DNS nameservers "
                          f"exceeds the limit {limit}.")
    for server in servers:
        check_version(ip_version, server, "dns_nameserver")
    return [str(server) for server in servers]


def host_routes(data: object, ip_version: int, *, limit: int = MAX_HOST_ROUTES,
                subnet_id: str | None = None) -> list[dict[str, str]]:
    """The requested ``host_routes`` (None is ``[]``) as canonical
    ``{"destination", "nexthop"}`` dicts."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise invalid_attribute("host_routes", f"Invalid data format for hostroute: '{data}'")
    routes: list[tuple[IPNetwork, IPAddress]] = []
    for item in data:
        route = _route(item)
        if route in routes:
            raise invalid_attribute("host_routes", f"Duplicate hostroute '{item}'")
        routes.append(route)
    if len(routes) > limit:
        raise bad_request("HostRoutesExhausted", "Unable to complete operation for "
                          f"{subnet_id or 'new subnet'}. The number of host routes "
                          f"exceeds the limit {limit}.")
    for destination, nexthop in routes:
        check_version(ip_version, nexthop, "nexthop")
        check_version(ip_version, destination, "destination")
    return [{"destination": str(d), "nexthop": str(n)} for d, n in routes]


def _route(item: object) -> tuple[IPNetwork, IPAddress]:
    reason = dict_keys_reason(item, ("destination", "nexthop"))
    if reason:
        raise invalid_attribute("host_routes", reason)
    assert isinstance(item, dict)
    try:
        destination = route_destination(item["destination"])
        nexthop = to_address(item["nexthop"])
    except Unparsable as err:
        raise invalid_attribute("host_routes", err.reason) from None
    return destination, nexthop


def route_destination(data: object) -> IPNetwork:
    """A route's destination (neutron-lib's ``validate_route_cidr``): a CIDR without
    host bits, not loopback."""
    invalid = f"'{data}' is not a valid CIDR"
    network = to_network(data, invalid)
    if to_address(str(data).partition("/")[0]) != network.network_address:
        raise Unparsable(invalid)
    if network.is_loopback:
        raise Unparsable(f"'{data}' is not a routable CIDR")
    return network
