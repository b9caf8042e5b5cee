"""Floating IPs: addresses of an external network that a project holds, each on a
port of its own on that network (device owner ``network:floatingip``, no project),
optionally leading to a fixed IP of one of the project's ports
(:mod:`fip_associations`).

``status`` is ``DOWN`` until the L3 agent has applied the association (with a port, or
through port forwardings), which it reports as ``ACTIVE``
(:mod:`nubo.network.service.port_status`); disassociating makes it ``DOWN`` at once.
Every change publishes ``network.floatingip.<verb>`` with the floating IP's id and its
router's; compute hears ``network-changed`` for the ports that gain or lose one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import notifier
from nubo.network import tables as t
from nubo.network.errors import bad_resource_request
from nubo.network.ipam import to_address
from nubo.network.port_ranges import PortRange, Ports
from nubo.network.service import fip_associations, networks, ports, quotas, standard, subnets
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
)
from nubo.network.service.router_gateways import elevated
from nubo.network.service.router_ports import FLOATING

FIP, PF, P = t.floating_ips, t.port_forwardings, t.ports
TYPE = "floatingip"
DOWN = "DOWN"
DETAILS = ("name", "network_id", "mac_address", "admin_state_up", "status", "device_id",
           "device_owner")

COLLECTION = Collection(
    name="floatingips", table=FIP,
    filters={**standard_filters(FIP),
             "floating_ip_address": column_filter(FIP.c.floating_ip_address),
             "floating_network_id": column_filter(FIP.c.floating_network_id),
             "router_id": column_filter(FIP.c.router_id),
             "port_id": column_filter(FIP.c.fixed_port_id),
             "fixed_ip_address": column_filter(FIP.c.fixed_ip_address),
             "status": column_filter(FIP.c.status)},
    sort_keys={**{k: FIP.c[k] for k in (
        "id", "floating_ip_address", "floating_network_id", "router_id", "fixed_ip_address",
        "status", "project_id", "created_at", "updated_at", "revision_number",
        "description")}, "port_id": FIP.c.fixed_port_id},
)


def _visible(rt: Runtime, ctx: RequestContext) -> list[Any]:
    return [] if standard.is_admin(rt, ctx) else [FIP.c.project_id == ctx.project_id]


def not_found(fip_id: str) -> NotFound:
    return NotFound(f"Floating IP {fip_id} could not be found", type="FloatingIPNotFound")


async def find_floatingip(conn: AsyncConnection | Tx, rt: Runtime, ctx: RequestContext,
                          fip_id: str) -> Row[Any]:
    """The floating IP's row if the caller may see it; 404 FloatingIPNotFound otherwise."""
    row = await standard.owned_row(conn, rt, ctx, FIP, fip_id)
    if row is None:
        raise not_found(fip_id)
    return row


_PORTS = prebuilt(select(P).where(P.c.id.in_(bindparam("b_ids", expanding=True))))
_FORWARDS = prebuilt(select(PF).where(PF.c.floatingip_id.in_(bindparam("b_ids", expanding=True)))
                     .order_by(PF.c.external_port_start, PF.c.id))


async def views(conn: AsyncConnection | Tx, rows: Sequence[Row[Any]],
                *, dns: bool = False) -> list[dict[str, Any]]:
    """Floating IPs as Neutron shows them, with ``port_details``, their port
    forwardings and tags (``dns``: with ``dns_name`` and ``dns_domain``)."""
    ids = [r.id for r in rows]
    tags = await standard.tags_of(conn, "floatingips", ids)
    port_ids = [r.fixed_port_id for r in rows if r.fixed_port_id]
    details: dict[str, dict[str, Any]] = {}
    if port_ids:
        for p in await conn.execute(_PORTS, {"b_ids": port_ids}):
            details[p.id] = {k: p._mapping[k] for k in DETAILS}
    forwards: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for f in await conn.execute(_FORWARDS, {"b_ids": ids}):
            forwards[f.floatingip_id].append(_forward_summary(f))
    out = []
    for r in rows:
        item = _view(r, details.get(r.fixed_port_id or ""), forwards[r.id], tags[r.id])
        if dns:
            item.update(dns_name=r.dns_name, dns_domain=r.dns_domain)
        out.append(item)
    return out


