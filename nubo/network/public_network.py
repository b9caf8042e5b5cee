"""The all-in-one's public network, as DevStack's ``br-ex``: with the Linux bridge
data plane, ``nubo up`` makes a bridge on the host (``[network] public_bridge``)
holding the gateway address of ``[network] public_cidr`` (so the floating-IP
range is on-link: the host reaches floating IPs directly), maps the physical
network ``public`` to it, and bootstraps the shared external network
(``public_network_name``, flat on ``public``) with its subnet and floating-IP
pool through the network service.

Nothing is routed between that bridge and the host's other interfaces: a
forward rule drops it, so guests never reach the machine's own gateway.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from sqlalchemy import select

from nubo.core.auth.context import RequestContext
from nubo.core.config import NetworkSettings, Settings
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.agent.linuxbridge.shell import Shell

log = logging.getLogger(__name__)
PHYSNET = "public"


def wanted(settings: Settings) -> bool:
    network = settings.network
    return network.agent_driver == "linuxbridge" and bool(network.public_cidr)


def addresses(network: NetworkSettings
              ) -> tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, str, str]:
    """The gateway (with its prefix), and the floating-IP pool's first and last."""
    net = ipaddress.ip_network(network.public_cidr)
    hosts = list(net.hosts()) if net.num_addresses <= 65536 else [net[1], net[-2]]
    gateway = ipaddress.ip_interface(f"{hosts[0]}/{net.prefixlen}")
    return gateway, str(hosts[1]), str(hosts[-1])


def guard(bridge: str, owner: str) -> str:
    """``nft -f`` input: nothing forwarded between the bridge and elsewhere."""
    table = f"nubo-{owner}-public"
    return (f"table inet {table} {{}}\ndelete table inet {table}\n"
            f"table inet {table} {{\n\tchain forward {{\n"
            f"\t\ttype filter hook forward priority filter; policy accept;\n"
            f'\t\tiifname "{bridge}" oifname != "{bridge}" drop\n'
            f'\t\toifname "{bridge}" iifname != "{bridge}" drop\n\t}}\n}}\n')


async def ensure_bridge(network: NetworkSettings, owner: str) -> None:
    """The public bridge on the host, up, with the gateway address and the guard."""
    sh = Shell()
    bridge = network.public_bridge
    gateway, _, _ = addresses(network)
    if not await sh.ok("ip", "link", "show", "dev", bridge):
        await sh.ip("link", "add", "name", bridge, "type", "bridge", "forward_delay", "0")
        await sh.ip("link", "set", "dev", bridge, "alias", f"nubo:{owner}:public:{bridge}:-")
    await sh.ip("addr", "replace", str(gateway), "dev", bridge)
    await sh.ip("link", "set", "dev", bridge, "up")
    await sh.run("nft", "-f", "-", stdin=guard(bridge, owner))


ADMIN = RequestContext(user_id="neutron", user_name="neutron", system_scope="all",
                       roles=("admin", "member", "reader", "service"))


async def install(rt: Runtime) -> str | None:
    """The public network, made on the first start; its id (None when not wanted).
    A failure is logged, not raised: the cloud serves without it."""
    if not wanted(rt.settings):
        return None
    try:
        return await _install(rt)
    except Exception:
        log.exception("the public network could not be made")
        return None


async def _install(rt: Runtime) -> str:
    from nubo.identity.service import resource
    from nubo.network.service import networks, subnet_writes

    settings = rt.settings.network
    async with rt.db.read() as conn:
        found = (await conn.execute(select(t.networks.c.id).where(
            t.networks.c.name == settings.public_network_name,
            t.networks.c.external.is_(True)))).scalar()
    if found is not None:
        return str(found)
    projects = await resource.list_projects(rt, {"name": "admin", "domain_id": "default"})
    project = str(projects[0]["id"])
    made: dict[str, Any] = await networks.create_network(rt, ADMIN, {
        "name": settings.public_network_name, "project_id": project, "shared": True,
        "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": PHYSNET})
    gateway, first, last = addresses(settings)
    await subnet_writes.create_subnet(rt, ADMIN, {
        "name": f"{settings.public_network_name}-subnet", "network_id": made["id"],
        "project_id": project, "ip_version": 4, "cidr": settings.public_cidr,
        "gateway_ip": str(gateway.ip), "enable_dhcp": False,
        "allocation_pools": [{"start": first, "end": last}]})
    log.info("public network %s (%s) made on bridge %s", made["id"], settings.public_cidr,
             settings.public_bridge)
    return str(made["id"])
