"""What one host's network agent should realise, read for the agent: the ports
bound to the host, the networks it needs, its firewall, and (through
``dhcp_state`` and ``router_state``) the DHCP and routers it serves.

These are the agent's only way to the database (in-process today; a remote agent
will reach them over the bus). ``load`` reads one scope of objects (the ids an
event named, or everything) in one read transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import bindparam, select

from nubo.core.db.prebuilt import prebuilt
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.agent.driver import Inventory
from nubo.network.agent.reconcile import Desired, Scope, within
from nubo.network.agent.roles import Role
from nubo.network.agent.state import Port
from nubo.network.service import dhcp_state, port_state, router_state


async def load(rt: Runtime, host: str, roles: Collection[Role], scope: Scope,
               actual: Inventory) -> tuple[Desired, Scope]:
    """The desired state of ``scope`` on ``host``, and the scope widened to the
    networks it touches (a network goes when nothing on the host uses it)."""
    async with rt.db.read() as conn:
        ports = await port_state.ports(conn, host, scope.ports) if Role.L2 in roles else {}
        dhcp = (await dhcp_state.load(conn, rt.settings.network, scope.dhcp)
                if Role.DHCP in roles else {})
        routers = await router_state.load(conn, scope.routers) if Role.L3 in roles else {}
        nets = _touched(scope, actual, ports.values(), dhcp, routers)
        networks = await port_state.networks(conn, host, roles, nets)
        legs = [leg.id for r in routers.values()
                for leg in ((r.gateway,) if r.gateway else ()) + r.interfaces]
        status = await port_state.port_status(conn, [*ports, *legs])
        fips = set(scope.floating_ips) | {f for r in routers.values()
                                          for f in r.floating_ip_ids()}
        for rid in within(actual.routers, scope.routers):
            fips.update(actual.routers[rid].floating_ip_ids)
        fip_status = await router_state.floating_ip_status(conn, fips)
        firewall = (await port_state.firewall(conn, host)
                    if scope.firewall and Role.L2 in roles else None)
    desired = Desired(networks=networks, ports=ports, port_status=status, dhcp=dhcp,
                      routers=routers, floating_ip_status=fip_status, firewall=firewall)
    return desired, Scope(ports=scope.ports, networks=nets, dhcp=scope.dhcp,
                          routers=scope.routers, floating_ips=frozenset(fips),
                          firewall=scope.firewall)


def _touched(scope: Scope, actual: Inventory, ports: Iterable[Port],
             dhcp: Iterable[str], routers: dict[str, Any]) -> frozenset[str] | None:
    """The networks whose presence on the host a sync of ``scope`` may change."""
    if scope.networks is None or scope.ports is None or scope.dhcp is None \
            or scope.routers is None:
        return None
    # DHCP is keyed by network id
    nets = set(scope.networks) | set(scope.dhcp) | set(dhcp) | {p.network_id for p in ports}
    nets.update(actual.ports[i].network_id for i in within(actual.ports, scope.ports))
    for router in routers.values():
        nets.update(router.network_ids())
    for rid in within(actual.routers, scope.routers):
        nets.update(actual.routers[rid].network_ids)
    return frozenset(nets)


_SUBNET_NETWORK = prebuilt(select(t.subnets.c.network_id)
                           .where(t.subnets.c.id == bindparam("b_id")))
_PORT_NETWORK = prebuilt(select(t.ports.c.network_id).where(t.ports.c.id == bindparam("b_id")))
_FIP_ROUTER = prebuilt(select(t.floating_ips.c.router_id)
                       .where(t.floating_ips.c.id == bindparam("b_id")))


async def subnet_network(rt: Runtime, subnet_id: str) -> str | None:
    """The network of a subnet (None when it is gone)."""
    async with rt.db.read() as conn:
        found: str | None = (await conn.execute(_SUBNET_NETWORK, {"b_id": subnet_id})).scalar()
        return found


async def port_network(rt: Runtime, port_id: str) -> str | None:
    """The network of a port (None when it is gone)."""
    async with rt.db.read() as conn:
        found: str | None = (await conn.execute(_PORT_NETWORK, {"b_id": port_id})).scalar()
        return found


async def floating_ip_router(rt: Runtime, floating_ip_id: str) -> str | None:
    """The router a floating IP is on now (None when on none, or gone)."""
    async with rt.db.read() as conn:
        found: str | None = (await conn.execute(_FIP_ROUTER, {"b_id": floating_ip_id})
                             ).scalar()
        return found