def _forward_summary(f: Row[Any]) -> dict[str, Any]:
    ports_ = Ports(PortRange(f.internal_port_start, f.internal_port_end),
                   PortRange(f.external_port_start, f.external_port_end)).view()
    out = {"id": f.id, "internal_ip_address": f.internal_ip_address, "protocol": f.protocol,
           "internal_port_id": f.internal_port_id}
    out.update({k: v for k, v in ports_.items() if k in ("internal_port", "external_port")})
    return out


def _view(row: Row[Any], details: dict[str, Any] | None, forwards: list[dict[str, Any]],
          tags: list[str]) -> dict[str, Any]:
    out = standard.view(row, tags)
    out.update({
        "floating_ip_address": row.floating_ip_address,
        "floating_network_id": row.floating_network_id, "router_id": row.router_id,
        "port_id": row.fixed_port_id, "fixed_ip_address": row.fixed_ip_address,
        "status": row.status, "port_details": details, "port_forwardings": forwards,
    })
    return out


async def list_floatingips(rt: Runtime, ctx: RequestContext, query: ListQuery, *,
                           dns: bool = False) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, _visible(rt, ctx))
        return await views(conn, rows, dns=dns), more


async def get_floatingip(rt: Runtime, ctx: RequestContext, fip_id: str, *, dns: bool = False
                         ) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_floatingip(conn, rt, ctx, fip_id)
        return (await views(conn, [row], dns=dns))[0]


async def _view_tx(tx: Tx, fip_id: str, dns: bool) -> dict[str, Any]:
    row = await standard.row_of(tx, FIP, fip_id)
    return (await views(tx, [row], dns=dns))[0]


async def _external_network(tx: Tx, rt: Runtime, ctx: RequestContext, network_id: str
                            ) -> None:
    network = await networks.find_network(tx, rt, ctx, network_id)
    if not network.external:
        raise bad_resource_request("floatingip", f"Network {network_id} is not a valid "
                                                 "external network")
    if not any(s.ip_version == 4 for s in await subnets.of_network(tx, network_id)):
        raise bad_resource_request("floatingip", f"Network {network_id} does not contain "
                                                 "any IPv4 subnet")


async def _external_port(tx: Tx, rt: Runtime, ctx: RequestContext, fip_id: str,
                         body: Mapping[str, Any]) -> tuple[str, str]:
    """The floating IP's own port and its IPv4 address."""
    network_id = body["floating_network_id"]
    wanted = {k: body[k] for k in ("subnet_id", "floating_ip_address") if body.get(k)}
    port_body: dict[str, Any] = {"network_id": network_id, "admin_state_up": True,
                                 "device_id": fip_id, "device_owner": FLOATING, "name": ""}
    if wanted:
        port_body["fixed_ips"] = [{k.replace("floating_", ""): v for k, v in wanted.items()}]
    port = await ports.add_port_tx(tx, rt, elevated(ctx), port_body, project_id="")
    v4 = [ip["ip_address"] for ip in port["fixed_ips"]
          if to_address(ip["ip_address"]).version == 4]
    if not v4:
        raise BadRequest(f"Unable to find any IP address on external network {network_id}.",
                         type="ExternalIpAddressExhausted")
    return port["id"], v4[0]


async def create_floatingip(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any], *,
                            dns: bool = False) -> dict[str, Any]:
    project_id = standard.owner(ctx, body)
    async with rt.db.transaction() as tx:
        await quotas.consume(tx, rt.settings.network, project_id, TYPE)
        await _external_network(tx, rt, ctx, body["floating_network_id"])
        values = standard.new_values(project_id, body)
        port_id, address = await _external_port(tx, rt, ctx, values["id"], body)
        values.update(floating_ip_address=address, floating_port_id=port_id,
                      floating_network_id=body["floating_network_id"], status=DOWN,
                      dns_name=body.get("dns_name") or "",
                      dns_domain=body.get("dns_domain") or "")
        values.update(await _association(tx, rt, ctx, values, body))
        async with fip_associations.unique_address(tx, values):
            await tx.execute(insert_of(FIP, values), values)
        if body.get("tags"):
            await standard.replace_tags(tx, "floatingips", values["id"], body["tags"])
        tx.publish("network.floatingip.create", {"id": values["id"],
                                                 "router_id": values["router_id"]})
        await notifier.ports_changed_tx(tx, [values["fixed_port_id"]])
        return await _view_tx(tx, values["id"], dns)


