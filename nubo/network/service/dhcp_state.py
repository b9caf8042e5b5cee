"""DHCP as the DHCP agent should serve it: for each network with a DHCP-enabled
subnet, its subnets, MTU, DNS domain and one reservation per port holding an
address on those subnets (as Neutron's dnsmasq host file has)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.config import NetworkSettings
from nubo.core.db.prebuilt import prebuilt
from nubo.network import tables as t
from nubo.network.agent.state import (
    Dhcp,
    DhcpHost,
    DhcpOption,
    DhcpPort,
    DhcpSubnet,
    Route,
)
from nubo.network.service.port_state import fixed_ips

P, N, IA, SN = t.ports, t.networks, t.ip_allocations, t.subnets
DHCP_OWNER = "network:dhcp"
ROUTER_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                 "network:ha_router_replicated_interface")


def hostname(dns_name: str, addresses: list[str]) -> str:
    """A port's DHCP host name: its ``dns_name``, else ``host-`` and its first
    address with dashes (Neutron's ``host-10-0-0-3``)."""
    if dns_name:
        return dns_name
    first = addresses[0] if addresses else ""
    return "host-" + first.replace(".", "-").replace(":", "-")


def _among(column: Any) -> Any:
    return column.in_(bindparam("b_ids", expanding=True))


_SUBNETS = prebuilt(select(SN).where(SN.c.enable_dhcp.is_(True))
                    .order_by(SN.c.network_id, SN.c.created_at, SN.c.id))
_SUBNETS_OF = prebuilt(select(SN).where(SN.c.enable_dhcp.is_(True), _among(SN.c.network_id))
                       .order_by(SN.c.network_id, SN.c.created_at, SN.c.id))
_NETWORKS = prebuilt(select(N.c.id, N.c.mtu, N.c.dns_domain).where(_among(N.c.id)))
_ROUTED = prebuilt(
    select(IA.c.subnet_id).join(P, P.c.id == IA.c.port_id)
    .join(SN, (SN.c.id == IA.c.subnet_id) & (SN.c.gateway_ip == IA.c.ip_address))
    .where(_among(IA.c.subnet_id), P.c.device_owner.in_(ROUTER_OWNERS)))
_DHCP_PORTS = prebuilt(select(P.c.id, P.c.network_id, P.c.mac_address)
                       .where(_among(P.c.network_id), P.c.device_owner == DHCP_OWNER)
                       .order_by(P.c.created_at.desc(), P.c.id.desc()))
_ADDRESSES = prebuilt(select(IA.c.port_id, IA.c.ip_address).where(_among(IA.c.subnet_id))
                      .order_by(IA.c.port_id, IA.c.ip_address))
_HOSTS = prebuilt(
    select(P.c.id, P.c.network_id, P.c.mac_address, P.c.dns_name, P.c.extra_dhcp_opts)
    .where(_among(P.c.id), P.c.device_owner != DHCP_OWNER)
    .order_by(P.c.network_id, P.c.mac_address))


async def load(conn: AsyncConnection, settings: NetworkSettings,
               network_ids: frozenset[str] | None) -> dict[str, Dhcp]:
    """The DHCP of the networks (of ``network_ids``, or all) that have a
    DHCP-enabled subnet."""
    if network_ids is not None and not network_ids:
        return {}
    subnets: dict[str, list[Any]] = {}
    found = await (conn.execute(_SUBNETS) if network_ids is None
                   else conn.execute(_SUBNETS_OF, {"b_ids": sorted(network_ids)}))
    for r in found:
        subnets.setdefault(r.network_id, []).append(r)
    if not subnets:
        return {}
    nets = {r.id: r for r in await conn.execute(_NETWORKS, {"b_ids": sorted(subnets)})}
    subnet_ids = {s.id for rows in subnets.values() for s in rows}
    hosts = await _hosts(conn, subnet_ids)
    routed = await _routed(conn, subnet_ids)
    ports = await dhcp_ports(conn, sorted(nets))
    return {nid: Dhcp(
        network_id=nid, mtu=nets[nid].mtu,
        dns_domain=nets[nid].dns_domain or settings.dns_domain,
        subnets=tuple(_subnet(s, s.id in routed) for s in rows),
        hosts=tuple(hosts.get(nid, ())), port=ports.get(nid))
        for nid, rows in sorted(subnets.items()) if nid in nets}


def _subnet(r: Any, routed: bool) -> DhcpSubnet:
    return DhcpSubnet(
        id=r.id, cidr=r.cidr, ip_version=r.ip_version, gateway_ip=r.gateway_ip,
        dns_nameservers=tuple(r.dns_nameservers or ()),
        host_routes=tuple(Route(str(h["destination"]), str(h["nexthop"]))
                          for h in r.host_routes or []),
        ipv6_address_mode=r.ipv6_address_mode, ipv6_ra_mode=r.ipv6_ra_mode, routed=routed)


async def _routed(conn: AsyncConnection, subnet_ids: set[str]) -> set[str]:
    """The subnets whose gateway address a router interface holds."""
    rows = await conn.execute(_ROUTED, {"b_ids": sorted(subnet_ids)})
    return {r[0] for r in rows}


async def dhcp_ports(conn: AsyncConnection, network_ids: list[str]) -> dict[str, DhcpPort]:
    """The ``network:dhcp`` port of each network that has one (the oldest, should
    there be several)."""
    if not network_ids:
        return {}
    rows = (await conn.execute(_DHCP_PORTS, {"b_ids": network_ids})).all()
    fixed = await fixed_ips(conn, [r.id for r in rows])
    return {r.network_id: DhcpPort(r.id, r.mac_address, fixed.get(r.id, ())) for r in rows}


async def _hosts(conn: AsyncConnection, subnet_ids: set[str]) -> dict[str, list[DhcpHost]]:
    """Per network, the reservations of the ports with addresses on ``subnet_ids``."""
    addresses: dict[str, list[str]] = {}
    for pid, ip in await conn.execute(_ADDRESSES, {"b_ids": sorted(subnet_ids)}):
        addresses.setdefault(pid, []).append(ip)
    if not addresses:
        return {}
    rows = await conn.execute(_HOSTS, {"b_ids": sorted(addresses)})
    out: dict[str, list[DhcpHost]] = {}
    for r in rows:
        ips = addresses[r.id]
        options = tuple(DhcpOption(str(o["opt_name"]), str(o["opt_value"]),
                                   int(o.get("ip_version") or 4))
                        for o in r.extra_dhcp_opts or [] if o.get("opt_value") is not None)
        out.setdefault(r.network_id, []).append(DhcpHost(
            r.id, r.mac_address, tuple(ips), hostname(r.dns_name, ips), options))
    return out
