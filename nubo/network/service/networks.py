"""Networks: create, list, show, update, delete.

A network is visible to its project, to projects it is shared with (RBAC
``access_as_shared``) and, when external, to everyone it is external for
(``access_as_external``). ``shared`` and ``router:external`` are stored as RBAC
rows for everyone (``*``), as Neutron does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, delete, exists, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.config import NetworkSettings
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.errors import Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import provider
from nubo.network import tables as t
from nubo.network.service import address_scopes, floating_ips, quotas, rbac, segments, standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
    to_bool,
    to_int,
)

N = t.networks
TYPE = "network"
# ports a network's own services hold: deleted with the network, not "in use"
OWNED_PORTS = ("network:dhcp",)
AZ = "nova"


def _shared_filter(project_id: str | None) -> Any:
    """``shared``, as networks show it: shared with the caller's project or everyone."""
    def where(values: list[str]) -> Any:
        wanted = {to_bool(v) for v in values}
        shared = rbac.visible(TYPE, N.c.id, project_id)
        if wanted == {True}:
            return shared
        if wanted == {False}:
            return ~shared
        return shared | ~shared

    return where


def _external_filter(values: list[str]) -> Any:
    return column_filter(N.c.external, to_bool)(values)


def _segment_filter(column: str, convert: Any = str) -> Any:
    def where(values: list[str]) -> Any:
        col = segments.S.c[column]
        return N.c.id.in_(select(segments.S.c.network_id)
                          .where(column_filter(col, convert)(values)))

    return where


def _any(values: list[str]) -> Any:
    return N.c.id.isnot(None)


COLLECTION = Collection(
    name="networks", table=N,
    filters={**standard_filters(N),
             "status": column_filter(N.c.status),
             "admin_state_up": column_filter(N.c.admin_state_up, to_bool),
             "mtu": column_filter(N.c.mtu, to_int),
             "shared": _shared_filter(None),
             "router:external": _external_filter,
             "is_default": column_filter(N.c.is_default, to_bool),
             "port_security_enabled": column_filter(N.c.port_security_enabled, to_bool),
             "dns_domain": column_filter(N.c.dns_domain),
             "provider:network_type": _segment_filter("network_type"),
             "provider:physical_network": _segment_filter("physical_network"),
             "provider:segmentation_id": _segment_filter("segmentation_id", to_int),
             # accepted and ignored, as Neutron does for list-valued attributes
             "availability_zone_hints": _any, "subnets": _any},
    sort_keys={k: N.c[k] for k in ("id", "name", "status", "admin_state_up", "mtu",
                                   "project_id", "created_at", "updated_at",
                                   "revision_number", "description")},
)


def _visible(rt: Runtime, ctx: RequestContext) -> list[Any]:
    if standard.is_admin(rt, ctx):
        return []
    return [rbac.visible_or_owned(TYPE, N.c.id, N.c.project_id, ctx.project_id,
                                  (rbac.SHARED, rbac.EXTERNAL))]


_SUBNET_IDS = prebuilt(select(t.subnets.c.id, t.subnets.c.network_id)
                       .where(t.subnets.c.network_id.in_(bindparam("b_ids", expanding=True)))
                       .order_by(t.subnets.c.created_at))


def _granted(action: str) -> Any:
    R = t.rbac_policies
    return exists().where(R.c.object_type == TYPE, R.c.object_id == N.c.id,
                          R.c.action == action, or_(R.c.target_project == rbac.EVERYONE,
                                                    R.c.target_project == bindparam("b_project")))


async def views(conn: AsyncConnection | Tx, ctx: RequestContext, rows: Sequence[Row[Any]]
                ) -> list[dict[str, Any]]:
    """Networks as Neutron shows them, with their subnets, segments, sharing and tags."""
    ids = [r.id for r in rows]
    subnets: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for sid, nid in await conn.execute(_SUBNET_IDS, {"b_ids": ids}):
            subnets[nid].append(sid)
    shared = await rbac.granted(conn, TYPE, ids, rbac.SHARED, ctx.project_id)
    segs = await segments.of_networks(conn, ids)
    tags = await standard.tags_of(conn, "networks", ids)
    scopes = await address_scopes.of_networks(conn, ids)
    out = [_view(r, subnets[r.id], r.id in shared, segs[r.id], tags[r.id]) for r in rows]
    for item in out:
        item["ipv4_address_scope"] = scopes[item["id"]][4]
        item["ipv6_address_scope"] = scopes[item["id"]][6]
    return out


