"""Port forwardings of a floating IP (``floating-ip-port-forwarding``): traffic to
some of the floating IP's ports goes to ports of a fixed IPv4 address of an internal
port, through the router that reaches that address's subnet.

A floating IP either leads to one port (associated) or forwards ports, not both; its
forwardings all go through one router, which it keeps while it has any. Checks and
messages are Neutron's (``pf_plugin``); the port arithmetic is
:mod:`nubo.network.port_ranges`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import port_ranges
from nubo.network import tables as t
from nubo.network.errors import bad_resource_request
from nubo.network.port_ranges import RESOURCE, PortRange, Ports
from nubo.network.service import fip_associations, floating_ips, ports, standard
from nubo.network.service.listing import Collection, ListQuery, column_filter, list_rows, to_int

PF, FIP = t.port_forwardings, t.floating_ips


def _external_port(values: list[str]) -> Any:
    return _ranges([PortRange(to_int(v), to_int(v)) for v in values])


def _external_range(values: list[str]) -> Any:
    return _ranges([port_ranges.port_range(v, "external_port_range") for v in values])


def _ranges(wanted: list[PortRange]) -> Any:
    return or_(*[and_(PF.c.external_port_start == r.start, PF.c.external_port_end == r.end)
                 for r in wanted])


def _unsupported(name: str) -> Any:
    def refuse(values: list[str]) -> Any:
        raise BadRequest(f"Port Forwarding filter {name} is not supported.",
                         type="PortForwardingNotSupportFilterField")
    return refuse


COLLECTION = Collection(
    name="port_forwardings", table=PF, tagged=False,
    filters={"id": column_filter(PF.c.id), "protocol": column_filter(PF.c.protocol),
             "internal_port_id": column_filter(PF.c.internal_port_id),
             "description": column_filter(PF.c.description),
             "external_port": _external_port, "external_port_range": _external_range,
             "internal_ip_address": _unsupported("internal_ip_address"),
             "internal_port": _unsupported("internal_port")},
    sort_keys={"id": PF.c.id, "protocol": PF.c.protocol,
               "internal_port_id": PF.c.internal_port_id,
               "external_port": PF.c.external_port_start,
               "external_port_range": PF.c.external_port_start},
)


def ports_of(row: Row[Any] | Mapping[str, Any]) -> Ports:
    m = row._mapping if isinstance(row, Row) else row
    return Ports(PortRange(m["internal_port_start"], m["internal_port_end"]),
                 PortRange(m["external_port_start"], m["external_port_end"]))


def view(row: Row[Any]) -> dict[str, Any]:
    out = {"id": row.id, "internal_port_id": row.internal_port_id,
           "internal_ip_address": row.internal_ip_address, "protocol": row.protocol,
           "description": row.description}
    out.update(ports_of(row).view())
    return out


async def _find(conn: AsyncConnection | Tx, fip_id: str, pf_id: str) -> Row[Any]:
    row = (await conn.execute(select(PF).where(PF.c.id == pf_id, PF.c.floatingip_id == fip_id))
           ).first()
    if row is None:
        raise NotFound(f"Port Forwarding {pf_id} could not be found.",
                       type="PortForwardingNotFound")
    return row


async def list_port_forwardings(rt: Runtime, ctx: RequestContext, fip_id: str,
                                query: ListQuery) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        await floating_ips.find_floatingip(conn, rt, ctx, fip_id)
        rows, more = await list_rows(conn, COLLECTION, query, [PF.c.floatingip_id == fip_id])
        return [view(r) for r in rows], more


async def get_port_forwarding(rt: Runtime, ctx: RequestContext, fip_id: str, pf_id: str
                              ) -> dict[str, Any]:
    async with rt.db.read() as conn:
        await floating_ips.find_floatingip(conn, rt, ctx, fip_id)
        return view(await _find(conn, fip_id, pf_id))


async def _check_collisions(tx: Tx, fip_id: str, wanted: Mapping[str, Any], ports_: Ports,
                            pf_id: str | None = None) -> None:
    same_internal = await tx.execute(select(PF).where(
        PF.c.internal_port_id == wanted["internal_port_id"],
        PF.c.protocol == wanted["protocol"],
        PF.c.internal_ip_address == wanted["internal_ip_address"]))
    for other in same_internal:
        if other.id != pf_id and ports_of(other).internal.collides(ports_.internal):
            raise port_ranges.collision("internal_port_range", ports_of(other).internal,
                                        ports_.internal)
    same_fip = await tx.execute(select(PF).where(PF.c.floatingip_id == fip_id,
                                                 PF.c.protocol == wanted["protocol"]))
    for other in same_fip:
        if other.id != pf_id and ports_of(other).external.collides(ports_.external):
            raise port_ranges.collision("external_port_range", ports_of(other).external,
                                        ports_.external)


async def _check_port_has_no_fip(tx: Tx, port_id: str, address: str) -> None:
    held = (await tx.execute(select(FIP).where(FIP.c.fixed_port_id == port_id).limit(1))
            ).first()
    if held is not None:
        raise Conflict(f"Cannot create port forwarding to floating IP "
                       f"{held.floating_ip_address} ({held.id}) with port {port_id} using "
                       f"fixed IP {address}, as that port already has a binding floating IP.",
                       type="PortHasBindingFloatingIP")


async def _router(tx: Tx, rt: Runtime, ctx: RequestContext, fip: Row[Any],
                  wanted: dict[str, Any]) -> str:
    """The router the forwarding goes through (fills a missing internal address)."""
    port_id = wanted["internal_port_id"]
    port = await ports.find_port(tx, rt, ctx, port_id)
    v4 = await fip_associations.fixed_ipv4(tx, port_id)
    if not v4:
        raise bad_resource_request(RESOURCE, f"Requested internal port {port_id} must "
                                             "allocate an IPv4 address at least.")
    if not wanted.get("internal_ip_address"):
        wanted["internal_ip_address"] = v4[0][1]
    subnet_id = next((s for s, a in v4 if a == wanted["internal_ip_address"]), None)
    if subnet_id is None:
        shown = [{"subnet_id": s, "ip_address": a} for s, a in v4]
        raise bad_resource_request(RESOURCE, "Requested internal IP address "
                                   f"{wanted['internal_ip_address']} is not suitable for "
                                   f"internal neutron port {port_id}, as its fixed_ips are "
                                   f"{shown}")
    router_id = await fip_associations.router_for(tx, port, subnet_id, fip.floating_network_id)
    if router_id is None:
        raise bad_resource_request(RESOURCE, f"External network {fip.floating_network_id} "
                                   f"is not reachable from subnet {subnet_id}. Cannot set Port "
                                   f"forwarding for port {port_id} with Floating IP {fip.id}")
    if fip.router_id and fip.router_id != router_id:
        raise bad_resource_request(RESOURCE, f"The Floating IP {fip.id} had been set on "
                                   f"router {fip.router_id}, the internal Neutron port "
                                   f"{port_id} can not reach it")
    return router_id


def _columns(wanted: Mapping[str, Any], ports_: Ports) -> dict[str, Any]:
    return {"internal_port_id": wanted["internal_port_id"],
            "internal_ip_address": wanted["internal_ip_address"],
            "protocol": wanted["protocol"], "description": wanted.get("description") or "",
            "internal_port_start": ports_.internal.start, "internal_port_end": ports_.internal.end,
            "external_port_start": ports_.external.start,
            "external_port_end": ports_.external.end}


async def _write(tx: Tx, statement: Any, wanted: Mapping[str, Any]) -> None:
    """Insert or update; a duplicate that slipped past the checks is a 400."""
    try:
        async with tx.conn.begin_nested():
            await tx.execute(statement)
    except IntegrityError:
        raise bad_resource_request(RESOURCE, "A duplicate port forwarding entry with same "
                                   "attributes already exists, conflicting values are "
                                   f"{dict(wanted)}") from None


async def create_port_forwarding(rt: Runtime, ctx: RequestContext, fip_id: str,
                                 body: Mapping[str, Any]) -> dict[str, Any]:
    wanted = dict(body)
    ports_ = port_ranges.requested(body)
    async with rt.db.transaction() as tx:
        fip = await floating_ips.find_floatingip(tx, rt, ctx, fip_id)
        if fip.fixed_port_id:
            raise Conflict(f"Cannot associate floating IP {fip.floating_ip_address} ({fip.id}) "
                           f"with port {wanted['internal_port_id']} using fixed IP "
                           f"{wanted.get('internal_ip_address')}, as that fixed IP already "
                           f"has a floating IP on external network {fip.floating_network_id}.",
                           type="FloatingIPPortAlreadyAssociated")
        router_id = await _router(tx, rt, ctx, fip, wanted)
        await _check_collisions(tx, fip_id, wanted, ports_)
        await _check_port_has_no_fip(tx, wanted["internal_port_id"],
                                     wanted["internal_ip_address"])
        pf_id = standard.new_id()
        await _write(tx, insert(PF).values(id=pf_id, floatingip_id=fip_id,
                                           **_columns(wanted, ports_)), wanted)
        if not fip.router_id:
            await floating_ips.set_router_tx(tx, fip_id, router_id)
        tx.publish("network.floatingip.update", {"id": fip_id, "router_id": router_id})
        return view(await _find(tx, fip_id, pf_id))


async def update_port_forwarding(rt: Runtime, ctx: RequestContext, fip_id: str, pf_id: str,
                                 body: Mapping[str, Any]) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        fip = await floating_ips.find_floatingip(tx, rt, ctx, fip_id)
        row = await _find(tx, fip_id, pf_id)
        current = view(row)
        wanted = {**current, **{k: v for k, v in body.items() if v is not None}}
        ports_ = port_ranges.requested(body, ports_of(row))
        if body.get("internal_port_id") and body["internal_port_id"] != row.internal_port_id:
            await _check_port_has_no_fip(tx, body["internal_port_id"],
                                         wanted["internal_ip_address"])
            if "internal_ip_address" not in body:
                wanted["internal_ip_address"] = None
        await _router(tx, rt, ctx, fip, wanted)
        await _check_collisions(tx, fip_id, wanted, ports_, pf_id)
        await _write(tx, update(PF).where(PF.c.id == pf_id).values(_columns(wanted, ports_)),
                     wanted)
        tx.publish("network.floatingip.update", {"id": fip_id, "router_id": fip.router_id})
        return view(await _find(tx, fip_id, pf_id))


async def delete_port_forwarding(rt: Runtime, ctx: RequestContext, fip_id: str,
                                 pf_id: str) -> None:
    async with rt.db.transaction() as tx:
        fip = await floating_ips.find_floatingip(tx, rt, ctx, fip_id)
        await _find(tx, fip_id, pf_id)
        await tx.execute(delete(PF).where(PF.c.id == pf_id))
        left = (await tx.execute(select(PF.c.id).where(PF.c.floatingip_id == fip_id).limit(1))
                ).first()
        if left is None:
            await floating_ips.set_router_tx(tx, fip_id, None)
        tx.publish("network.floatingip.update", {"id": fip_id, "router_id": fip.router_id})
