"""Checking a create request's networks and security groups against the networking
service before anything is written (Nova's ``validate_networks`` and
``_check_requested_secgroups``), with Nova's messages and status codes.

``resolve`` turns the request's ``networks`` into what the build will allocate:
``"none"``, ``"auto"`` (an auto-allocated topology, made at build time) or a list of
``{"uuid", "port", "fixed_ip", "tag"}`` with the project's only network filled in
when none was named; and says how many servers the port quota leaves room for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nubo.compute import network_client as neutron
from nubo.core.auth.context import RequestContext
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound, NuboError
from nubo.core.runtime import Runtime

AMBIGUOUS = "Multiple possible networks found, use a Network ID to be more specific."


@dataclass
class Resolved:
    networks: Any               # "none" | "auto" | list of requests
    max_count: int              # how many servers the port quota allows


async def resolve(rt: Runtime, ctx: RequestContext, networks: Any, *, max_count: int,
                  external_allowed: bool) -> Resolved:
    if networks == "none":
        return Resolved("none", max_count)
    if networks is None or networks == "auto":
        found = await _default_networks(rt, ctx, auto=networks == "auto")
        if found is None:
            return Resolved("auto" if networks == "auto" else "none", max_count)
        networks = [{"uuid": found["id"], "port": None, "fixed_ip": None, "tag": None}]
    requests = [dict(r) for r in networks]
    per_server = 0
    for request in requests:
        if request["port"]:
            await _check_port(rt, ctx, request)
        else:
            per_server += 1
    await _check_networks(rt, ctx, requests, external_allowed)
    return Resolved(requests, await _quota_allows(rt, ctx, per_server, max_count))


async def _default_networks(rt: Runtime, ctx: RequestContext, *, auto: bool
                            ) -> dict[str, Any] | None:
    """The one network a server gets when none is named: the project's own or a
    shared one; 409 when there are several; None when there is none (with
    ``auto``: when an auto-allocated topology can be made, else 400)."""
    own = await neutron.list_networks(rt, ctx, project_id=ctx.project_id or "",
                                      shared=False)
    found = own + await neutron.list_networks(rt, ctx, shared=True)
    if len(found) > 1:
        raise Conflict(AMBIGUOUS)
    if found:
        return found[0]
    if auto and not await neutron.can_auto_allocate(rt, ctx, ctx.project_id or ""):
        raise BadRequest(f"Unable to automatically allocate a network for project "
                         f"{ctx.project_id}")
    return None


async def _check_port(rt: Runtime, ctx: RequestContext, request: dict[str, Any]) -> None:
    port_id = request["port"]
    try:
        port = await neutron.show_port(rt, ctx, port_id)
    except NotFound:
        raise BadRequest(f"Port id {port_id} could not be found.") from None
    if port.get("device_id"):
        raise Conflict(f"Port {port_id} is still in use.")
    if port.get("project_id") != ctx.project_id:
        raise BadRequest(f"Port {port_id} not usable for instance: it belongs to another "
                         "project.")
    if not port.get("fixed_ips") and port.get("ip_allocation") not in ("deferred", "none"):
        raise BadRequest(f"Port {port_id} requires a FixedIP in order to be used.")
    request["uuid"] = port["network_id"]


async def _check_networks(rt: Runtime, ctx: RequestContext, requests: Sequence[
        Mapping[str, Any]], external_allowed: bool) -> None:
    wanted = list(dict.fromkeys(r["uuid"] for r in requests if not r["port"]))
    nets = {n["id"]: n for n in await neutron.list_networks(rt, ctx, id=wanted)}
    missing = [n for n in wanted if n not in nets]
    if missing:
        raise BadRequest(f"Network {', '.join(missing)} could not be found.")
    for net in nets.values():
        if not net.get("subnets"):
            raise BadRequest(f"Network {net['id']} requires a subnet in order to boot "
                             "instances on.")
        if net.get("router:external") and not net.get("shared") and not external_allowed:
            raise Forbidden(f"It is not allowed to create an interface on external "
                            f"network {net['id']}")
    for request in requests:
        if request["fixed_ip"]:
            await _check_fixed_ip(rt, ctx, request["uuid"], request["fixed_ip"])


async def _check_fixed_ip(rt: Runtime, ctx: RequestContext, network_id: str,
                          address: str) -> None:
    subnets = await neutron.list_subnets(rt, ctx, network_id=network_id)
    ip = ipaddress.ip_address(address)
    if not any(ip in ipaddress.ip_network(s["cidr"]) for s in subnets):
        raise BadRequest(f"Fixed IP {address} is not a valid ip address for network "
                         f"{network_id}.")
    used = await neutron.list_ports(rt, neutron.admin_context(), network_id=network_id,
                                    fixed_ips=f"ip_address={address}")
    if used:
        raise BadRequest(f"Fixed IP address {address} is already in use on instance "
                         f"{used[0].get('device_id') or ''}.")


async def _quota_allows(rt: Runtime, ctx: RequestContext, per_server: int,
                        max_count: int) -> int:
    if not per_server or not ctx.project_id:
        return max_count
    free = await neutron.free_ports(rt, ctx.project_id)
    if free is None:
        return max_count
    if free < 0:
        raise Forbidden(f"The number of defined ports: {-free} is over the limit")
    return min(max_count, free // per_server)


async def security_group_ids(rt: Runtime, ctx: RequestContext, names: Sequence[str]
                             ) -> list[str]:
    """The ids of the named (or id'd) groups the project may use; ``default``
    alone means "let networking apply the default group" (an empty list).
    400 for a group that does not exist, 409 for a name several groups have."""
    if list(names) in ([], ["default"]):
        return []
    if not neutron.available("security_groups"):
        raise BadRequest(f"Security group {names[0]} not found.")
    groups = await neutron.list_security_groups(rt, ctx, project_id=ctx.project_id or "")
    try:
        groups += await neutron.list_security_groups(rt, ctx, shared=True)
    except NuboError:
        pass            # no sharing of groups in this build: the project's own only
    out = []
    for name in names:
        if any(g["id"] == name for g in groups):
            out.append(name)
            continue
        named = {g["id"] for g in groups if g["name"] == name}
        if len(named) > 1:
            raise Conflict(f"Multiple security groups found matching '{name}'. Use an ID "
                           "to be more specific.")
        if not named:
            raise BadRequest(f"Security group {name} not found.")
        out.append(named.pop())
    return list(dict.fromkeys(out))
