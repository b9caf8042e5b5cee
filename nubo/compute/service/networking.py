"""What compute does with networking for its servers, as Nova's network API does with
Neutron: ports for a build (made on the requested networks, or the user's own ports
taken), bound to the server's host; bindings moved with the server; ports released
when it goes (compute's deleted, the user's unbound and kept); the network info
refreshed from what networking says (``network-changed``).

Every call goes through ``nubo.compute.network_client``; compute's own records are
``info_cache``'s. A failed allocation undoes what it did before raising
``AllocationFailed`` with a reason a user can act on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from nubo.compute import network_client as neutron
from nubo.compute import network_info
from nubo.compute.service import info_cache, network_requests
from nubo.core.auth.context import RequestContext
from nubo.core.errors import Conflict, NotFound, NuboError
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)
Vif = dict[str, Any]


class AllocationFailed(NuboError):
    """The server's ports could not be made or taken; ``message`` says why."""

    status = 400


def owner_context(instance: Mapping[str, Any]) -> RequestContext:
    """Networking as the user who made the server (roles of the create request)."""
    kept = (instance.get("extra") or {}).get("context") or {}
    return neutron.user_context({"user_id": instance["user_id"],
                                 "project_id": instance["project_id"], **kept})


def device_owner(rt: Runtime, instance: Mapping[str, Any]) -> str:
    zone = instance.get("availability_zone") or rt.settings.compute.default_availability_zone
    return f"compute:{zone}"


# ------------------------------------------------------------------- refresh


async def refresh(rt: Runtime, uuid: str) -> list[Vif]:
    """Rebuild the server's network info from its ports as networking shows them."""
    admin = neutron.admin_context()
    ports = await neutron.list_ports(rt, admin, device_id=uuid)
    nets = {n["id"]: n for n in await neutron.list_networks(
        rt, admin, id=sorted({p["network_id"] for p in ports}))}
    fips = await neutron.list_floating_ips(rt, admin, port_id=[p["id"] for p in ports])
    async with rt.db.transaction() as tx:
        info = network_info.assemble(ports, nets, fips, await info_cache.records(tx, uuid))
        await info_cache.save(tx, uuid, info)
    return info


# ---------------------------------------------------------------- allocation


async def allocate_for_instance(rt: Runtime, instance: Mapping[str, Any], host: str
                                ) -> list[Vif]:
    """The ports of a server being built on ``host``: bound there, recorded, and its
    network info. A rescheduled build finds its ports made and moves them."""
    uuid = instance["uuid"]
    requests = await _requests(rt, instance)
    if not requests:
        return []
    if await neutron.list_ports(rt, neutron.admin_context(), device_id=uuid):
        return await bind_ports_to_host(rt, instance, host)
    ctx = owner_context(instance)
    names = (instance.get("extra") or {}).get("security_groups") or ["default"]
    made: list[str] = []
    taken: list[str] = []
    request: Mapping[str, Any] = {}
    try:
        groups = await network_requests.security_group_ids(rt, ctx, names)
        nets = {n["id"]: n for n in await neutron.list_networks(
            rt, ctx, id=sorted({r["uuid"] for r in requests if r.get("uuid")}))}
        for request in requests:
            if request.get("port"):
                await take_port(rt, instance, request["port"], host, tag=request.get("tag"))
                taken.append(request["port"])
            else:
                made.append(await make_port(rt, ctx, instance, request, host, groups=groups,
                                            network=nets.get(request["uuid"])))
    except NuboError as e:
        await _undo(rt, uuid, made, taken)
        raise AllocationFailed(reason(e, request)) from e
    return await refresh(rt, uuid)


