"""Host aggregates: named sets of compute hosts with metadata; an aggregate with the
``availability_zone`` key makes its hosts an availability zone."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute import tables as t
from nubo.compute.service import hosts
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime

A = t.aggregates
H = t.aggregate_hosts
MD = t.aggregate_metadata
AZ_KEY = "availability_zone"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Aggregate:
    id: int
    uuid: str
    name: str
    availability_zone: str | None
    metadata: dict[str, str]
    hosts: frozenset[str]
    created_at: Any = None
    updated_at: Any = None


async def _load(conn: AsyncConnection, rows: list[Any]) -> list[Aggregate]:
    ids = [r.id for r in rows]
    hosts: dict[int, set[str]] = {i: set() for i in ids}
    meta: dict[int, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for h in await conn.execute(select(H).where(H.c.aggregate_id.in_(ids))):
            hosts[h.aggregate_id].add(h.host)
        for m in await conn.execute(select(MD).where(MD.c.aggregate_id.in_(ids))):
            meta[m.aggregate_id][m.key] = m.value
    return [Aggregate(id=r.id, uuid=r.uuid, name=r.name,
                      availability_zone=meta[r.id].get(AZ_KEY), metadata=meta[r.id],
                      hosts=frozenset(hosts[r.id]), created_at=r.created_at,
                      updated_at=r.updated_at) for r in rows]


async def list_aggregates(rt: Runtime) -> list[Aggregate]:
    async with rt.db.read() as conn:
        return await _load(conn, list(await conn.execute(select(A).order_by(A.c.id))))


async def _get(conn: AsyncConnection, aggregate_id: int | str) -> Aggregate:
    key = str(aggregate_id)
    where = A.c.id == int(key) if key.lstrip("-").isdigit() else A.c.uuid == key
    rows = list(await conn.execute(select(A).where(where)))
    if not rows:
        raise NotFound(f"Aggregate {aggregate_id} could not be found.")
    return (await _load(conn, rows))[0]


async def get_aggregate(rt: Runtime, aggregate_id: int | str) -> Aggregate:
    async with rt.db.read() as conn:
        return await _get(conn, aggregate_id)


CACHE_IMAGES_OP = "cache_images"


async def cache_images(rt: Runtime, aggregate_id: int | str, image_ids: list[str]) -> None:
    """2.81: ask each host of the aggregate to fetch the images into its image cache
    (its agent does it in the background; a driver without a cache ignores it)."""
    from nubo.compute.service.servers import agent_topic

    async with rt.db.transaction() as tx:
        agg = await _get(tx.conn, aggregate_id)
        for host in sorted(agg.hosts):
            tx.publish(agent_topic(host, CACHE_IMAGES_OP), {"image_ids": list(image_ids)})


async def _check_name(conn: AsyncConnection, name: str, own_id: int | None = None) -> None:
    row = (await conn.execute(select(A.c.id).where(A.c.name == name))).first()
    if row is not None and row.id != own_id:
        raise Conflict(f"Aggregate {name} already exists.")


def _check_az_name(rt: Runtime, az: str | None) -> None:
    internal = rt.settings.compute.internal_service_availability_zone
    if az is not None and az == internal:
        raise BadRequest(f"Cannot set availability zone to the internal one ({internal}).")


async def create_aggregate(rt: Runtime, name: str, availability_zone: str | None) -> Aggregate:
    _check_az_name(rt, availability_zone)
    try:
        async with rt.db.transaction() as tx:
            await _check_name(tx.conn, name)
            now = utcnow()
            result = await tx.execute(insert(A).values(uuid=str(uuid.uuid4()), name=name,
                                                       created_at=now))
            new_id = result.inserted_primary_key[0]
            if availability_zone is not None:
                await tx.execute(insert(MD).values(aggregate_id=new_id, key=AZ_KEY,
                                                   value=availability_zone))
    except IntegrityError:
        raise Conflict(f"Aggregate {name} already exists.") from None
    return await get_aggregate(rt, new_id)


async def _other_azs(conn: AsyncConnection, host: str, own_id: int) -> set[str]:
    """The availability zones a host has through its other aggregates."""
    rows = await conn.execute(select(MD.c.value).join(H, H.c.aggregate_id == MD.c.aggregate_id)
                              .where(H.c.host == host, MD.c.key == AZ_KEY,
                                     H.c.aggregate_id != own_id))
    return {r.value for r in rows}


async def _check_az_change(rt: Runtime, conn: AsyncConnection, agg: Aggregate,
                           az: str | None) -> None:
    """Nova's rules for a new zone: no host may already be in another zone, and the
    zone of hosts that run servers does not change."""
    if az is not None:
        for host in sorted(agg.hosts):
            others = await _other_azs(conn, host, agg.id) - {az}
            if others:
                raise BadRequest(f"Cannot update aggregate {agg.id}. Reason: One or more "
                                 f"hosts already in availability zone(s) {sorted(others)}.")
    if az != agg.availability_zone:
        for host in sorted(agg.hosts):
            if await hosts.host_has_instances(rt, host):
                raise BadRequest(f"Cannot update aggregate {agg.id}. Reason: One or more "
                                 "hosts contain instances in this zone.")


async def _write_metadata(tx: Tx, agg_id: int, changes: Mapping[str, str | None]) -> None:
    for key, value in changes.items():
        await tx.execute(delete(MD).where(MD.c.aggregate_id == agg_id, MD.c.key == key))
        if value is not None:
            await tx.execute(insert(MD).values(aggregate_id=agg_id, key=key, value=value))
    await tx.execute(update(A).where(A.c.id == agg_id).values(updated_at=utcnow()))


async def update_aggregate(rt: Runtime, aggregate_id: str, *, name: str | None = None,
                           availability_zone: str | None = None, set_az: bool = False
                           ) -> Aggregate:
    _check_az_name(rt, availability_zone)
    try:
        async with rt.db.transaction() as tx:
            agg = await _get(tx.conn, aggregate_id)
            if name is not None:
                await _check_name(tx.conn, name, agg.id)
                await tx.execute(update(A).where(A.c.id == agg.id).values(name=name))
            if set_az:
                await _check_az_change(rt, tx.conn, agg, availability_zone)
                await _write_metadata(tx, agg.id, {AZ_KEY: availability_zone})
            else:
                await tx.execute(update(A).where(A.c.id == agg.id).values(updated_at=utcnow()))
    except IntegrityError:
        raise Conflict(f"Aggregate {name} already exists.") from None
    return await get_aggregate(rt, aggregate_id)


async def set_metadata(rt: Runtime, aggregate_id: str, changes: Mapping[str, str | None]
                       ) -> Aggregate:
    """Set keys (a None value removes one); the AZ key is checked for conflicts."""
    if AZ_KEY in changes:
        if not changes[AZ_KEY]:
            raise BadRequest(f"Aggregate {aggregate_id} does not support empty named "
                             "availability zone")
        _check_az_name(rt, changes[AZ_KEY])
    async with rt.db.transaction() as tx:
        agg = await _get(tx.conn, aggregate_id)
        if AZ_KEY in changes:
            await _check_az_change(rt, tx.conn, agg, changes[AZ_KEY])
        await _write_metadata(tx, agg.id, changes)
    return await get_aggregate(rt, aggregate_id)


async def delete_aggregate(rt: Runtime, aggregate_id: str) -> None:
    async with rt.db.transaction() as tx:
        agg = await _get(tx.conn, aggregate_id)
        if agg.hosts:
            raise BadRequest(f"Cannot delete aggregate {aggregate_id}. Reason: Host "
                             "aggregate is not empty.")
        await tx.execute(delete(MD).where(MD.c.aggregate_id == agg.id))
        await tx.execute(delete(A).where(A.c.id == agg.id))


async def add_host(rt: Runtime, aggregate_id: str, host: str) -> Aggregate:
    if await hosts.get_service(rt, host) is None:
        raise NotFound(f"Compute host {host} could not be found.")
    async with rt.db.transaction() as tx:
        agg = await _get(tx.conn, aggregate_id)
        if host in agg.hosts:
            raise Conflict(f"Aggregate {aggregate_id} already has host {host}.")
        if agg.availability_zone is not None:
            others = await _other_azs(tx.conn, host, agg.id) - {agg.availability_zone}
            if others:
                raise Conflict(f"Cannot add host to aggregate {aggregate_id}. Reason: One or "
                               f"more hosts already in availability zone(s) {sorted(others)}.")
        await tx.execute(insert(H).values(aggregate_id=agg.id, host=host))
    await _mirror_to_placement(rt, host, agg.uuid, member=True)
    return await get_aggregate(rt, aggregate_id)


async def remove_host(rt: Runtime, aggregate_id: str, host: str) -> Aggregate:
    async with rt.db.transaction() as tx:
        agg = await _get(tx.conn, aggregate_id)
        result = await tx.execute(delete(H).where(H.c.aggregate_id == agg.id, H.c.host == host))
        if result.rowcount == 0:
            raise NotFound(f"Cannot remove host {host} in aggregate {aggregate_id}")
    await _mirror_to_placement(rt, host, agg.uuid, member=False)
    return await get_aggregate(rt, aggregate_id)


async def _mirror_to_placement(rt: Runtime, host: str, agg_uuid: str, *, member: bool) -> None:
    """Add the aggregate to (or take it from) the placement aggregates of the host's
    resource providers, as Nova does, so placement-side filtering sees it."""
    from nubo.placement import service as placement
    from nubo.placement.service import aggregates as placement_aggregates

    for node in await hosts.list_nodes(rt):
        if node["host"] != host:
            continue
        try:
            _generation, current = await placement_aggregates.get_aggregates(rt, node["uuid"])
        except NotFound:
            log.warning("host %s has no resource provider %s yet", host, node["uuid"])
            continue
        wanted = set(current) | {agg_uuid} if member else set(current) - {agg_uuid}
        if wanted != set(current):
            await placement.set_aggregates(rt, node["uuid"], wanted)


async def availability_zone_of(rt: Runtime, host: str) -> str | None:
    """The AZ a host is in through its aggregates (None: the default one)."""
    async with rt.db.read() as conn:
        rows = await conn.execute(select(MD.c.value).join(H, H.c.aggregate_id == MD.c.aggregate_id)
                                  .where(H.c.host == host, MD.c.key == AZ_KEY))
        zones = sorted({r.value for r in rows})
    return ",".join(zones) if zones else None
