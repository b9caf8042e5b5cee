"""Routers: create, list, show, update, delete, and their static routes.

A router belongs to one project and is visible to it (and to admins). Its external
gateway is a port on an external network (:mod:`router_gateways`), its interfaces
are ports on the subnets it routes between (:mod:`router_interfaces`), its static
routes go through those subnets (:mod:`router_routes`). Every change publishes
``network.router.<verb>`` with the router's id: the data plane reconciles the
whole router from the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import extraroutes
from nubo.network import tables as t
from nubo.network.extraroutes import Route
from nubo.network.service import quotas, router_gateways, router_ports, router_routes, standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
    to_bool,
)

R, P, A = t.routers, t.ports, t.ip_allocations
TYPE = "router"
AZ = "nova"

COLLECTION = Collection(
    name="routers", table=R,
    filters={**standard_filters(R),
             "admin_state_up": column_filter(R.c.admin_state_up, to_bool)},
    sort_keys={k: R.c[k] for k in ("id", "name", "status", "admin_state_up", "project_id",
                                   "created_at", "updated_at", "revision_number",
                                   "description")},
)


def _visible(rt: Runtime, ctx: RequestContext) -> list[Any]:
    if standard.is_admin(rt, ctx):
        return []
    return [R.c.project_id == ctx.project_id]


def not_found(router_id: str) -> NotFound:
    return NotFound(f"Router {router_id} could not be found", type="RouterNotFound")


async def find_router(conn: AsyncConnection | Tx, rt: Runtime, ctx: RequestContext,
                      router_id: str) -> Row[Any]:
    """The router's row if the caller may see it; 404 RouterNotFound otherwise."""
    row = await standard.owned_row(conn, rt, ctx, R, router_id)
    if row is None:
        raise not_found(router_id)
    return row


async def router_target(rt: Runtime, ctx: RequestContext, router_id: str) -> dict[str, Any]:
    """The router's id and owner, what its policy rules are checked against; 404
    RouterNotFound as for ``get_router``."""
    async with rt.db.read() as conn:
        row = await find_router(conn, rt, ctx, router_id)
    return {"id": row.id, "project_id": row.project_id}


async def views(conn: AsyncConnection | Tx, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """Routers as Neutron shows them, with gateway, routes and tags."""
    ids = [r.id for r in rows]
    gateways = await _gateways(conn, [r.gw_port_id for r in rows if r.gw_port_id])
    routes = await router_routes.routes_of(conn, ids)
    tags = await standard.tags_of(conn, "routers", ids)
    return [_view(r, gateways.get(r.gw_port_id), routes[r.id], tags[r.id]) for r in rows]


_GATEWAY_PORTS = prebuilt(select(P.c.id, P.c.network_id)
                          .where(P.c.id.in_(bindparam("b_ids", expanding=True))))
_GATEWAY_IPS = prebuilt(select(A.c.port_id, A.c.subnet_id, A.c.ip_address)
                        .where(A.c.port_id.in_(bindparam("b_ids", expanding=True)))
                        .order_by(A.c.subnet_id, A.c.ip_address))


async def _gateways(conn: AsyncConnection | Tx, port_ids: list[str]
                    ) -> dict[str, dict[str, Any]]:
    """``network_id`` and ``external_fixed_ips`` of each gateway port."""
    out: dict[str, dict[str, Any]] = {}
    if not port_ids:
        return out
    for r in await conn.execute(_GATEWAY_PORTS, {"b_ids": port_ids}):
        out[r.id] = {"network_id": r.network_id, "external_fixed_ips": []}
    for r in await conn.execute(_GATEWAY_IPS, {"b_ids": port_ids}):
        out[r.port_id]["external_fixed_ips"].append(
            {"subnet_id": r.subnet_id, "ip_address": r.ip_address})
    return out


def _view(row: Row[Any], gateway: dict[str, Any] | None, routes: list[Route],
          tags: list[str]) -> dict[str, Any]:
    out = standard.view(row, tags)
    info = None
    if gateway is not None:
        info = {"network_id": gateway["network_id"], "enable_snat": row.enable_snat,
                "external_fixed_ips": gateway["external_fixed_ips"]}
    out.update({
        "name": row.name, "status": row.status, "admin_state_up": row.admin_state_up,
        "external_gateway_info": info, "routes": routes,
        "distributed": row.distributed, "ha": row.ha,
        "availability_zone_hints": list(row.availability_zone_hints or []),
        "availability_zones": [AZ],
    })
    return out


async def list_routers(rt: Runtime, ctx: RequestContext, query: ListQuery
                       ) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, _visible(rt, ctx))
        return await views(conn, rows), more