async def _requests(rt: Runtime, instance: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The build's network requests; ``auto`` becomes the project's auto-allocated
    network (AllocationFailed when none can be made)."""
    networks = (instance.get("extra") or {}).get("networks")
    if networks == "auto":
        net = await neutron.auto_allocated_network(rt, owner_context(instance),
                                                   instance["project_id"])
        if net is None:
            raise AllocationFailed("Unable to automatically allocate a network for project "
                                   f"{instance['project_id']}")
        return [{"uuid": net, "port": None, "fixed_ip": None, "tag": None}]
    return [dict(r) for r in networks] if isinstance(networks, list) else []


async def make_port(rt: Runtime, ctx: RequestContext, instance: Mapping[str, Any],
                    request: Mapping[str, Any], host: str, *, groups: Sequence[str],
                    network: Mapping[str, Any] | None) -> str:
    """Create the server's port on ``request["uuid"]``, bound to ``host``; its id."""
    if network is None:
        raise NotFound(f"Network {request['uuid']} could not be found.",
                       type="NetworkNotFound")
    if groups and network.get("port_security_enabled") is False:
        raise AllocationFailed("Network requires port_security_enabled and subnet "
                               "associated in order to apply security groups.")
    body: dict[str, Any] = {
        "network_id": request["uuid"], "device_id": instance["uuid"],
        "device_owner": device_owner(rt, instance), "binding:host_id": host,
        "admin_state_up": True, "project_id": instance["project_id"]}
    if request.get("fixed_ip"):
        body["fixed_ips"] = [{"ip_address": request["fixed_ip"]}]
    if groups:
        body["security_groups"] = list(groups)
    port = await neutron.create_port(rt, ctx, body)
    async with rt.db.transaction() as tx:
        await info_cache.add_record(tx, instance["uuid"], port["id"], preserve=False,
                                    tag=request.get("tag"))
    return str(port["id"])


async def take_port(rt: Runtime, instance: Mapping[str, Any], port_id: str, host: str, *,
                    tag: str | None) -> None:
    """Give the user's port to the server, bound to ``host``. Recorded as the user's
    first, so that nothing ever deletes it for the server."""
    admin = neutron.admin_context()
    port = await neutron.show_port(rt, admin, port_id)
    if port.get("device_id") not in ("", None, instance["uuid"]):
        raise Conflict(f"Port {port_id} is still in use.", type="PortInUse")
    async with rt.db.transaction() as tx:
        await info_cache.add_record(tx, instance["uuid"], port_id, preserve=True, tag=tag)
    await neutron.update_port(rt, admin, port_id, {
        "device_id": instance["uuid"], "device_owner": device_owner(rt, instance),
        "binding:host_id": host})


async def _undo(rt: Runtime, uuid: str, made: Sequence[str], taken: Sequence[str]) -> None:
    admin = neutron.admin_context()
    for port_id in made:
        await neutron.delete_port(rt, admin, port_id)
    for port_id in taken:
        await unbind_port(rt, port_id)
    async with rt.db.transaction() as tx:
        await info_cache.drop_records(tx, uuid, [*made, *taken])


def reason(e: NuboError, request: Mapping[str, Any]) -> str:
    """Nova's words for what networking refused while allocating ``request``."""
    kind = neutron.error_type(e)
    ip, net = request.get("fixed_ip"), request.get("uuid")
    if kind in ("IpAddressAlreadyAllocated", "IpAddressInUse"):
        return f"Fixed IP {ip} is already in use."
    if kind in ("InvalidIpForNetwork", "InvalidIpForSubnet"):
        return f"Fixed IP {ip} is not a valid ip address for network {net}."
    if kind == "OverQuota":
        return "Maximum number of ports exceeded"
    if kind == "IpAddressGenerationFailure":
        return f"No fixed IP addresses available for network: {net}"
    return e.message


# ------------------------------------------------------------------ bindings


async def bind_ports_to_host(rt: Runtime, instance: Mapping[str, Any], host: str
                             ) -> list[Vif]:
    """Move every port of the server to ``host`` (reschedule, migration,
    evacuation, unshelve) and refresh its network info."""
    admin = neutron.admin_context()
    for port in await neutron.list_ports(rt, admin, device_id=instance["uuid"]):
        if port.get("binding:host_id") != host:
            await neutron.update_port(rt, admin, port["id"], {"binding:host_id": host})
    return await refresh(rt, instance["uuid"])


async def unbind_port(rt: Runtime, port_id: str) -> None:
    """Hand a user's port back: no device, no owner, no binding (as Nova does)."""
    admin = neutron.admin_context()
    try:
        port = await neutron.show_port(rt, admin, port_id)
        body: dict[str, Any] = {"device_id": "", "device_owner": "",
                                "binding:host_id": None, "binding:profile": {}}
        if port.get("dns_name"):
            body["dns_name"] = ""
        await neutron.update_port(rt, admin, port_id, body)
    except NotFound:
        pass


# ---------------------------------------------------------------- release


async def deallocate_for_instance(rt: Runtime, instance: Mapping[str, Any]) -> None:
    """The server is going: delete the ports compute made, unbind the user's."""
    uuid = instance["uuid"]
    async with rt.db.read() as conn:
        records = await info_cache.records(conn, uuid)
    requested = (instance.get("extra") or {}).get("networks")
    if requested in (None, "none") and not records:
        return          # no port was ever made or taken for it
    ports = await neutron.list_ports(rt, neutron.admin_context(), device_id=uuid)
    keep = {r["port_id"] for r in records if r["preserve_on_delete"]}
    if isinstance(requested, list):
        keep |= {r["port"] for r in requested if r.get("port")}
    for port in ports:
        await release_port(rt, port["id"], keep=port["id"] in keep)
    if ports or records:
        async with rt.db.transaction() as tx:
            await info_cache.drop_records(tx, uuid)
            await info_cache.save(tx, uuid, [])


async def release_port(rt: Runtime, port_id: str, *, keep: bool) -> None:
    if keep:
        await unbind_port(rt, port_id)
    else:
        await neutron.delete_port(rt, neutron.admin_context(), port_id)


async def deallocate_port_for_instance(rt: Runtime, instance: Mapping[str, Any],
                                       port_id: str) -> None:
    """One port leaves the server (interface detach): deleted if compute made it for
    the server, else handed back. A port the server has no record of (already
    detached) is never deleted: at most unbound, if it still names the server."""
    uuid = instance["uuid"]
    async with rt.db.read() as conn:
        records = {r["port_id"]: r for r in await info_cache.records(conn, uuid)}
    record = records.get(port_id)
    if record is not None:
        await release_port(rt, port_id, keep=bool(record["preserve_on_delete"]))
    else:
        try:
            port = await neutron.show_port(rt, neutron.admin_context(), port_id)
        except NotFound:
            port = {}
        if port.get("device_id") == uuid:
            await unbind_port(rt, port_id)
    async with rt.db.transaction() as tx:
        await info_cache.drop_records(tx, uuid, [port_id])
    await refresh(rt, uuid)


async def forget_port(rt: Runtime, uuid: str, port_id: str) -> None:
    """A port of the server was deleted in networking: forget it."""
    async with rt.db.transaction() as tx:
        await info_cache.drop_records(tx, uuid, [port_id])
    await refresh(rt, uuid)


# ------------------------------------------------------------------- views


async def security_groups_of(rt: Runtime, uuids: Sequence[str]
                             ) -> dict[str, list[dict[str, str]]]:
    """The security groups (``{"name"}``) of each server's ports; servers without
    ports are absent, as Nova leaves them without the attribute."""
    if not uuids or not neutron.available("security_groups"):
        return {}
    admin = neutron.admin_context()
    ports = await neutron.list_ports(rt, admin, device_id=list(uuids))
    wanted = sorted({g for p in ports for g in p.get("security_groups") or []})
    names = {g["id"]: g["name"] for g in await neutron.list_security_groups(
        rt, admin, id=wanted)} if wanted else {}
    out: dict[str, list[dict[str, str]]] = {}
    for port in ports:
        groups = out.setdefault(port["device_id"], [])
        for group in port.get("security_groups") or []:
            entry = {"name": names.get(group, group)}
            if entry not in groups:
                groups.append(entry)
    return out
