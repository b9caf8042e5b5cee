"""Routers as the L3 agent should build them: legs (gateway and interfaces) with
their addresses and MTUs, the external subnets' gateways, static routes, floating
IPs and port forwardings; and the floating IPs' statuses."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.network import tables as t
from nubo.network.agent.state import (
    FloatingIp,
    PortForwarding,
    Route,
    Router,
    RouterPort,
)
from nubo.network.service.port_state import fixed_ips

R, RP, P, N = t.routers, t.router_ports, t.ports, t.networks
FIP, PF = t.floating_ips, t.port_forwardings
INTERFACE = "network:router_interface"


async def load(conn: AsyncConnection, router_ids: frozenset[str] | None
               ) -> dict[str, Router]:
    """The routers (of ``router_ids``, or all)."""
    if router_ids is not None and not router_ids:
        return {}
    query = select(R)
    if router_ids is not None:
        query = query.where(R.c.id.in_(sorted(router_ids)))
    rows = (await conn.execute(query)).all()
    if not rows:
        return {}
    ids = [r.id for r in rows]
    legs = (await conn.execute(
        select(RP.c.router_id, RP.c.port_type, P.c.id, P.c.network_id, P.c.mac_address,
               N.c.mtu).join(P, P.c.id == RP.c.port_id).join(N, N.c.id == P.c.network_id)
        .where(RP.c.router_id.in_(ids)).order_by(RP.c.router_id, P.c.id))).all()
    addresses = await fixed_ips(conn, [leg.id for leg in legs])
    ports = {leg.id: RouterPort(leg.id, leg.network_id, leg.mac_address,
                                addresses.get(leg.id, ()), leg.mtu) for leg in legs}
    gateways = await _external_gateways(conn, [p for r in rows if r.gw_port_id
                                               and (p := ports.get(r.gw_port_id))])
    routes = await _routes(conn, ids)
    fips, forwardings = await _floating_ips(conn, ids)
    return {r.id: Router(
        id=r.id, admin_state_up=r.admin_state_up, enable_snat=r.enable_snat,
        gateway=ports.get(r.gw_port_id) if r.gw_port_id else None,
        external_gateways=gateways.get(r.gw_port_id or "", ()),
        interfaces=tuple(ports[leg.id] for leg in legs
                         if leg.router_id == r.id and leg.port_type == INTERFACE),
        routes=routes.get(r.id, ()), floating_ips=fips.get(r.id, ()),
        port_forwardings=forwardings.get(r.id, ())) for r in rows}


async def _external_gateways(conn: AsyncConnection, gateways: list[RouterPort]
                             ) -> dict[str, tuple[str, ...]]:
    """Per gateway port, the gateway addresses of the subnets it has addresses on."""
    subnets = sorted({ip.subnet_id for g in gateways for ip in g.fixed_ips})
    if not subnets:
        return {}
    SN = t.subnets
    via = dict((await conn.execute(select(SN.c.id, SN.c.gateway_ip)
                                   .where(SN.c.id.in_(subnets)))).all())
    return {g.id: tuple(via[ip.subnet_id] for ip in g.fixed_ips if via.get(ip.subnet_id))
            for g in gateways}


async def _routes(conn: AsyncConnection, ids: list[str]) -> dict[str, tuple[Route, ...]]:
    RR = t.router_routes
    out: dict[str, list[Route]] = {}
    for r in await conn.execute(select(RR).where(RR.c.router_id.in_(ids))
                                .order_by(RR.c.router_id, RR.c.destination, RR.c.nexthop)):
        out.setdefault(r.router_id, []).append(Route(r.destination, r.nexthop))
    return {k: tuple(v) for k, v in out.items()}


async def _floating_ips(conn: AsyncConnection, ids: list[str]
                        ) -> tuple[dict[str, tuple[FloatingIp, ...]],
                                   dict[str, tuple[PortForwarding, ...]]]:
    fips: dict[str, list[FloatingIp]] = {}
    for f in await conn.execute(select(FIP).where(
            FIP.c.router_id.in_(ids), FIP.c.fixed_port_id.isnot(None),
            FIP.c.fixed_ip_address.isnot(None)).order_by(FIP.c.id)):
        fips.setdefault(f.router_id, []).append(FloatingIp(
            f.id, f.floating_ip_address, f.fixed_ip_address, f.fixed_port_id))
    forwardings: dict[str, list[PortForwarding]] = {}
    for r in await conn.execute(
            select(PF, FIP.c.router_id, FIP.c.floating_ip_address)
            .join(FIP, FIP.c.id == PF.c.floatingip_id).where(FIP.c.router_id.in_(ids))
            .order_by(PF.c.id)):
        forwardings.setdefault(r.router_id, []).append(PortForwarding(
            r.id, r.floatingip_id, r.floating_ip_address, r.protocol, r.internal_ip_address,
            r.internal_port_start, r.internal_port_end, r.external_port_start,
            r.external_port_end))
    return ({k: tuple(v) for k, v in fips.items()},
            {k: tuple(v) for k, v in forwardings.items()})


async def floating_ip_status(conn: AsyncConnection, ids: Collection[str]) -> dict[str, str]:
    """The status of each floating IP of ``ids`` that still exists."""
    if not ids:
        return {}
    rows: Any = await conn.execute(select(FIP.c.id, FIP.c.status)
                                   .where(FIP.c.id.in_(sorted(ids))))
    return dict(rows.all())
