"""Where a floating IP's traffic goes: a fixed IPv4 address of an internal port,
reached through a router that has both a gateway on the floating IP's network and
an interface on the address's subnet (Neutron's ``get_router_for_floatingip``).

Also what ports and routers must respect because of floating IPs: a port's fixed IP
that a floating IP points at may not change; a deleted port's floating IPs are
disassociated and its port forwardings dropped; a router interface floating IPs
reach through may not be removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.errors import bad_resource_request
from nubo.network.ipam import IPNetwork, to_address
from nubo.network.service import ports, standard
from nubo.network.service.router_ports import INTERFACE

FIP, PF, RP, P, A, SN = (t.floating_ips, t.port_forwardings, t.router_ports, t.ports,
                         t.ip_allocations, t.subnets)
DHCP = "network:dhcp"


@dataclass(frozen=True)
class Target:
    """An internal address a floating IP (or a port forwarding) leads to."""

    port_id: str
    ip_address: str
    subnet_id: str
    router_id: str


_FIXED_IPS = prebuilt(select(A.c.subnet_id, A.c.ip_address)
                      .where(A.c.port_id == bindparam("b_port"))
                      .order_by(A.c.subnet_id, A.c.ip_address))


async def fixed_ipv4(tx: Tx, port_id: str) -> list[tuple[str, str]]:
    """The port's IPv4 (subnet, address) pairs."""
    rows = await tx.execute(_FIXED_IPS, {"b_port": port_id})
    return [(r.subnet_id, r.ip_address) for r in rows if to_address(r.ip_address).version == 4]


def _routers_for() -> Any:
    gw = aliased(P)
    return prebuilt(
        select(RP.c.router_id, A.c.ip_address, SN.c.gateway_ip)
        .join(P, P.c.id == RP.c.port_id)
        .join(A, and_(A.c.port_id == P.c.id, A.c.subnet_id == bindparam("b_subnet")))
        .join(SN, SN.c.id == A.c.subnet_id)
        .join(t.routers, t.routers.c.id == RP.c.router_id)
        .join(gw, gw.c.id == t.routers.c.gw_port_id)
        .where(P.c.network_id == bindparam("b_network"), RP.c.port_type == INTERFACE,
               gw.c.network_id == bindparam("b_external"))
        .order_by(RP.c.router_id))


_ROUTERS_FOR = _routers_for()


async def router_for(tx: Tx, port: Row[Any], subnet_id: str, external_network_id: str
                     ) -> str | None:
    """A router with an interface on the subnet and a gateway on the external network;
    the one holding the subnet's gateway address first."""
    found = list(await tx.execute(_ROUTERS_FOR, {
        "b_subnet": subnet_id, "b_network": port.network_id, "b_external": external_network_id}))
    for r in found:
        if r.ip_address == r.gateway_ip:
            return str(r.router_id)
    return str(found[0].router_id) if found else None


async def resolve(tx: Tx, rt: Runtime, ctx: RequestContext, fip: Mapping[str, Any],
                  port_id: str, fixed_ip: str | None) -> Target:
    """The target of ``port_id`` (and ``fixed_ip``) for a floating IP of project
    ``fip["project_id"]`` on ``fip["floating_network_id"]``, checked as Neutron does."""
    port = await ports.find_port(tx, rt, ctx, port_id)
    if port.project_id != fip["project_id"] and not standard.is_admin(rt, ctx):
        raise bad_resource_request("floatingip", "Cannot process floating IP association "
                                   f"with Port {port_id}, since that port is owned by a "
                                   "different project")
    if port.device_owner == DHCP:
        raise bad_resource_request("floatingip", f"Port {port_id} is unable to be assigned a "
                                                 "floating IP")
    subnet_id, address = await _choose_address(tx, port_id, fixed_ip)
    router_id = await router_for(tx, port, subnet_id, fip["floating_network_id"])
    if router_id is None:
        raise NotFound(f"External network {fip['floating_network_id']} is not reachable from "
                       f"subnet {subnet_id}.  Therefore, cannot associate Port {port_id} "
                       "with a Floating IP.", type="ExternalGatewayForFloatingIPNotFound")
    return Target(port_id, address, subnet_id, router_id)


async def _choose_address(tx: Tx, port_id: str, fixed_ip: str | None) -> tuple[str, str]:
    held = await fixed_ipv4(tx, port_id)
    if fixed_ip:
        if to_address(fixed_ip).version != 4:
            raise bad_resource_request("floatingip", "Cannot process floating IP association "
                                       f"with {fixed_ip}, since that is not an IPv4 address")
        wanted = str(to_address(fixed_ip))
        for subnet_id, address in held:
            if address == wanted:
                return subnet_id, address
        raise bad_resource_request("floatingip", f"Port {port_id} does not have fixed ip "
                                                 f"{fixed_ip}")
    if not held:
        raise bad_resource_request("floatingip", f"Cannot add floating IP to port {port_id} "
                                                 "that has no fixed IPv4 addresses")
    if len(held) > 1:
        raise bad_resource_request("floatingip", f"Port {port_id} has multiple fixed IPv4 "
                                   "addresses.  Must provide a specific IPv4 address when "
                                   "assigning a floating IP")
    return held[0]