async def _association(tx: Tx, rt: Runtime, ctx: RequestContext, fip: Mapping[str, Any],
                       body: Mapping[str, Any]) -> dict[str, Any]:
    """The columns that say where the floating IP leads after this request."""
    if body.get("fixed_ip_address") and not body.get("port_id"):
        raise bad_resource_request("floatingip", "fixed_ip_address cannot be specified "
                                                 "without a port_id")
    port_id = body["port_id"] if "port_id" in body else fip.get("fixed_port_id")
    if not port_id:
        forwarded = fip.get("id") and (await tx.execute(select(PF.c.id).where(
            PF.c.floatingip_id == fip["id"]).limit(1))).first()
        router = fip.get("router_id") if forwarded else None
        return {"fixed_port_id": None, "fixed_ip_address": None, "router_id": router,
                **({} if router else {"status": DOWN})}
    if "port_id" in body and fip.get("id"):
        await _check_no_forwardings(tx, fip["id"])
    target = await fip_associations.resolve(tx, rt, ctx, fip, port_id,
                                            body.get("fixed_ip_address"))
    if port_id != fip.get("fixed_port_id"):
        await fip_associations.check_not_taken(tx, fip, target)
    return {"fixed_port_id": target.port_id, "fixed_ip_address": target.ip_address,
            "router_id": target.router_id}


_A_FORWARDING = prebuilt(select(PF.c.id).where(PF.c.floatingip_id == bindparam("b_fip")).limit(1))


async def _check_no_forwardings(tx: Tx, fip_id: str) -> None:
    if (await tx.execute(_A_FORWARDING, {"b_fip": fip_id})).first() is not None:
        raise Conflict(f"Floating IP {fip_id} in use by Port Forwarding resources.",
                       type="FipInUseByPortForwarding")


async def update_floatingip(rt: Runtime, ctx: RequestContext, fip_id: str,
                            body: Mapping[str, Any], *, if_match: int | None = None,
                            dns: bool = False) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        row = await find_floatingip(tx, rt, ctx, fip_id)
        values = await _association(tx, rt, ctx, dict(row._mapping), body)
        if "description" in body:
            values["description"] = standard.description(body)
        async with fip_associations.unique_address(tx, {**row._mapping, **values}):
            await standard.touch(tx, FIP, fip_id, values, if_match=if_match)
        tx.publish("network.floatingip.update", {"id": fip_id, "router_id": values["router_id"],
                                                 "old_router_id": row.router_id})
        if values["fixed_port_id"] != row.fixed_port_id:
            await notifier.ports_changed_tx(tx, [row.fixed_port_id, values["fixed_port_id"]])
        return await _view_tx(tx, fip_id, dns)


async def delete_floatingip(rt: Runtime, ctx: RequestContext, fip_id: str, *,
                            if_match: int | None = None) -> None:
    async with rt.db.transaction() as tx:
        row = await find_floatingip(tx, rt, ctx, fip_id)
        if if_match is not None:
            await standard.touch(tx, FIP, fip_id, if_match=if_match)
        await _check_no_forwardings(tx, fip_id)
        await _delete_tx(tx, rt, row)


async def _delete_tx(tx: Tx, rt: Runtime, row: Row[Any]) -> None:
    await standard.drop_tags(tx, "floatingips", [row.id])
    await tx.execute(delete(FIP).where(FIP.c.id == row.id))
    await ports.delete_port_tx(tx, rt, row.floating_port_id)
    await quotas.release(tx, row.project_id, TYPE)
    tx.publish("network.floatingip.delete", {"id": row.id, "router_id": row.router_id})
    await notifier.ports_changed_tx(tx, [row.fixed_port_id])


async def delete_disassociated_tx(tx: Tx, rt: Runtime, network_id: str) -> None:
    """An external network being deleted takes with it its floating IPs that lead
    nowhere (Neutron's ``delete_disassociated_floatingips``); associated ones, and
    ones with port forwardings, keep it in use."""
    for row in list(await tx.execute(select(FIP).where(
            FIP.c.floating_network_id == network_id, FIP.c.fixed_port_id.is_(None),
            FIP.c.router_id.is_(None)))):
        await _delete_tx(tx, rt, row)


async def set_router_tx(tx: Tx, fip_id: str, router_id: str | None) -> None:
    """The router a floating IP with port forwardings goes through (None: no more)."""
    await tx.execute(update(FIP).where(FIP.c.id == fip_id).values(
        router_id=router_id, **({} if router_id else {"status": DOWN})))
