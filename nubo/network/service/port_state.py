"""The L2 side of a host's desired state: the ports bound to it, the networks it
needs (for its ports, and for the DHCP and routers it serves) and its firewall; and
the event that tells hosts a security group's members changed."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.network import tables as t
from nubo.network.agent.roles import Role
from nubo.network.agent.state import (
    AddressPair,
    Firewall,
    FixedIp,
    Network,
    Port,
    Rule,
    SecurityGroup,
    Segment,
)

P, N, IA, SN = t.ports, t.networks, t.ip_allocations, t.subnets
PSG, SG, SGR = t.port_security_groups, t.security_groups, t.security_group_rules
# ports a router or floating IP holds: their devices are the L3 agent's, not taps
L3_OWNERS = ("network:router_interface", "network:router_gateway", "network:floatingip",
             "network:router_interface_distributed", "network:router_centralized_snat",
             "network:ha_router_replicated_interface")


def on_host(host: Any) -> Any:
    """Ports the host's L2 agent plugs: bound there, not a router's or floating IP's."""
    return (P.c.binding_host_id == host) & P.c.device_owner.notin_(L3_OWNERS)


_ON_HOST = prebuilt(select(P).where(on_host(bindparam("b_host"))))
_ON_HOST_AMONG = prebuilt(select(P).where(on_host(bindparam("b_host")),
                                          P.c.id.in_(bindparam("b_ids", expanding=True))))
_GROUPS_OF = prebuilt(select(PSG.c.port_id, PSG.c.security_group_id)
                      .where(PSG.c.port_id.in_(bindparam("b_ids", expanding=True))))
_MTUS = prebuilt(select(N.c.id, N.c.mtu).where(N.c.id.in_(bindparam("b_ids", expanding=True))))


async def ports(conn: AsyncConnection, host: str, ids: frozenset[str] | None
                 ) -> dict[str, Port]:
    if ids is not None and not ids:
        return {}
    rows = (await (conn.execute(_ON_HOST, {"b_host": host}) if ids is None else
                   conn.execute(_ON_HOST_AMONG, {"b_host": host, "b_ids": sorted(ids)}))).all()
    if not rows:
        return {}
    port_ids = [r.id for r in rows]
    fixed = await fixed_ips(conn, port_ids)
    groups: dict[str, list[str]] = {i: [] for i in port_ids}
    for pid, gid in await conn.execute(_GROUPS_OF, {"b_ids": port_ids}):
        groups[pid].append(gid)
    mtus = dict((await conn.execute(_MTUS, {"b_ids": sorted({r.network_id for r in rows})})
                 ).all())
    return {r.id: Port(
        id=r.id, network_id=r.network_id, mac_address=r.mac_address,
        fixed_ips=fixed.get(r.id, ()), admin_state_up=r.admin_state_up,
        mtu=mtus.get(r.network_id, 0), device_owner=r.device_owner, device_id=r.device_id,
        port_security_enabled=r.port_security_enabled,
        allowed_address_pairs=tuple(AddressPair(str(a["ip_address"]),
                                                str(a.get("mac_address") or r.mac_address))
                                    for a in r.allowed_address_pairs or []),
        security_group_ids=tuple(sorted(groups[r.id]))) for r in rows}


_FIXED_IPS = prebuilt(
    select(IA.c.port_id, IA.c.subnet_id, IA.c.ip_address, SN.c.cidr)
    .join(SN, SN.c.id == IA.c.subnet_id).where(IA.c.port_id.in_(bindparam("b_ids", expanding=True)))
    .order_by(IA.c.port_id, SN.c.ip_version, IA.c.subnet_id, IA.c.ip_address))
_PEERS = prebuilt(select(t.agents.c.configurations).where(
    t.agents.c.agent_type == Role.L2.value.agent_type, t.agents.c.host != bindparam("b_host")))
_SEGMENTS = prebuilt(
    select(t.network_segments)
    .where(t.network_segments.c.network_id.in_(bindparam("b_ids", expanding=True)))
    .order_by(t.network_segments.c.network_id, t.network_segments.c.segment_index))
_STATUS = prebuilt(select(P.c.id, P.c.status).where(P.c.id.in_(bindparam("b_ids", expanding=True))))


async def fixed_ips(conn: AsyncConnection, port_ids: Iterable[str]
                    ) -> dict[str, tuple[FixedIp, ...]]:
    """The fixed IPs of each port, with their subnets' CIDRs."""
    ids = sorted(set(port_ids))
    out: dict[str, list[FixedIp]] = {}
    if ids:
        rows = await conn.execute(_FIXED_IPS, {"b_ids": ids})
        for pid, sid, ip, cidr in rows:
            out.setdefault(pid, []).append(FixedIp(sid, ip, cidr))
    return {pid: tuple(ips) for pid, ips in out.items()}