_TAKEN = prebuilt(select(FIP.c.id).where(
    FIP.c.id != bindparam("b_id"), FIP.c.floating_network_id == bindparam("b_network"),
    FIP.c.fixed_port_id == bindparam("b_port"),
    FIP.c.fixed_ip_address == bindparam("b_address")))


async def check_not_taken(tx: Tx, fip: Mapping[str, Any], target: Target) -> None:
    """One floating IP per fixed address and external network (409)."""
    other = (await tx.execute(_TAKEN, {
        "b_id": fip["id"], "b_network": fip["floating_network_id"],
        "b_port": target.port_id, "b_address": target.ip_address})).first()
    if other is not None:
        raise already_associated(fip, target.port_id, target.ip_address)


def already_associated(fip: Mapping[str, Any], port_id: str, address: str) -> Conflict:
    return Conflict(f"Cannot associate floating IP {fip['floating_ip_address']} "
                    f"({fip['id']}) with port {port_id} using fixed IP {address}, as that "
                    "fixed IP already has a floating IP on external network "
                    f"{fip['floating_network_id']}.", type="FloatingIPPortAlreadyAssociated")


@contextlib.asynccontextmanager
async def unique_address(tx: Tx, fip: Mapping[str, Any]) -> AsyncIterator[None]:
    """Around the write of a floating IP's row ``fip``: when a concurrent request
    associated another floating IP with the same address first (the table's unique
    key), 409 as the check before would have answered."""
    try:
        async with tx.conn.begin_nested():
            yield
    except IntegrityError as exc:
        if not is_duplicate(exc) or not fip.get("fixed_port_id"):
            raise
        raise already_associated(fip, fip["fixed_port_id"], fip["fixed_ip_address"]) from None


# -- what ports and routers must respect ---------------------------------------------

async def check_interface_unused_tx(tx: Tx, router_id: str, subnet_id: str,
                                    cidr: IPNetwork) -> None:
    """409 RouterInterfaceInUseByFloatingIP when a floating IP (or a port forwarding)
    of the router leads to a port on the subnet."""
    on_subnet = select(A.c.port_id).where(A.c.subnet_id == subnet_id)
    fips = await tx.execute(select(FIP.c.fixed_ip_address).where(
        FIP.c.router_id == router_id, FIP.c.fixed_port_id.in_(on_subnet)))
    forwards = await tx.execute(select(PF.c.internal_ip_address).join(
        FIP, FIP.c.id == PF.c.floatingip_id).where(
        FIP.c.router_id == router_id, PF.c.internal_port_id.in_(on_subnet)))
    for (address,) in [*fips, *forwards]:
        if address and to_address(address) in cidr:
            raise Conflict(f"Router interface for subnet {subnet_id} on router {router_id} "
                           "cannot be deleted, as it is required by one or more floating "
                           "IPs.", type="RouterInterfaceInUseByFloatingIP")


async def check_fixed_ips_tx(tx: Tx, port_id: str, new_fixed_ips: Sequence[Mapping[str, Any]]
                             ) -> None:
    """A port's fixed IP that a floating IP leads to must stay (400, Neutron's
    ``prevent_internal_ip_change_for_fip``); the ports service calls this on updates."""
    held = (await tx.execute(select(FIP.c.fixed_ip_address).where(
        FIP.c.fixed_port_id == port_id, FIP.c.fixed_ip_address.isnot(None)).limit(1))).scalar()
    if held is None or any(ip.get("ip_address") == held for ip in new_fixed_ips):
        return
    raise bad_resource_request("port", f"Cannot update the fixed_ips of the port {port_id}, "
                               "because its original fixed_ip has been associated to a "
                               "floating ip")


async def port_deleted_tx(tx: Tx, port_id: str) -> None:
    """Before a port is deleted: its floating IPs are disassociated (they stay with the
    project) and the port forwardings to it go; a floating IP left without forwardings
    leaves its router. The ports service calls this in its delete transaction."""
    held = [r.id for r in await tx.execute(select(FIP.c.id).where(FIP.c.fixed_port_id == port_id))]
    if held:
        await tx.execute(update(FIP).where(FIP.c.id.in_(held)).values(
            fixed_port_id=None, fixed_ip_address=None, router_id=None, status="DOWN",
            updated_at=utcnow(), revision_number=FIP.c.revision_number + 1))
    forwarded = {r.floatingip_id for r in await tx.execute(
        select(PF.c.floatingip_id).where(PF.c.internal_port_id == port_id))}
    if forwarded:
        await tx.execute(delete(PF).where(PF.c.internal_port_id == port_id))
        left = {r.floatingip_id for r in await tx.execute(
            select(PF.c.floatingip_id).where(PF.c.floatingip_id.in_(forwarded)))}
        if forwarded - left:
            await tx.execute(update(FIP).where(FIP.c.id.in_(forwarded - left),
                                               FIP.c.fixed_port_id.is_(None))
                             .values(router_id=None))
    for fip_id in [*held, *sorted(forwarded - set(held))]:
        tx.publish("network.floatingip.update", {"id": fip_id})
