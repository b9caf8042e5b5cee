"""``add_router_interface`` and ``remove_router_interface``: plugging a router into a
subnet, by the subnet (a new port holding the subnet's gateway address) or by a port
the caller made (unattached, with a fixed IP), and unplugging it.

A router may not be on one subnet twice, nor on subnets that overlap, nor take two
IPv4 subnets on one port; an interface that floating IPs or static routes need stays.
Each change runs in one transaction that first bumps the router's revision, which
also serialises concurrent changes of one router. Neutron's checks and messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import insert_of
from nubo.core.errors import Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.errors import bad_request, bad_resource_request
from nubo.network.ipam import to_address
from nubo.network.pools import in_pools
from nubo.network.service import (
    fip_associations,
    ports,
    rbac,
    router_ports,
    router_routes,
    routers,
    standard,
    subnets,
)
from nubo.network.service.router_gateways import elevated
from nubo.network.service.router_ports import INTERFACE, Attachment

Reply = dict[str, Any]


def _reply(router: Row[Any], port: Mapping[str, Any], subnet_ids: Sequence[str]) -> Reply:
    return {"id": router.id, "tenant_id": port["project_id"], "project_id": port["project_id"],
            "port_id": port["id"], "network_id": port["network_id"],
            "subnet_id": subnet_ids[-1], "subnet_ids": list(subnet_ids)}


async def _locked_router(tx: Tx, rt: Runtime, ctx: RequestContext, router_id: str
                         ) -> Row[Any]:
    router = await routers.find_router(tx, rt, ctx, router_id)
    await standard.touch(tx, t.routers, router.id)
    return router


async def add_router_interface(rt: Runtime, ctx: RequestContext, router_id: str,
                               info: Mapping[str, Any]) -> Reply:
    async with rt.db.transaction() as tx:
        router = await _locked_router(tx, rt, ctx, router_id)
        attached = await router_ports.attached(tx, router.id)
        if "port_id" in info:
            reply = await _add_port(tx, rt, ctx, router, attached, info["port_id"])
        else:
            reply = await _add_subnet(tx, rt, ctx, router, attached, info["subnet_id"])
        tx.publish("network.router.update", {"id": router.id, "port_id": reply["port_id"]})
        return reply


def _check_address_mode(subnet: Row[Any]) -> None:
    if subnet.ip_version == 6 and subnet.ipv6_ra_mode is None \
            and subnet.ipv6_address_mode is not None:
        raise bad_resource_request("router", f"IPv6 subnet {subnet.id} configured to receive "
                                   "RAs from an external router cannot be added to Neutron "
                                   "Router.")


async def _check_subnet_owner(tx: Tx, rt: Runtime, ctx: RequestContext,
                              subnet: Row[Any]) -> None:
    """Another project's subnet only when its network is shared with the caller's
    project by name (a network shared with everyone is not enough: Neutron)."""
    if subnet.project_id == ctx.project_id or standard.is_admin(rt, ctx):
        return
    R = rbac.R
    shared = (await tx.execute(select(R.c.id).where(
        R.c.object_type == "network", R.c.object_id == subnet.network_id,
        R.c.action == rbac.SHARED, R.c.target_project == ctx.project_id))).first()
    if shared is None:
        raise bad_resource_request("router", "Cannot add interface to router because subnet "
                                   f"{subnet.id} is not owned by project making the request")


async def _add_subnet(tx: Tx, rt: Runtime, ctx: RequestContext, router: Row[Any],
                      attached: list[Attachment], subnet_id: str) -> Reply:
    subnet = await subnets.find_subnet(tx, rt, ctx, subnet_id)
    if not subnet.gateway_ip:
        raise bad_resource_request("router", "Subnet for router interface must have a "
                                             "gateway IP")
    await _check_subnet_owner(tx, rt, ctx, subnet)
    _check_address_mode(subnet)
    await router_ports.check_new_subnets(tx, attached, [(subnet.id, subnets.cidr_of(subnet))])
    wanted = {"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}
    if subnet.ip_version == 6:
        same = _v6_interface(attached, subnet.network_id)
        if same is not None:
            fixed = [{"subnet_id": ip.subnet_id, "ip_address": ip.ip_address}
                     for ip in same.fixed_ips]
            port = await ports.update_port_tx(tx, rt, elevated(ctx), same.port_id,
                                              {"fixed_ips": [*fixed, wanted]})
            return _reply(router, port, [subnet.id])
    port = await ports.add_port_tx(tx, rt, ctx, {
        "network_id": subnet.network_id, "fixed_ips": [wanted], "admin_state_up": True,
        "device_id": router.id, "device_owner": INTERFACE, "name": ""},
        project_id=router.project_id)
    attachment = {"port_id": port["id"], "router_id": router.id, "port_type": INTERFACE}
    await tx.execute(insert_of(t.router_ports, attachment), attachment)
    return _reply(router, port, [subnet.id])


def _v6_interface(attached: Sequence[Attachment], network_id: str) -> Attachment | None:
    """The router's interface with IPv6 addresses on the network, if any."""
    return next((p for p in attached if p.is_interface and p.network_id == network_id
                 and any(ip.ip_version == 6 for ip in p.fixed_ips)), None)