async def networks(conn: AsyncConnection, host: str, roles: Collection[Role],
                    ids: frozenset[str] | None) -> dict[str, Network]:
    """The networks (of ``ids``) the host needs: those of its ports, and on a DHCP
    or L3 host those it serves."""
    if ids is not None and not ids:
        return {}
    needed = [N.c.id.in_(select(P.c.network_id).where(on_host(host)))]
    if Role.DHCP in roles:
        needed.append(N.c.id.in_(select(SN.c.network_id).where(SN.c.enable_dhcp.is_(True))))
    if Role.L3 in roles:
        needed.append(N.c.id.in_(select(P.c.network_id).join(
            t.router_ports, t.router_ports.c.port_id == P.c.id)))
    query = select(N.c.id, N.c.mtu, N.c.admin_state_up).where(or_(*needed))
    if ids is not None:
        query = query.where(N.c.id.in_(sorted(ids)))
    rows = (await conn.execute(query)).all()
    segments = await segments_of(conn, [r.id for r in rows])
    peers = await tunnel_peers(conn, host) if rows else ()
    return {r.id: Network(r.id, r.mtu, r.admin_state_up, segments.get(r.id, ()),
                          peers if any(s.network_type == "vxlan"
                                       for s in segments.get(r.id, ())) else ())
            for r in rows}


async def tunnel_peers(conn: AsyncConnection, host: str) -> tuple[str, ...]:
    """The underlay addresses (``tunneling_ip``) the other hosts' Linux bridge
    agents registered."""
    rows = await conn.execute(_PEERS, {"b_host": host})
    found = {str(c["tunneling_ip"]) for (c,) in rows if c and c.get("tunneling_ip")}
    return tuple(sorted(found))


async def segments_of(conn: AsyncConnection, network_ids: list[str]
                      ) -> dict[str, tuple[Segment, ...]]:
    out: dict[str, list[Segment]] = {}
    if network_ids:
        for r in await conn.execute(_SEGMENTS, {"b_ids": network_ids}):
            out.setdefault(r.network_id, []).append(
                Segment(r.network_type, r.physical_network, r.segmentation_id))
    return {n: tuple(segs) for n, segs in out.items()}


async def port_status(conn: AsyncConnection, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict((await conn.execute(_STATUS, {"b_ids": sorted(set(ids))})).all())


async def firewall(conn: AsyncConnection, host: str) -> Firewall:
    """The groups of the host's port-security ports, their rules, and the members
    and address groups those rules name."""
    secured = select(P.c.id).where(on_host(host), P.c.port_security_enabled.is_(True))
    group_ids = sorted(r[0] for r in await conn.execute(
        select(PSG.c.security_group_id).where(PSG.c.port_id.in_(secured)).distinct()))
    if not group_ids:
        return Firewall()
    rules: dict[str, list[Rule]] = {g: [] for g in group_ids}
    for r in await conn.execute(select(SGR).where(SGR.c.security_group_id.in_(group_ids))
                                .order_by(SGR.c.id)):
        rules[r.security_group_id].append(Rule(
            r.id, r.direction, r.ethertype, r.protocol, r.port_range_min, r.port_range_max,
            r.remote_ip_prefix, r.remote_group_id, r.remote_address_group_id))
    stateful = dict((await conn.execute(select(SG.c.id, SG.c.stateful)
                                        .where(SG.c.id.in_(group_ids)))).all())
    groups = tuple(SecurityGroup(g, bool(stateful.get(g, True)), tuple(rules[g]))
                   for g in group_ids if g in stateful)
    firewall = Firewall(groups=groups)
    return Firewall(groups=groups,
                    members=await members(conn, sorted(firewall.remote_groups())),
                    address_groups=await _address_groups(conn, groups))


async def members(conn: AsyncConnection, group_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """The addresses of each group's ports: fixed IPs and allowed address pairs."""
    out: dict[str, set[str]] = {g: set() for g in group_ids}
    if not group_ids:
        return {}
    in_groups = PSG.c.security_group_id.in_(group_ids)
    for gid, ip in await conn.execute(select(PSG.c.security_group_id, IA.c.ip_address)
                                      .join(IA, IA.c.port_id == PSG.c.port_id)
                                      .where(in_groups)):
        out[gid].add(ip)
    for gid, pairs in await conn.execute(select(PSG.c.security_group_id,
                                                P.c.allowed_address_pairs)
                                         .join(P, P.c.id == PSG.c.port_id).where(in_groups)):
        out[gid].update(str(p["ip_address"]) for p in pairs or [])
    return {g: tuple(sorted(ips)) for g, ips in out.items()}


async def _address_groups(conn: AsyncConnection, groups: Iterable[SecurityGroup]
                          ) -> dict[str, tuple[str, ...]]:
    ids = sorted({r.remote_address_group_id for g in groups for r in g.rules
                  if r.remote_address_group_id})
    out: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        AGA = t.address_group_addresses
        for gid, cidr in await conn.execute(
                select(AGA.c.address_group_id, AGA.c.address)
                .where(AGA.c.address_group_id.in_(ids)).order_by(AGA.c.address)):
            out[gid].append(cidr)
    return {g: tuple(a) for g, a in out.items()}


MEMBERS_TOPIC = "network.security_group.members"


_GROUPS = prebuilt(select(PSG.c.security_group_id).where(PSG.c.port_id == bindparam("b_port")))


async def members_changed_tx(tx: Tx, port_id: str) -> None:
    """Tell the hosts whose firewalls take members from the port's groups that the
    addresses of those groups may have changed (a port came, went, or changed its
    addresses or groups): ``network.security_group.members`` once per group."""
    for (group_id,) in await tx.execute(_GROUPS, {"b_port": port_id}):
        tx.publish(MEMBERS_TOPIC, {"id": group_id})