def _view(row: Row[Any], subnets: list[str], shared: bool,
          segs: list[Mapping[str, Any]], tags: list[str]) -> dict[str, Any]:
    out = standard.view(row, tags)
    out.update({
        "name": row.name, "status": row.status, "admin_state_up": row.admin_state_up,
        "mtu": row.mtu, "subnets": subnets, "shared": shared,
        "router:external": row.external, "is_default": row.is_default,
        "port_security_enabled": row.port_security_enabled,
        "availability_zone_hints": list(row.availability_zone_hints or []),
        "availability_zones": [AZ], "dns_domain": row.dns_domain,
        "ipv4_address_scope": None, "ipv6_address_scope": None, "l2_adjacency": True,
    })
    if len(segs) == 1:
        seg = segs[0]
        out.update({"provider:network_type": seg["network_type"],
                    "provider:physical_network": seg["physical_network"],
                    "provider:segmentation_id": seg["segmentation_id"]})
    elif segs:
        out["segments"] = [{"provider:network_type": s["network_type"],
                            "provider:physical_network": s["physical_network"],
                            "provider:segmentation_id": s["segmentation_id"]} for s in segs]
    return out


async def list_networks(rt: Runtime, ctx: RequestContext, query: ListQuery
                        ) -> tuple[list[dict[str, Any]], bool]:
    collection = replace(COLLECTION, filters={**COLLECTION.filters,
                                              "shared": _shared_filter(ctx.project_id)})
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, collection, query, _visible(rt, ctx))
        return await views(conn, ctx, rows), more


_FIND = prebuilt(select(N).where(N.c.id == bindparam("b_id")))
_FIND_VISIBLE = prebuilt(select(N).where(
    N.c.id == bindparam("b_id"),
    or_(N.c.project_id == bindparam("b_project"),
        _granted(rbac.SHARED), _granted(rbac.EXTERNAL))))


async def find_network(conn: AsyncConnection | Tx, rt: Runtime, ctx: RequestContext,
                       network_id: str) -> Row[Any]:
    """The network's row if the caller may see it; 404 NetworkNotFound otherwise."""
    statement: Any = _FIND
    params = {"b_id": network_id}
    if not standard.is_admin(rt, ctx):
        if ctx.project_id is None:
            statement, params = select(N).where(N.c.id == network_id, *_visible(rt, ctx)), {}
        else:
            statement, params["b_project"] = _FIND_VISIBLE, ctx.project_id
    row = (await conn.execute(statement, params or None)).first()
    if row is None:
        raise NotFound(f"Network {network_id} could not be found.", type="NetworkNotFound")
    return row


_TARGET = prebuilt(select(N.c.id, N.c.project_id, N.c.external,
                          _granted(rbac.SHARED).label("shared"),
                          _granted(rbac.EXTERNAL).label("external_for"))
                   .where(N.c.id == bindparam("b_id")))


async def network_target(rt: Runtime, ctx: RequestContext, network_id: str
                         ) -> dict[str, Any]:
    """What a port or subnet made on the network is checked against (its id, owner,
    ``shared`` and ``router:external`` as the caller sees them), in one read; 404
    NetworkNotFound as for ``get_network`` when the caller may not see it."""
    async with rt.db.read() as conn:
        row = (await conn.execute(_TARGET, {"b_id": network_id, "b_project": ctx.project_id})
               ).first()
    if row is None or not (standard.is_admin(rt, ctx) or row.project_id == ctx.project_id
                           or row.shared or row.external_for):
        raise NotFound(f"Network {network_id} could not be found.", type="NetworkNotFound")
    return {"id": row.id, "project_id": row.project_id, "shared": bool(row.shared),
            "router:external": bool(row.external)}


