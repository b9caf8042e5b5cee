"""Floating IPs through compute (the 2.1 proxies): allocating from a pool (an external
network), and ``addFloatingIp`` / ``removeFloatingIp`` on a server, with Nova's
refusals and messages. The server's network info is refreshed at once, as Nova's
network API does, besides the ``network-changed`` event networking sends."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from nubo.compute import network_client as neutron
from nubo.compute.service import networking
from nubo.core.auth.context import RequestContext
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound, NuboError
from nubo.core.runtime import Runtime

DEFAULT_POOL = "public"


async def pools(rt: Runtime, ctx: RequestContext) -> list[dict[str, Any]]:
    """The external networks floating IPs come from."""
    return await neutron.list_networks(rt, ctx, **{"router:external": True})


async def _pool(rt: Runtime, ctx: RequestContext, name: str | None) -> dict[str, Any]:
    found = await pools(rt, ctx)
    if name is None:
        named = [n for n in found if n["name"] == DEFAULT_POOL]
        chosen = named or (found if len(found) == 1 else [])
    else:
        chosen = [n for n in found if name in (n["id"], n["name"])]
    if len(chosen) != 1:
        raise NotFound("Floating IP pool not found.")
    return chosen[0]


async def allocate(rt: Runtime, ctx: RequestContext, pool: str | None) -> dict[str, Any]:
    net = await _pool(rt, ctx, pool)
    try:
        return await neutron.create_floating_ip(rt, ctx, {"floating_network_id": net["id"]})
    except NuboError as e:
        kind = neutron.error_type(e)
        where = f" in pool {pool}" if pool else ""
        if kind == "IpAddressGenerationFailure":
            raise NotFound(f"No more floating IPs{where}." if pool else
                           "No more floating IPs available.") from e
        if kind == "OverQuota":
            raise Forbidden(f"IP allocation over quota{where}.") from e
        if e.status == 400:
            raise BadRequest(e.message) from e
        raise


async def by_address(rt: Runtime, ctx: RequestContext, address: str) -> dict[str, Any]:
    found = await neutron.list_floating_ips(rt, ctx, floating_ip_address=address)
    if not found:
        raise NotFound("floating IP not found")
    return found[0]


async def associate(rt: Runtime, ctx: RequestContext, server: Mapping[str, Any],
                    address: str, fixed_address: str | None) -> None:
    """``addFloatingIp``: the floating IP goes to the port holding the fixed address
    (the server's first IPv4 one unless given)."""
    info = server.get("network_info") or []
    if not info:
        raise BadRequest("Instance network is not ready yet")
    fixed = [(ip["address"], vif["id"]) for vif in info for ip in vif["fixed_ips"]]
    if not fixed:
        raise BadRequest("No fixed IPs associated to instance")
    if fixed_address is not None:
        chosen = [f for f in fixed if f[0] == fixed_address]
        if not chosen:
            raise BadRequest("Specified fixed address not assigned to instance")
    else:
        chosen = [f for f in fixed if ipaddress.ip_address(f[0]).version == 4]
        if not chosen:
            raise BadRequest(f"Unable to associate floating IP {address} to any fixed IPs "
                             f"for instance {server['uuid']}. Instance has no fixed IPv4 "
                             "addresses to associate.")
    fixed_ip, port_id = chosen[0]
    fip = await by_address(rt, ctx, address)
    try:
        await neutron.update_floating_ip(rt, ctx, fip["id"], {
            "port_id": port_id, "fixed_ip_address": fixed_ip})
    except Forbidden:
        raise
    except NuboError as e:
        raise BadRequest(f"Unable to associate floating IP {address} to fixed IP "
                         f"{fixed_ip} for instance {server['uuid']}. Error: {e.message}"
                         ) from e
    await networking.refresh(rt, server["uuid"])
    previous = (fip.get("port_details") or {}).get("device_id")
    if fip.get("port_id") and previous and previous != server["uuid"]:
        await networking.refresh(rt, previous)


async def disassociate(rt: Runtime, ctx: RequestContext, server: Mapping[str, Any],
                       address: str) -> None:
    """``removeFloatingIp``: only from the server it is on (409 otherwise)."""
    fip = await by_address(rt, ctx, address)
    device = (fip.get("port_details") or {}).get("device_id")
    if not fip.get("port_id") or device != server["uuid"]:
        raise Conflict(f"Floating IP {address} is not associated with instance "
                       f"{server['uuid']}.")
    await neutron.update_floating_ip(rt, ctx, fip["id"], {"port_id": None})
    await networking.refresh(rt, server["uuid"])

