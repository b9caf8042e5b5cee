"""A router's external gateway: a port on an external network (device owner
``network:router_gateway``, no project: users never see or touch it), whether the
router SNATs its subnets behind it (``enable_snat``), and which addresses it holds
(``external_fixed_ips``).

Setting a gateway on another network replaces the port; clearing it deletes the port
unless floating IPs need it. Neutron's checks and messages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Row

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.errors import Conflict
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.errors import bad_resource_request
from nubo.network.service import networks, ports, router_ports, router_routes, subnets
from nubo.network.service.router_ports import GATEWAY, Attachment

R = t.routers


def elevated(ctx: RequestContext) -> RequestContext:
    """The caller with the admin role: for ports the service makes on its own behalf
    (Neutron uses an elevated context for them)."""
    return ctx if "admin" in ctx.roles else dataclasses.replace(
        ctx, roles=(*ctx.roles, "admin"))


_SET_SNAT = prebuilt(update(R).where(R.c.id == bindparam("b_id"))
                     .values(enable_snat=bindparam("b_snat")))
_SET_GATEWAY = prebuilt(update(R).where(R.c.id == bindparam("b_id"))
                        .values(gw_port_id=bindparam("b_port")))


async def set_gateway_tx(tx: Tx, rt: Runtime, ctx: RequestContext, router: Row[Any],
                         info: Mapping[str, Any] | None) -> None:
    """Make ``info`` (``external_gateway_info``; None or empty: none) the router's
    gateway."""
    attached = await router_ports.attached(tx, router.id)
    current = router_ports.gateway(attached)
    others = [p for p in attached if p is not current]
    network_id = info.get("network_id") if info else None
    wanted = list(info.get("external_fixed_ips") or []) if info else []
    gw_subnets: list[Row[Any]] = []
    if network_id:
        gw_subnets = await _external_subnets(tx, rt, ctx, network_id, wanted)
    routes = (await router_routes.routes_of(tx, [router.id]))[router.id]
    if routes:
        router_routes.check(routes, others, [subnets.cidr_of(s) for s in gw_subnets])
    snat = bool(info.get("enable_snat", True)) if info else True
    await tx.execute(_SET_SNAT, {"b_id": router.id, "b_snat": snat})
    if current is not None and current.network_id == network_id:
        if _addresses_change(current, wanted):
            await ports.update_port_tx(tx, rt, elevated(ctx), current.port_id,
                                       {"fixed_ips": wanted})
        return
    if current is not None:
        await _remove_tx(tx, rt, router, current)
    if network_id:
        await _check_subnets_free(tx, others, gw_subnets)
        await _create_tx(tx, rt, ctx, router, network_id, wanted)


async def _external_subnets(tx: Tx, rt: Runtime, ctx: RequestContext, network_id: str,
                            wanted: Sequence[Mapping[str, Any]]) -> list[Row[Any]]:
    network = await networks.find_network(tx, rt, ctx, network_id)
    if not network.external:
        raise bad_resource_request("router", f"Network {network_id} is not an external "
                                             "network")
    found = await subnets.of_network(tx, network_id)
    gateways = {s.gateway_ip for s in found if s.gateway_ip}
    for ip in wanted:
        if ip.get("ip_address") in gateways:
            raise bad_resource_request("router", f"External IP {ip['ip_address']} is the "
                                                 "same as the gateway IP")
    return found


def _addresses_change(current: Attachment, wanted: Sequence[Mapping[str, Any]]) -> bool:
    """Neutron's ``_check_for_external_ip_change``: only what the request names counts."""
    if not wanted:
        return False
    subnet_ids = {f["subnet_id"] for f in wanted if f.get("subnet_id")}
    if subnet_ids != set(current.subnet_ids):
        return True
    addresses = {f["ip_address"] for f in wanted if f.get("ip_address")}
    return addresses != {ip.ip_address for ip in current.fixed_ips}


async def _check_subnets_free(tx: Tx, attached: Sequence[Attachment],
                              gw_subnets: Sequence[Row[Any]]) -> None:
    """The gateway's subnets may not be, or overlap, subnets the router is on."""
    new = [(s.id, subnets.cidr_of(s)) for s in gw_subnets]
    await router_ports.check_new_subnets(tx, attached, new)


async def _create_tx(tx: Tx, rt: Runtime, ctx: RequestContext, router: Row[Any],
                     network_id: str, wanted: Sequence[Mapping[str, Any]]) -> None:
    body: dict[str, Any] = {"network_id": network_id, "device_id": router.id,
                            "device_owner": GATEWAY, "admin_state_up": True, "name": ""}
    if wanted:
        body["fixed_ips"] = list(wanted)
    port = await ports.add_port_tx(tx, rt, elevated(ctx), body, project_id="")
    attachment = {"port_id": port["id"], "router_id": router.id, "port_type": GATEWAY}
    await tx.execute(insert_of(t.router_ports, attachment), attachment)
    await tx.execute(_SET_GATEWAY, {"b_id": router.id, "b_port": port["id"]})


async def _remove_tx(tx: Tx, rt: Runtime, router: Row[Any], current: Attachment) -> None:
    FIP = t.floating_ips
    serving = (await tx.execute(select(FIP.c.id).where(FIP.c.router_id == router.id)
                                .limit(1))).first()
    if serving is not None:
        raise Conflict(f"Gateway cannot be updated for router {router.id}, since a gateway "
                       f"to external network {current.network_id} is required by one or "
                       "more floating IPs.", type="RouterExternalGatewayInUseByFloatingIp")
    await tx.execute(update(R).where(R.c.id == router.id).values(gw_port_id=None))
    await ports.delete_port_tx(tx, rt, current.port_id)
