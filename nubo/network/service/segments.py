"""A network's segments: how it is carried on the wire (a VXLAN VNI, a VLAN on a
physical network, a flat physical network), with segmentation ids taken from the
configured ranges or as an admin asks, never twice.

A segment holds its id by inserting a ``network_segment_allocations`` row, whose
primary key (type, physical network, id) refuses a second claim however many
creates run at once; a flat segment holds its whole physical network with id 0.
A claim that loses a race chooses again, knowing the id it lost (a database
snapshot may not show the winner yet).

The checks and the choice of ids are pure (``nubo.network.provider`` and
``nubo.network.segment_ids``); this module reads what is taken and writes claims.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.auth.context import RequestContext
from nubo.core.config import NetworkSettings
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.errors import Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import provider
from nubo.network import tables as t
from nubo.network.provider import (
    Allocated,
    NetworkType,
    ProviderConfig,
    Segment,
    network_mtu,
    validate_segment,
)
from nubo.network.segment_ids import no_network_available, project_segment, reserve_segment
from nubo.network.service import standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
    to_int,
)
from nubo.network.service.standard import new_values

S, A = t.network_segments, t.network_segment_allocations
ATTEMPTS = 10
FLAT_ID = 0  # the allocation id of a flat segment: it holds the whole physical network
_rng = random.SystemRandom()
UNBOUND_VIF_TYPES = ("unbound", "binding_failed")
Choose = Callable[[Allocated], Segment]


def config(settings: NetworkSettings) -> ProviderConfig:
    """The operator's ranges and MTUs (checked when the settings are loaded)."""
    return ProviderConfig.from_settings(settings)


def segment_of(row: Mapping[str, Any]) -> Segment:
    return Segment(row["network_type"], row["physical_network"], row["segmentation_id"])


async def _allocated(tx: Tx, kinds: Sequence[str], physical_network: str | None) -> Allocated:
    """What is taken of these types (on this physical network, when one is given)."""
    where: list[ColumnElement[bool]] = [A.c.network_type.in_(list(kinds))]
    if physical_network is not None:
        where.append(A.c.physical_network == physical_network)
    vxlan, vlan, flat = set(), set(), set()
    for kind, physnet, ident in await tx.execute(
            select(A.c.network_type, A.c.physical_network, A.c.segmentation_id).where(*where)):
        if kind == NetworkType.VXLAN:
            vxlan.add(ident)
        elif kind == NetworkType.VLAN:
            vlan.add((physnet, ident))
        elif kind == NetworkType.FLAT:
            flat.add(physnet)
    return Allocated(vxlan=vxlan, vlan=vlan, flat=flat)


def _merge(allocated: Allocated, held: Sequence[Segment]) -> Allocated:
    """``allocated`` plus segments this request holds or lost to another one."""
    vxlan, vlan, flat = set(allocated.vxlan), set(allocated.vlan), set(allocated.flat)
    for seg in held:
        if seg.network_type == NetworkType.VXLAN and seg.segmentation_id is not None:
            vxlan.add(seg.segmentation_id)
        elif seg.network_type == NetworkType.VLAN and seg.segmentation_id is not None:
            vlan.add((seg.physical_network or "", seg.segmentation_id))
        elif seg.network_type == NetworkType.FLAT:
            flat.add(seg.physical_network or "")
    return replace(allocated, vxlan=vxlan, vlan=vlan, flat=flat)


async def _claim(tx: Tx, choose: Choose, kinds: Sequence[str], physical_network: str | None,
                 held: Sequence[Segment], row: dict[str, Any]) -> dict[str, Any]:
    """Insert the segment ``choose`` picks, choosing again when another network has
    its id; the stored row. The first choice is made without reading what is taken
    (a random id of a large range is almost always free, and reading every
    allocation costs more the more networks there are); after a collision, every
    choice knows what is taken."""
    lost: list[Segment] = []
    for attempt in range(ATTEMPTS):
        known = Allocated() if attempt == 0 else await _allocated(tx, kinds, physical_network)
        taken = _merge(known, [*held, *lost])
        segment = choose(taken)
        try:
            async with tx.conn.begin_nested():
                return await _insert(tx, segment, row)
        except IntegrityError as e:
            if not is_duplicate(e):
                raise
            lost.append(segment)
    raise no_network_available()


