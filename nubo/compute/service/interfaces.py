"""Interfaces of a running server (``os-interface``): attach a port (the user's, or a
new one on a network) and detach one, with Nova's checks, errors and instance
actions (``attach_interface``, ``detach_interface``).

As in Nova, attaching answers with the port: the port is made (or taken) and bound
to the server's host here, and its agent plugs it into the guest afterwards.
Detaching answers 202: the agent unplugs the port, then releases it (deleted if
compute made it, unbound if it is the user's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubo.compute import network_client as neutron
from nubo.compute.service import actions, instance_actions, networking
from nubo.compute.service.servers import agent_topic
from nubo.core.auth.context import RequestContext
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound, NuboError
from nubo.core.runtime import Runtime

ATTACH, DETACH = "attach_interface", "detach_interface"
ATTACH_EVENT, DETACH_EVENT = "compute_attach_interface", "compute_detach_interface"


async def list_interfaces(rt: Runtime, ctx: RequestContext, uuid: str
                          ) -> list[dict[str, Any]]:
    """The server's ports, as networking shows them to the caller."""
    return await neutron.list_ports(rt, ctx, device_id=uuid)


async def attach_interface(rt: Runtime, ctx: RequestContext, uuid: str, *,
                           network_id: str | None, port_id: str | None,
                           fixed_ip: str | None, tag: str | None, request_id: str,
                           external_allowed: bool = False) -> dict[str, Any]:
    """Give the server a port; the port (Neutron's view). ``external_allowed``: the
    caller may attach to an external network that is not shared."""
    async with rt.db.transaction() as tx:
        server = await actions.load_for(tx, ctx, uuid, ATTACH)
        host = actions.need_host(server)
        await actions.check_up(rt, host)
        await instance_actions.start_action(tx, uuid, ATTACH, request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, ATTACH_EVENT, host=host)
    try:
        port = await _allocate(rt, ctx, server, host, network_id=network_id,
                               port_id=port_id, fixed_ip=fixed_ip, tag=tag,
                               external_allowed=external_allowed)
    except NuboError as e:
        await _finish(rt, uuid, host, e.message)
        raise
    async with rt.db.transaction() as tx:
        tx.publish(agent_topic(host, ATTACH), {"instance_uuid": uuid, "port_id": port})
    return await neutron.show_port(rt, neutron.admin_context(), port)


async def _allocate(rt: Runtime, ctx: RequestContext, server: Mapping[str, Any], host: str,
                    *, network_id: str | None, port_id: str | None, fixed_ip: str | None,
                    tag: str | None, external_allowed: bool) -> str:
    if port_id:
        await _check_port(rt, ctx, server, port_id)
        await networking.take_port(rt, server, port_id, host, tag=tag)
        return port_id
    network = await _network(rt, ctx, server, network_id, external_allowed)
    request = {"uuid": network["id"], "port": None, "fixed_ip": fixed_ip, "tag": tag}
    if network.get("port_security_enabled", True) and not network.get("subnets"):
        raise BadRequest("Network requires port_security_enabled and subnet associated in "
                         "order to apply security groups.")
    try:
        return await networking.make_port(rt, ctx, server, request, host, groups=(),
                                          network=network)
    except NuboError as e:
        raise _attach_error(e, request) from e


async def _check_port(rt: Runtime, ctx: RequestContext, server: Mapping[str, Any],
                      port_id: str) -> None:
    try:
        port = await neutron.show_port(rt, ctx, port_id)
    except NotFound:
        raise NotFound(f"Port id {port_id} could not be found.") from None
    if port.get("device_id"):
        raise Conflict(f"Port {port_id} is still in use.")
    if port.get("project_id") != server["project_id"]:
        raise BadRequest(f"Port {port_id} not usable for instance {server['uuid']}.")


async def _network(rt: Runtime, ctx: RequestContext, server: Mapping[str, Any],
                   network_id: str | None, external_allowed: bool) -> dict[str, Any]:
    if network_id:
        found = await neutron.list_networks(rt, ctx, id=[network_id])
        if not found:
            raise NotFound(f"Network {network_id} could not be found.")
        net = found[0]
        if net.get("router:external") and not net.get("shared") and not external_allowed:
            raise Forbidden("It is not allowed to create an interface on external network "
                            f"{network_id}")
        return net
    own = await neutron.list_networks(rt, ctx, project_id=server["project_id"], shared=False)
    found = own + await neutron.list_networks(rt, ctx, shared=True)
    if not found:
        raise BadRequest("No specific network was requested and none are available for "
                         f"project '{server['project_id']}'.")
    if len(found) > 1:
        raise BadRequest("Multiple possible networks found, use a Network ID to be more "
                         "specific.")
    return found[0]


def _attach_error(e: NuboError, request: Mapping[str, Any]) -> NuboError:
    """What Nova answers when networking refused the new port."""
    kind = neutron.error_type(e)
    words = networking.reason(e, request)
    if kind in ("IpAddressAlreadyAllocated", "IpAddressInUse"):
        return Conflict(words)
    if kind == "OverQuota":
        return Forbidden(words)
    if kind == "NetworkNotFound":
        return NotFound(words)
    return BadRequest(words)


async def _finish(rt: Runtime, uuid: str, host: str, error: str) -> None:
    async with rt.db.transaction() as tx:
        await instance_actions.finish_event(tx, uuid, ATTACH_EVENT, host=host,
                                            result="Error", details=error, action=ATTACH)


async def detach_interface(rt: Runtime, ctx: RequestContext, uuid: str, port_id: str, *,
                           request_id: str) -> None:
    """Start detaching a port of the server (404 when it has no such port)."""
    ports = await neutron.list_ports(rt, neutron.admin_context(), device_id=uuid)
    if port_id not in {p["id"] for p in ports}:
        raise NotFound(f"Port {port_id} is not attached")
    async with rt.db.transaction() as tx:
        server = await actions.load_for(tx, ctx, uuid, DETACH)
        host = actions.need_host(server)
        await actions.check_up(rt, host)
        await instance_actions.start_action(tx, uuid, DETACH, request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, DETACH_EVENT, host=host)
        tx.publish(agent_topic(host, DETACH), {"instance_uuid": uuid, "port_id": port_id})