async def _add_port(tx: Tx, rt: Runtime, ctx: RequestContext, router: Row[Any],
                    attached: list[Attachment], port_id: str) -> Reply:
    port = await ports.find_port(tx, rt, ctx, port_id)
    if port.device_id:
        raise Conflict(f"Unable to complete operation on port {port.id} for network "
                       f"{port.network_id}. Port already has an attached device "
                       f"{port.device_id}.", type="PortInUse")
    held = await tx.execute(select(t.ip_allocations.c.subnet_id, t.ip_allocations.c.ip_address)
                            .where(t.ip_allocations.c.port_id == port.id))
    fixed = [(r.subnet_id, r.ip_address) for r in held]
    if not fixed:
        raise bad_resource_request("router", "Router port must have at least one fixed IP")
    rows = await router_ports.subnet_rows(tx, [s for s, _ in fixed])
    for subnet in rows:
        _check_address_mode(subnet)
    if any(ip.version == 6 for ip in (to_address(a) for _, a in fixed)):
        same = _v6_interface(attached, port.network_id)
        if same is not None:
            raise bad_resource_request(
                "router", f"Router already contains IPv6 port {same.port_id} belonging to "
                f"network id {port.network_id}. Only one IPv6 port from the same network "
                "subnet can be connected to a router.")
    await router_ports.check_new_subnets(tx, attached,
                                         [(s.id, subnets.cidr_of(s)) for s in rows])
    if len([s for s in rows if s.ip_version == 4]) > 1:
        raise bad_resource_request("router", "Cannot have multiple IPv4 subnets on router port")
    if not standard.is_admin(rt, ctx):
        _check_in_pools(ctx, port.id, fixed, rows)
    view = await ports.update_port_tx(tx, rt, elevated(ctx), port.id,
                                      {"device_id": router.id, "device_owner": INTERFACE})
    attachment = {"port_id": port.id, "router_id": router.id, "port_type": INTERFACE}
    await tx.execute(insert_of(t.router_ports, attachment), attachment)
    return _reply(router, view, [s.id for s in rows])


def _check_in_pools(ctx: RequestContext, port_id: str, fixed: Sequence[tuple[str, str]],
                    rows: Sequence[Row[Any]]) -> None:
    """A port may hold an address outside the pools (the gateway's, say) only on the
    caller's own subnet."""
    by_id = {s.id: s for s in rows}
    for subnet_id, address in fixed:
        subnet = by_id[subnet_id]
        if subnet.project_id != ctx.project_id and \
                not in_pools(to_address(address), subnets.pools_of(subnet)):
            raise bad_resource_request(
                "router", f"Cannot add interface to router because specified port {port_id} "
                f"has an IP address out of the allocation pool of subnet {subnet_id}, which "
                "is not owned by the project making the request")


async def remove_router_interface(rt: Runtime, ctx: RequestContext, router_id: str,
                                  info: Mapping[str, Any]) -> Reply:
    async with rt.db.transaction() as tx:
        router = await _locked_router(tx, rt, ctx, router_id)
        attached = router_ports.interfaces(await router_ports.attached(tx, router.id))
        if "port_id" in info:
            reply = await _remove_port(tx, rt, router, attached, info["port_id"],
                                       info.get("subnet_id"))
        else:
            subnet = await subnets.find_subnet(tx, rt, ctx, info["subnet_id"])
            reply = await _remove_subnet(tx, rt, ctx, router, attached, subnet)
        tx.publish("network.router.update", {"id": router.id, "port_id": reply["port_id"]})
        return reply


async def _check_unused(tx: Tx, router: Row[Any], subnet_ids: Sequence[str]) -> None:
    for subnet in await router_ports.subnet_rows(tx, subnet_ids):
        cidr = subnets.cidr_of(subnet)
        await fip_associations.check_interface_unused_tx(tx, router.id, subnet.id, cidr)
        await router_routes.check_not_needed_tx(tx, router.id, subnet.id, cidr)


async def _unplug(tx: Tx, rt: Runtime, port_id: str) -> Mapping[str, Any]:
    """Forget the interface and delete its port; the port as it was."""
    port = await standard.row_of(tx, t.ports, port_id)
    await tx.execute(delete(t.router_ports).where(t.router_ports.c.port_id == port_id))
    await ports.delete_port_tx(tx, rt, port_id)
    return dict(port._mapping)


async def _remove_port(tx: Tx, rt: Runtime, router: Row[Any], attached: list[Attachment],
                       port_id: str, subnet_id: str | None) -> Reply:
    found = next((p for p in attached if p.port_id == port_id), None)
    if found is None:
        raise NotFound(f"Router {router.id} does not have an interface with id {port_id}",
                       type="RouterInterfaceNotFound")
    if subnet_id and subnet_id not in found.subnet_ids:
        raise bad_request("SubnetMismatchForPort", f"Subnet on port {port_id} does not match "
                          f"the requested subnet {subnet_id}.")
    await _check_unused(tx, router, found.subnet_ids)
    port = await _unplug(tx, rt, port_id)
    return _reply(router, port, found.subnet_ids or [subnet_id or ""])


async def _remove_subnet(tx: Tx, rt: Runtime, ctx: RequestContext, router: Row[Any],
                         attached: list[Attachment], subnet: Row[Any]) -> Reply:
    on_network = [p for p in attached if p.network_id == subnet.network_id]
    if on_network:
        await _check_unused(tx, router, [subnet.id])
    for found in on_network:
        if subnet.id not in found.subnet_ids:
            continue
        if len(found.subnet_ids) > 1:
            rest = [{"subnet_id": ip.subnet_id, "ip_address": ip.ip_address}
                    for ip in found.fixed_ips if ip.subnet_id != subnet.id]
            view = await ports.update_port_tx(tx, rt, elevated(ctx), found.port_id,
                                              {"fixed_ips": rest})
            return _reply(router, view, [subnet.id])
        return _reply(router, await _unplug(tx, rt, found.port_id), [subnet.id])
    raise NotFound(f"Router {router.id} has no interface on subnet {subnet.id}",
                   type="RouterInterfaceNotFoundForSubnet")
