"""The ports DHCP servers hold (``network:dhcp``), made and removed by the DHCP
agent through these functions as Neutron's DHCP agent does: one per network with
a DHCP-enabled subnet, bound to the agent's host, with an address on each of those
subnets; gone when the network has none left. Only drivers that need an address
for their DHCP server ask (``NetworkDriver.needs_dhcp_port``)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy import select

from nubo.core.auth.context import RequestContext
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.agent.state import Dhcp
from nubo.network.service import ports
from nubo.network.service.dhcp_state import DHCP_OWNER, dhcp_ports

P, SN = t.ports, t.subnets
# the DHCP agent's service credentials
AGENT = RequestContext(user_id="neutron", user_name="neutron", system_scope="all",
                       roles=("admin", "member", "reader", "service"))


def device_id(host: str, network_id: str) -> str:
    """Neutron's DHCP port device id: ``dhcp`` + a UUID of the host + the network."""
    return f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{network_id}"


async def ensure(rt: Runtime, host: str, dhcp: Dhcp) -> Dhcp:
    """``dhcp`` with its network's DHCP port, made when missing, given an address
    on the DHCP subnets it has none on, bound to ``host``."""
    wanted = [s.id for s in dhcp.subnets]
    port = dhcp.port
    if port is None:
        async with rt.db.transaction() as tx:
            project = (await tx.execute(select(t.networks.c.project_id).where(
                t.networks.c.id == dhcp.network_id))).scalar()
            await ports.add_port_tx(tx, rt, AGENT, {
                "network_id": dhcp.network_id, "device_owner": DHCP_OWNER,
                "device_id": device_id(host, dhcp.network_id), "binding:host_id": host,
                "fixed_ips": [{"subnet_id": s} for s in wanted]}, project_id=project or "")
    else:
        have = [{"subnet_id": ip.subnet_id, "ip_address": ip.ip_address}
                for ip in port.fixed_ips]
        missing = [s for s in wanted if s not in {ip.subnet_id for ip in port.fixed_ips}]
        if missing:
            await ports.update_port(rt, AGENT, port.id, {
                "fixed_ips": have + [{"subnet_id": s} for s in missing],
                "binding:host_id": host})
        else:
            return dhcp
    async with rt.db.read() as conn:
        found = await dhcp_ports(conn, [dhcp.network_id])
    return replace(dhcp, port=found.get(dhcp.network_id))


async def release(rt: Runtime, network_ids: list[str]) -> None:
    """Delete the DHCP ports of these networks."""
    if not network_ids:
        return
    async with rt.db.transaction() as tx:
        for (pid,) in await tx.execute(select(P.c.id).where(
                P.c.network_id.in_(sorted(network_ids)), P.c.device_owner == DHCP_OWNER)):
            await ports.delete_port_tx(tx, rt, pid)


async def unneeded(rt: Runtime) -> list[str]:
    """The networks that have a DHCP port but no DHCP-enabled subnet."""
    async with rt.db.read() as conn:
        served = select(SN.c.network_id).where(SN.c.enable_dhcp.is_(True))
        rows = await conn.execute(select(P.c.network_id).where(
            P.c.device_owner == DHCP_OWNER, P.c.network_id.notin_(served)).distinct())
        return [r[0] for r in rows]
