"""A router's static routes in the database: read for views, replaced whole when
``routes`` is updated (or merged by ``add_extraroutes`` / ``remove_extraroutes``),
checked against what the router is connected to (``nubo.network.extraroutes``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import Conflict
from nubo.network import extraroutes
from nubo.network import tables as t
from nubo.network.extraroutes import Route
from nubo.network.ipam import IPNetwork
from nubo.network.service.router_ports import Attachment, connected, own_addresses

RR = t.router_routes


_ROUTES_OF = prebuilt(select(RR).where(RR.c.router_id.in_(bindparam("b_ids", expanding=True)))
                      .order_by(RR.c.destination, RR.c.nexthop))


async def routes_of(conn: AsyncConnection | Tx, router_ids: Iterable[str]
                    ) -> dict[str, list[Route]]:
    wanted = list(router_ids)
    out: dict[str, list[Route]] = {i: [] for i in wanted}
    if wanted:
        for r in await conn.execute(_ROUTES_OF, {"b_ids": wanted}):
            out[r.router_id].append({"destination": r.destination, "nexthop": r.nexthop})
    return out


def check(routes: Sequence[Route], ports: Sequence[Attachment],
          extra: Iterable[IPNetwork] = ()) -> None:
    """The routes' nexthops against the router's subnets (and ``extra`` ones: a
    gateway network being set) and its own addresses."""
    extraroutes.check_nexthops(routes, [*connected(ports), *extra], own_addresses(ports))


async def replace_tx(tx: Tx, router_id: str, routes: Sequence[Route],
                     ports: Sequence[Attachment], limit: int) -> None:
    """Make ``routes`` the router's routes, after checking them."""
    extraroutes.check_limit(router_id, routes, limit)
    check(routes, ports)
    old = (await routes_of(tx, [router_id]))[router_id]
    gone = [r for r in old if r not in routes]
    new = [r for r in routes if r not in old]
    for route in gone:
        await tx.execute(delete(RR).where(RR.c.router_id == router_id,
                                          RR.c.destination == route["destination"],
                                          RR.c.nexthop == route["nexthop"]))
    if new:
        await tx.execute(insert(RR), [{"router_id": router_id, **r} for r in new])


async def check_not_needed_tx(tx: Tx, router_id: str, subnet_id: str,
                              network: IPNetwork) -> None:
    """409 RouterInterfaceInUseByRoute when a route goes through the subnet."""
    routes = (await routes_of(tx, [router_id]))[router_id]
    if extraroutes.via(routes, network):
        raise Conflict(f"Router interface for subnet {subnet_id} on router {router_id} "
                       "cannot be deleted, as it is required by one or more routes.",
                       type="RouterInterfaceInUseByRoute")
