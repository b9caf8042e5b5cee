"""What a router is plugged into: its interface ports and gateway port, with their
addresses and subnets, read in one query.

Gateways, interfaces, static routes and floating IPs all ask the same questions of
these (which subnets does the router reach, which addresses are its own, is it on
this subnet already), so they are answered here once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.network import tables as t
from nubo.network.errors import bad_resource_request
from nubo.network.ipam import IPAddress, IPNetwork, check_router_overlap, to_address, to_network

INTERFACE = "network:router_interface"
GATEWAY = "network:router_gateway"
FLOATING = "network:floatingip"
RP, P, A, SN = t.router_ports, t.ports, t.ip_allocations, t.subnets


@dataclass(frozen=True)
class FixedIp:
    subnet_id: str
    ip_address: str
    cidr: str
    ip_version: int
    gateway_ip: str | None

    @property
    def network(self) -> IPNetwork:
        return to_network(self.cidr, self.cidr)

    @property
    def address(self) -> IPAddress:
        return to_address(self.ip_address)


@dataclass
class Attachment:
    """One port of a router."""

    port_id: str
    port_type: str
    network_id: str
    project_id: str | None
    fixed_ips: list[FixedIp] = field(default_factory=list)

    @property
    def subnet_ids(self) -> list[str]:
        return [ip.subnet_id for ip in self.fixed_ips]

    @property
    def is_interface(self) -> bool:
        return self.port_type == INTERFACE


_ATTACHED = prebuilt(
    select(RP.c.port_id, RP.c.port_type, P.c.network_id, P.c.project_id, A.c.subnet_id,
           A.c.ip_address, SN.c.cidr, SN.c.ip_version, SN.c.gateway_ip)
    .join(P, P.c.id == RP.c.port_id)
    .outerjoin(A, A.c.port_id == P.c.id)
    .outerjoin(SN, SN.c.id == A.c.subnet_id)
    .where(RP.c.router_id == bindparam("b_router"))
    .order_by(P.c.created_at, P.c.id, SN.c.created_at, A.c.ip_address))


async def attached(conn: AsyncConnection | Tx, router_id: str) -> list[Attachment]:
    """The router's ports (interfaces and gateway), oldest first."""
    rows = await conn.execute(_ATTACHED, {"b_router": router_id})
    out: dict[str, Attachment] = {}
    for r in rows:
        item = out.setdefault(r.port_id, Attachment(r.port_id, r.port_type, r.network_id,
                                                    r.project_id))
        if r.subnet_id is not None:
            item.fixed_ips.append(FixedIp(r.subnet_id, r.ip_address, r.cidr, r.ip_version,
                                          r.gateway_ip))
    return list(out.values())


def interfaces(ports: Iterable[Attachment]) -> list[Attachment]:
    return [p for p in ports if p.is_interface]


def gateway(ports: Iterable[Attachment]) -> Attachment | None:
    return next((p for p in ports if p.port_type == GATEWAY), None)


def connected(ports: Iterable[Attachment]) -> list[IPNetwork]:
    """The subnets the router has an address on."""
    return [ip.network for p in ports for ip in p.fixed_ips]


def own_addresses(ports: Iterable[Attachment]) -> list[IPAddress]:
    return [ip.address for p in ports for ip in p.fixed_ips]


_CIDRS = prebuilt(select(SN.c.id, SN.c.cidr).where(SN.c.network_id == bindparam("b_network")))


async def check_new_subnets(conn: AsyncConnection | Tx, ports: Iterable[Attachment],
                            new: Sequence[tuple[str, IPNetwork]]) -> None:
    """Subnets joining a router (an interface's, a gateway network's) may neither be
    subnets it has a port on nor overlap them; every subnet of its gateway network
    counts as on the router (Neutron's ``_check_for_dup_router_subnets``)."""
    new_ids = {subnet_id for subnet_id, _ in new}
    on_router: dict[str, IPNetwork] = {}
    for port in ports:
        for ip in port.fixed_ips:
            if ip.subnet_id in new_ids:
                raise bad_resource_request(
                    "router", f"Router already has a port on subnet {ip.subnet_id}")
            on_router[ip.subnet_id] = ip.network
        if port.port_type == GATEWAY:
            for r in await conn.execute(_CIDRS, {"b_network": port.network_id}):
                on_router[r.id] = to_network(r.cidr, r.cidr)
    for subnet_id, network in new:
        check_router_overlap(subnet_id, network, on_router)


async def subnet_rows(conn: AsyncConnection | Tx, subnet_ids: Iterable[str]) -> list[Any]:
    """Subnets by id (whoever owns them), in the order asked."""
    wanted = list(subnet_ids)
    if not wanted:
        return []
    found = {r.id: r for r in await conn.execute(select(SN).where(SN.c.id.in_(wanted)))}
    return [found[i] for i in wanted if i in found]


async def router_of_port(conn: AsyncConnection | Tx, port_id: str) -> str | None:
    return (await conn.execute(select(RP.c.router_id).where(RP.c.port_id == port_id))
            ).scalar()
