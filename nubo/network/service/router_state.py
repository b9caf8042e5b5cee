"""Routers as the L3 agent should build them: legs (gateway and interfaces) with
their addresses and MTUs, the external subnets' gateways, static routes, floating
IPs and port forwardings; and the floating IPs' statuses."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.db.prebuilt import prebuilt
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


def _among(column: Any) -> Any:
    return column.in_(bindparam("b_ids", expanding=True))


_ROUTERS = prebuilt(select(R).where(_among(R.c.id)))
_LEGS = prebuilt(
    select(RP.c.router_id, RP.c.port_type, P.c.id, P.c.network_id, P.c.mac_address, N.c.mtu)
    .join(P, P.c.id == RP.c.port_id).join(N, N.c.id == P.c.network_id)
    .where(_among(RP.c.router_id)).order_by(RP.c.router_id, P.c.id))
_GATEWAY_IPS = prebuilt(select(t.subnets.c.id, t.subnets.c.gateway_ip)
                        .where(_among(t.subnets.c.id)))
_ROUTES = prebuilt(select(t.router_routes).where(_among(t.router_routes.c.router_id))
                   .order_by(t.router_routes.c.router_id, t.router_routes.c.destination,
                             t.router_routes.c.nexthop))
_FLOATING_IPS = prebuilt(select(FIP).where(
    _among(FIP.c.router_id), FIP.c.fixed_port_id.isnot(None),
    FIP.c.fixed_ip_address.isnot(None)).order_by(FIP.c.id))
_FORWARDINGS = prebuilt(select(PF, FIP.c.router_id, FIP.c.floating_ip_address)
                        .join(FIP, FIP.c.id == PF.c.floatingip_id)
                        .where(_among(FIP.c.router_id)).order_by(PF.c.id))
_FIP_STATUS = prebuilt(select(FIP.c.id, FIP.c.status).where(_among(FIP.c.id)))


async def load(conn: AsyncConnection, router_ids: frozenset[str] | None
               ) -> dict[str, Router]:
    """The routers (of ``router_ids``, or all)."""
    if router_ids is not None and not router_ids:
        return {}
    rows = (await (conn.execute(select(R)) if router_ids is None
                   else conn.execute(_ROUTERS, {"b_ids": sorted(router_ids)}))).all()
    if not rows:
        return {}
    ids = [r.id for r in rows]
    legs = (await conn.execute(_LEGS, {"b_ids": ids})).all()
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
    via = dict((await conn.execute(_GATEWAY_IPS, {"b_ids": subnets})).all())
    return {g.id: tuple(via[ip.subnet_id] for ip in g.fixed_ips if via.get(ip.subnet_id))
            for g in gateways}


async def _routes(conn: AsyncConnection, ids: list[str]) -> dict[str, tuple[Route, ...]]:
    out: dict[str, list[Route]] = {}
    for r in await conn.execute(_ROUTES, {"b_ids": ids}):
        out.setdefault(r.router_id, []).append(Route(r.destination, r.nexthop))
    return {k: tuple(v) for k, v in out.items()}


async def _floating_ips(conn: AsyncConnection, ids: list[str]
                        ) -> tuple[dict[str, tuple[FloatingIp, ...]],
                                   dict[str, tuple[PortForwarding, ...]]]:
    fips: dict[str, list[FloatingIp]] = {}
    for f in await conn.execute(_FLOATING_IPS, {"b_ids": ids}):
        fips.setdefault(f.router_id, []).append(FloatingIp(
            f.id, f.floating_ip_address, f.fixed_ip_address, f.fixed_port_id))
    forwardings: dict[str, list[PortForwarding]] = {}
    for r in await conn.execute(_FORWARDINGS, {"b_ids": ids}):
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
    rows: Any = await conn.execute(_FIP_STATUS, {"b_ids": sorted(ids)})
    return dict(rows.all())