async def _insert(tx: Tx, segment: Segment, row: dict[str, Any]) -> dict[str, Any]:
    stored = {**row, "network_type": segment.network_type,
              "physical_network": segment.physical_network,
              "segmentation_id": segment.segmentation_id}
    await tx.execute(insert_of(S, stored), stored)
    ident = FLAT_ID if segment.network_type == NetworkType.FLAT else segment.segmentation_id
    if ident is not None:
        allocation = {"network_type": segment.network_type,
                      "physical_network": segment.physical_network or "",
                      "segmentation_id": ident, "segment_id": stored["id"]}
        await tx.execute(insert_of(A, allocation), allocation)
    return stored


def _row(network_id: str, project_id: str | None, index: int,
         body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    row = new_values(project_id, {k: v for k, v in (body or {}).items()
                                  if k in ("description",)})
    row.update(network_id=network_id, name=(body or {}).get("name"), segment_index=index)
    return row


async def allocate_network_segments(tx: Tx, settings: NetworkSettings, network_id: str,
                                    project_id: str | None,
                                    requested: Sequence[Segment] | None
                                    ) -> list[dict[str, Any]]:
    """The segments of a new network: those asked for (checked as the type drivers
    check them), or one of the project network types."""
    cfg = config(settings)
    if requested is None:
        def project(taken: Allocated) -> Segment:
            return project_segment(cfg, taken, _rng)

        return [await _claim(tx, project, cfg.tenant_network_types, None, [],
                             _row(network_id, project_id, 0))]
    for segment in requested:
        validate_segment(segment, cfg)
    made: list[dict[str, Any]] = []
    for index, segment in enumerate(requested):
        made.append(await _claim_provider(tx, cfg, segment, [segment_of(m) for m in made],
                                          _row(network_id, project_id, index)))
    return made


async def _claim_provider(tx: Tx, cfg: ProviderConfig, segment: Segment,
                          held: Sequence[Segment], row: dict[str, Any]) -> dict[str, Any]:
    def provider(taken: Allocated) -> Segment:
        return reserve_segment(segment, cfg, taken, _rng)

    return await _claim(tx, provider, [segment.network_type], segment.physical_network,
                        held, row)


async def add_segment_tx(tx: Tx, settings: NetworkSettings, network_id: str,
                         project_id: str | None, segment: Segment,
                         body: Mapping[str, Any]) -> dict[str, Any]:
    """One more segment of an existing network (the segments API)."""
    cfg = config(settings)
    validate_segment(segment, cfg)
    last = (await tx.execute(select(func.max(S.c.segment_index))
                             .where(S.c.network_id == network_id))).scalar()
    index = 0 if last is None else int(last) + 1
    return await _claim_provider(tx, cfg, segment, [],
                                 _row(network_id, project_id, index, body))


_OF_NETWORKS = prebuilt(select(S).where(S.c.network_id.in_(bindparam("b_ids", expanding=True)))
                        .order_by(S.c.segment_index, S.c.id))


async def of_networks(conn: AsyncConnection | Tx, network_ids: list[str]
                      ) -> dict[str, list[Mapping[str, Any]]]:
    """Each network's segments, in order."""
    out: dict[str, list[Mapping[str, Any]]] = {i: [] for i in network_ids}
    if not network_ids:
        return out
    rows = await conn.execute(_OF_NETWORKS, {"b_ids": list(network_ids)})
    for r in rows:
        out[r.network_id].append(dict(r._mapping))
    return out


def mtu_for(settings: NetworkSettings, segments: Sequence[Mapping[str, Any] | Segment],
            requested: int | None = None) -> int:
    """The MTU of a network carried on these segments: the requested one if they
    all carry it (400 otherwise), else the largest they all carry."""
    kinds = [s if isinstance(s, Segment) else segment_of(s) for s in segments]
    return network_mtu(kinds, config(settings), requested)


async def release_network(tx: Tx, network_id: str) -> None:
    """Free the ids of a deleted network's segments (their allocations go with them)."""
    ids = [r[0] for r in await tx.execute(select(S.c.id).where(S.c.network_id == network_id))]
    if ids:
        await standard.drop_tags(tx, "segments", ids)
        await tx.execute(delete(A).where(A.c.segment_id.in_(ids)))
        await tx.execute(delete(S).where(S.c.id.in_(ids)))


async def release_segment(tx: Tx, segment_id: str) -> None:
    await tx.execute(delete(A).where(A.c.segment_id == segment_id))
    await tx.execute(delete(S).where(S.c.id == segment_id))


async def update_provider_tx(tx: Tx, settings: NetworkSettings, network_id: str,
                             body: Mapping[str, Any]) -> None:
    """A network update naming provider attributes: only a single VLAN segment's id
    may change (while no port on the network is bound), as ML2 allows."""
    held = (await of_networks(tx, [network_id]))[network_id]
    if "segments" in body and body["segments"] is not None:
        listed = provider.requested_segments({"segments": body["segments"]}) or []
        if listed != [segment_of(s) for s in held]:
            raise provider.invalid_input("Plugin does not support updating the segments "
                                         "of a network; use the segments API")
    given = {k: body[k] for k in provider.PROVIDER_ATTRIBUTES if k in body}
    if not given:
        return
    if len(held) > 1:
        raise provider.invalid_input("Provider network attributes can be updated only in "
                                     "provider networks with a single segment")
    current = held[0]
    fixed = (provider.NETWORK_TYPE, provider.PHYSICAL_NETWORK)
    for attr in fixed:
        if attr in given and given[attr] != current[attr.partition(":")[2]]:
            raise provider.invalid_input("Plugin does not support updating the following "
                                         f"provider network attributes: {', '.join(fixed)}")
    if provider.SEGMENTATION_ID not in given:
        return
    if current["network_type"] != NetworkType.VLAN:
        raise provider.invalid_input("Only VLAN type networks can be updated")
    wanted = provider.provider_segment(
        {provider.NETWORK_TYPE: current["network_type"],
         provider.PHYSICAL_NETWORK: current["physical_network"],
         provider.SEGMENTATION_ID: given[provider.SEGMENTATION_ID]})
    if wanted.segmentation_id != current["segmentation_id"]:
        await _change_vlan(tx, settings, current, wanted)


async def _change_vlan(tx: Tx, settings: NetworkSettings, current: Mapping[str, Any],
                       wanted: Segment) -> None:
    bound = (await tx.execute(select(t.ports.c.id).where(
        t.ports.c.network_id == current["network_id"],
        t.ports.c.binding_vif_type.notin_(UNBOUND_VIF_TYPES)).limit(1))).first()
    if bound is not None:
        raise provider.invalid_input(
            f"Provider network attribute {provider.SEGMENTATION_ID} cannot be updated if "
            "any port in the network has not the following binding:vif_type: "
            f"{', '.join(UNBOUND_VIF_TYPES)}")
    validate_segment(wanted, config(settings))
    await tx.execute(delete(A).where(A.c.segment_id == current["id"]))
    try:
        async with tx.conn.begin_nested():
            await tx.execute(insert(A).values(
                network_type=wanted.network_type, physical_network=wanted.physical_network,
                segmentation_id=wanted.segmentation_id, segment_id=current["id"]))
    except IntegrityError as e:
        if not is_duplicate(e):
            raise
        reserve_segment(wanted, config(settings), _merge(Allocated(), [wanted]))
        raise
    await tx.execute(update(S).where(S.c.id == current["id"]).values(
        segmentation_id=wanted.segmentation_id, updated_at=utcnow(),
        revision_number=S.c.revision_number + 1))


# -------------------------------------------------------------- the segments API

COLLECTION = Collection(
    name="segments", table=S,
    filters={**standard_filters(S),
             "network_id": column_filter(S.c.network_id),
             "network_type": column_filter(S.c.network_type),
             "physical_network": column_filter(S.c.physical_network),
             "segmentation_id": column_filter(S.c.segmentation_id, to_int)},
    sort_keys={k: S.c[k] for k in ("id", "network_id", "name", "network_type",
                                   "physical_network", "segmentation_id", "created_at",
                                   "updated_at", "revision_number")},
)


def view(row: Mapping[str, Any], tags: list[str]) -> dict[str, Any]:
    out = {k: v for k, v in standard.view(row, tags).items()
           if k not in ("project_id", "tenant_id")}
    out.update({k: row[k] for k in ("network_id", "name", "network_type",
                                    "physical_network", "segmentation_id")})
    return out


async def _views(conn: AsyncConnection | Tx, rows: Sequence[Any]) -> list[dict[str, Any]]:
    tags = await standard.tags_of(conn, "segments", [r.id for r in rows])
    return [view(r._mapping, tags[r.id]) for r in rows]


async def list_segments(rt: Runtime, query: ListQuery) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query)
        return await _views(conn, rows), more


