"""A server's security groups are those of its ports (Nova with Neutron): listing them,
and ``addSecurityGroup`` / ``removeSecurityGroup``, which change every port of the
server, with Nova's refusals and messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubo.compute import network_client as neutron
from nubo.core.auth.context import RequestContext
from nubo.core.errors import BadRequest, Conflict, NotFound, NuboError
from nubo.core.runtime import Runtime

CANNOT_APPLY = ("Network requires port_security_enabled and subnet associated in order to "
                "apply security groups.")


async def find_group(rt: Runtime, ctx: RequestContext, project_id: str, name_or_id: str
                     ) -> dict[str, Any]:
    """A group of the project (or shared with it) by id or name; 404 when none, 409
    when several have the name."""
    groups = await neutron.list_security_groups(rt, ctx, project_id=project_id)
    try:
        groups += await neutron.list_security_groups(rt, ctx, shared=True)
    except NuboError:
        pass
    for group in groups:
        if group["id"] == name_or_id:
            return group
    named = {g["id"]: g for g in groups if g["name"] == name_or_id}
    if len(named) > 1:
        raise Conflict(f"Multiple security_group matches found for name '{name_or_id}', "
                       "use an ID to be more specific.")
    if not named:
        raise NotFound(f"Security group {name_or_id} is not found for project "
                       f"{project_id}")
    return next(iter(named.values()))


async def _ports(rt: Runtime, server: Mapping[str, Any]) -> list[dict[str, Any]]:
    ports = await neutron.list_ports(rt, neutron.admin_context(), device_id=server["uuid"])
    if not ports:
        raise NotFound(f"instance_id {server['uuid']} could not be found as device id on "
                       "any ports")
    return ports


async def add_to_server(rt: Runtime, ctx: RequestContext, server: Mapping[str, Any],
                        name: str) -> None:
    group = await find_group(rt, ctx, server["project_id"], name)
    ports = await _ports(rt, server)
    for port in ports:
        if not port.get("port_security_enabled", True) or not port.get("fixed_ips"):
            raise BadRequest(CANNOT_APPLY)
    for port in ports:
        groups = list(port.get("security_groups") or [])
        if group["id"] in groups:
            continue
        try:
            await neutron.update_port(rt, ctx, port["id"],
                                      {"security_groups": [*groups, group["id"]]})
        except NuboError as e:
            if e.status == 400:
                raise BadRequest(e.message) from e
            raise


async def remove_from_server(rt: Runtime, ctx: RequestContext, server: Mapping[str, Any],
                             name: str) -> None:
    group = await find_group(rt, ctx, server["project_id"], name)
    found = False
    for port in await _ports(rt, server):
        groups = list(port.get("security_groups") or [])
        if group["id"] not in groups:
            continue
        groups.remove(group["id"])
        await neutron.update_port(rt, ctx, port["id"], {"security_groups": groups})
        found = True
    if not found:
        raise NotFound(f"Security group {name} not associated with the instance "
                       f"{server['uuid']}")


async def groups_of_server(rt: Runtime, ctx: RequestContext, uuid: str
                           ) -> list[dict[str, Any]]:
    """The groups of the server's ports, as networking shows them."""
    ports = await neutron.list_ports(rt, neutron.admin_context(), device_id=uuid)
    wanted = sorted({g for p in ports for g in p.get("security_groups") or []})
    if not wanted:
        return []
    return await neutron.list_security_groups(rt, neutron.admin_context(), id=wanted)