async def get_router(rt: Runtime, ctx: RequestContext, router_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_router(conn, rt, ctx, router_id)
        return (await views(conn, [row]))[0]


async def view_tx(tx: Tx, router_id: str) -> dict[str, Any]:
    row = await standard.row_of(tx, R, router_id)
    return (await views(tx, [row]))[0]


def _check_flags(body: Mapping[str, Any]) -> None:
    """Distributed and HA routers need agents nubo does not run."""
    for key, kind in (("distributed", "Distributed"), ("ha", "HA")):
        if body.get(key):
            raise BadRequest(f"{kind} routers are not supported by this cloud.",
                             type="BadRequest")


async def create_router(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                        ) -> dict[str, Any]:
    _check_flags(body)
    project_id = standard.owner(ctx, body)
    async with rt.db.transaction() as tx:
        await quotas.consume(tx, rt.settings.network, project_id, TYPE)
        values = standard.new_values(project_id, body)
        values.update(name=body.get("name", ""), status="ACTIVE",
                      admin_state_up=body.get("admin_state_up", True), enable_snat=True,
                      distributed=False, ha=False,
                      availability_zone_hints=list(body.get("availability_zone_hints", [])))
        await tx.execute(insert_of(R, values), values)
        if body.get("tags"):
            await standard.replace_tags(tx, "routers", values["id"], body["tags"])
        info = body.get("external_gateway_info")
        if info:
            row = await standard.row_of(tx, R, values["id"])
            await router_gateways.set_gateway_tx(tx, rt, ctx, row, info)
        tx.publish("network.router.create", {"id": values["id"]})
        return await view_tx(tx, values["id"])


async def update_router(rt: Runtime, ctx: RequestContext, router_id: str,
                        body: Mapping[str, Any], *, if_match: int | None = None
                        ) -> dict[str, Any]:
    _check_flags(body)
    async with rt.db.transaction() as tx:
        row = await find_router(tx, rt, ctx, router_id)
        values: dict[str, Any] = {k: body[k] for k in ("name", "admin_state_up") if k in body}
        if "description" in body:
            values["description"] = standard.description(body)
        if "external_gateway_info" in body:
            await router_gateways.set_gateway_tx(tx, rt, ctx, row,
                                                 body["external_gateway_info"])
        if "routes" in body:
            await _replace_routes(tx, rt, row.id, body["routes"])
        await standard.touch(tx, R, router_id, values, if_match=if_match)
        tx.publish("network.router.update", {"id": router_id})
        return await view_tx(tx, router_id)


async def _replace_routes(tx: Tx, rt: Runtime, router_id: str, routes: list[Route]) -> None:
    ports = await router_ports.attached(tx, router_id)
    await router_routes.replace_tx(tx, router_id, routes, ports, rt.settings.network.max_routes)


async def change_routes(rt: Runtime, ctx: RequestContext, router_id: str,
                        routes: list[Route], *, add: bool) -> dict[str, Any]:
    """``add_extraroutes`` / ``remove_extraroutes``: merge into or take from the
    router's routes in one transaction, then check the result as an update would."""
    async with rt.db.transaction() as tx:
        row = await find_router(tx, rt, ctx, router_id)
        old = (await router_routes.routes_of(tx, [row.id]))[row.id]
        new = extraroutes.merged(old, routes) if add else extraroutes.without(old, routes)
        await _replace_routes(tx, rt, row.id, new)
        await standard.touch(tx, R, row.id)
        tx.publish("network.router.update", {"id": row.id})
        return await view_tx(tx, row.id)


async def delete_router(rt: Runtime, ctx: RequestContext, router_id: str, *,
                        if_match: int | None = None) -> None:
    async with rt.db.transaction() as tx:
        row = await find_router(tx, rt, ctx, router_id)
        if if_match is not None:
            await standard.touch(tx, R, router_id, if_match=if_match)
        ports = await router_ports.attached(tx, router_id)
        inside = router_ports.interfaces(ports)
        if inside:
            raise Conflict(f"Router {router_id} has ports still attached: "
                           f"{', '.join(p.port_id for p in inside)}", type="RouterInUse")
        await router_gateways.set_gateway_tx(tx, rt, ctx, row, None)
        await standard.drop_tags(tx, "routers", [router_id])
        await tx.execute(delete(t.router_routes).where(t.router_routes.c.router_id == router_id))
        await tx.execute(delete(R).where(R.c.id == router_id))
        await quotas.release(tx, row.project_id, TYPE)
        tx.publish("network.router.delete", {"id": router_id})