async def _find(conn: AsyncConnection | Tx, segment_id: str) -> Any:
    row = (await conn.execute(select(S).where(S.c.id == segment_id))).first()
    if row is None:
        raise NotFound(f"Segment {segment_id} could not be found.", type="SegmentNotFound")
    return row


async def get_segment(rt: Runtime, ctx: RequestContext, segment_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return (await _views(conn, [await _find(conn, segment_id)]))[0]


async def create_segment(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    """A segment added to an existing network (admins: the API's policy)."""
    settings = rt.settings.network
    segment = provider.provider_segment(
        {f"provider:{k}": body[k] for k in ("network_type", "physical_network",
                                            "segmentation_id") if body.get(k) is not None})
    async with rt.db.transaction() as tx:
        network = (await tx.execute(select(t.networks).where(
            t.networks.c.id == body["network_id"]).with_for_update())).first()
        if network is None:
            raise NotFound(f"Network {body['network_id']} could not be found.",
                           type="NetworkNotFound")
        row = await add_segment_tx(tx, settings, network.id, network.project_id, segment,
                                   body)
        held = (await of_networks(tx, [network.id]))[network.id]
        mtu_for(settings, held, network.mtu)  # the network's MTU must still fit
        tx.publish("network.segment.create", {"id": row["id"], "network_id": network.id})
        return (await _views(tx, [await _find(tx, row["id"])]))[0]


async def update_segment(rt: Runtime, segment_id: str, body: Mapping[str, Any], *,
                         if_match: int | None = None) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        await _find(tx, segment_id)
        values = {k: body[k] for k in ("name",) if k in body}
        if "description" in body:
            values["description"] = standard.description(body)
        await standard.touch(tx, S, segment_id, values, if_match=if_match)
        tx.publish("network.segment.update", {"id": segment_id})
        return (await _views(tx, [await _find(tx, segment_id)]))[0]


async def delete_segment(rt: Runtime, segment_id: str, *, if_match: int | None = None
                         ) -> None:
    async with rt.db.transaction() as tx:
        row = await _find(tx, segment_id)
        if if_match is not None:
            await standard.touch(tx, S, segment_id, if_match=if_match)
        used = [r[0] for r in await tx.execute(select(t.subnets.c.id).where(
            t.subnets.c.segment_id == segment_id).order_by(t.subnets.c.id))]
        if used:
            raise Conflict(f"Segment '{segment_id}' cannot be deleted: The segment is still "
                           f"associated with subnet(s) {', '.join(used)}.",
                           type="SegmentInUse")
        await standard.drop_tags(tx, "segments", [segment_id])
        await release_segment(tx, segment_id)
        tx.publish("network.segment.delete", {"id": segment_id, "network_id": row.network_id})