async def get_network(rt: Runtime, ctx: RequestContext, network_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_network(conn, rt, ctx, network_id)
        return (await views(conn, ctx, [row]))[0]


async def create_network(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                         ) -> dict[str, Any]:
    return (await create_networks(rt, ctx, [body]))[0]


async def create_networks(rt: Runtime, ctx: RequestContext,
                          bodies: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Create networks in one transaction: all of them, or none."""
    async with rt.db.transaction() as tx:
        return [await create_network_tx(tx, rt, ctx, body) for body in bodies]


_SET_MTU = prebuilt(update(N).where(N.c.id == bindparam("b_id")).values(mtu=bindparam("b_mtu")))


async def create_network_tx(tx: Tx, rt: Runtime, ctx: RequestContext,
                            body: Mapping[str, Any]) -> dict[str, Any]:
    settings = rt.settings.network
    project_id = standard.owner(ctx, body)
    requested = provider.requested_segments(body)
    await quotas.consume(tx, settings, project_id, TYPE)
    values = standard.new_values(project_id, body)
    values.update(
        name=body.get("name", ""), status="ACTIVE",
        admin_state_up=body.get("admin_state_up", True),
        external=bool(body.get("router:external", False)),
        is_default=bool(body.get("is_default", False)), mtu=0,
        port_security_enabled=body.get("port_security_enabled", True),
        availability_zone_hints=list(body.get("availability_zone_hints", [])),
        dns_domain=body.get("dns_domain", ""))
    await _check_one_default(tx, values["id"], values["is_default"], values["external"])
    await tx.execute(insert_of(N, values), values)
    made = await segments.allocate_network_segments(tx, settings, values["id"],
                                                    project_id, requested)
    await tx.execute(_SET_MTU, {"b_id": values["id"],
                                "b_mtu": segments.mtu_for(settings, made, body.get("mtu"))})
    for flag, action in (("shared", rbac.SHARED), ("router:external", rbac.EXTERNAL)):
        if body.get(flag):
            await rbac.set_wildcard(tx, TYPE, values["id"], action, project_id, True,
                                    settings=settings)
    if body.get("tags"):
        await standard.replace_tags(tx, "networks", values["id"], body["tags"])
    tx.publish("network.network.create", {"id": values["id"]})
    row = await standard.row_of(tx, N, values["id"])
    return (await views(tx, ctx, [row]))[0]


async def update_network(rt: Runtime, ctx: RequestContext, network_id: str,
                         body: Mapping[str, Any], *, if_match: int | None = None
                         ) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        row = await find_network(tx, rt, ctx, network_id)
        values: dict[str, Any] = {k: body[k] for k in (
            "name", "admin_state_up", "port_security_enabled", "dns_domain", "is_default")
            if k in body}
        if "description" in body:
            values["description"] = standard.description(body)
        if any(k in body for k in (*provider.PROVIDER_ATTRIBUTES, "segments")):
            await segments.update_provider_tx(tx, rt.settings.network, network_id, body)
        if "mtu" in body:
            held = (await segments.of_networks(tx, [network_id]))[network_id]
            values["mtu"] = segments.mtu_for(rt.settings.network, held, body["mtu"])
        if "router:external" in body:
            values["external"] = bool(body["router:external"])
            await _set_external(tx, rt.settings.network, row, values["external"])
        if body.get("is_default"):
            await _check_one_default(tx, network_id, True,
                                     values.get("external", row.external))
        if "shared" in body:
            await _set_shared(tx, rt.settings.network, row, bool(body["shared"]))
        await standard.touch(tx, N, network_id, values, if_match=if_match)
        tx.publish("network.network.update", {"id": network_id})
        row = await standard.row_of(tx, N, network_id)
        return (await views(tx, ctx, [row]))[0]


async def _check_one_default(tx: Tx, network_id: str, is_default: bool,
                             external: bool) -> None:
    """One external network is the default (of auto-allocated topologies)."""
    if not (is_default and external):
        return
    other = (await tx.execute(select(N.c.id).where(
        N.c.external.is_(True), N.c.is_default.is_(True), N.c.id != network_id)
        .limit(1))).scalar()
    if other is not None:
        raise Conflict(f"A default external network already exists: {other}.",
                       type="DefaultExternalNetworkExists")


async def _set_shared(tx: Tx, settings: NetworkSettings, row: Row[Any], on: bool) -> None:
    """``shared`` is the wildcard ``access_as_shared`` grant; it goes only while no
    other project uses the network without a grant of its own."""
    if not on and await rbac.wildcard(tx, TYPE, [row.id], rbac.SHARED):
        if await rbac.uncovered(tx, TYPE, row.id, rbac.SHARED, rbac.EVERYONE):
            raise Conflict(f"Unable to reconfigure sharing settings for network {row.id}. "
                           "Multiple tenants are using it.", type="InvalidSharedSetting")
    await rbac.set_wildcard(tx, TYPE, row.id, rbac.SHARED, row.project_id, on,
                            settings=settings)


async def _set_external(tx: Tx, settings: NetworkSettings, row: Row[Any], on: bool) -> None:
    """``router:external`` on adds the wildcard ``access_as_external`` grant; off drops
    every ``access_as_external`` grant, while no gateway uses the network."""
    if on:
        await rbac.set_wildcard(tx, TYPE, row.id, rbac.EXTERNAL, row.project_id, True,
                                settings=settings)
        return
    gateway = (await tx.execute(select(t.ports.c.id).where(
        t.ports.c.network_id == row.id,
        t.ports.c.device_owner.in_(("network:router_gateway", "network:floatingip")))
        .limit(1))).first()
    if gateway is not None:
        raise Conflict(f"External network {row.id} cannot be updated to be made "
                       "non-external, since it has existing gateway ports.",
                       type="ExternalNetworkInUse")
    await rbac.drop(tx, rbac.R.c.object_type == TYPE, rbac.R.c.object_id == row.id,
                    rbac.R.c.action == rbac.EXTERNAL)


async def delete_network(rt: Runtime, ctx: RequestContext, network_id: str, *,
                         if_match: int | None = None) -> None:
    async with rt.db.transaction() as tx:
        row = await find_network(tx, rt, ctx, network_id)
        if if_match is not None:
            await standard.touch(tx, N, network_id, if_match=if_match)
        if row.external:
            await floating_ips.delete_disassociated_tx(tx, rt, network_id)
        P = t.ports
        in_use = (await tx.execute(select(P.c.id).where(
            P.c.network_id == network_id, P.c.device_owner.notin_(OWNED_PORTS)).limit(1))
        ).first()
        if in_use is not None:
            raise Conflict(f"Unable to complete operation on network {network_id}. There "
                           "are one or more ports still in use on the network.",
                           type="NetworkInUse")
        await _delete_contents(tx, rt, network_id)
        await segments.release_network(tx, network_id)
        await rbac.forget(tx, TYPE, network_id)
        await standard.drop_tags(tx, "networks", [network_id])
        await tx.execute(delete(N).where(N.c.id == network_id))
        await quotas.release(tx, row.project_id, TYPE)
        tx.publish("network.network.delete", {"id": network_id})


async def _delete_contents(tx: Tx, rt: Runtime, network_id: str) -> None:
    """The network's own ports (DHCP) and its subnets go with it."""
    from nubo.network.service import ports

    SN = t.subnets
    for (port_id,) in list(await tx.execute(
            select(t.ports.c.id).where(t.ports.c.network_id == network_id))):
        await ports.delete_port_tx(tx, rt, port_id)
    subnets = [(r.id, r.project_id) for r in await tx.execute(
        select(SN.c.id, SN.c.project_id).where(SN.c.network_id == network_id))]
    for _, project in subnets:
        await quotas.release(tx, project, "subnet")
    if subnets:
        await standard.drop_tags(tx, "subnets", [s for s, _ in subnets])
        await tx.execute(delete(SN).where(SN.c.network_id == network_id))
