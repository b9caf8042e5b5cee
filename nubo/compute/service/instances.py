"""Instance records: load them with their metadata, tags and latest fault; change
their fields; record faults. Shared by the API's service functions, the conductor
and (through the conductor) the agents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute.tables import (
    instance_faults,
    instance_info_caches,
    instance_metadata,
    instance_system_metadata,
    instance_tags,
    instances,
)
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import NotFound

Conn = AsyncConnection | Tx


def not_found(uuid: str) -> NotFound:
    return NotFound(f"Instance {uuid} could not be found.")


async def get(conn: Conn, uuid: str, *, project_id: str | None = None,
              deleted: bool = False, extras: bool = True) -> dict[str, Any]:
    """One instance with its metadata, tags and fault (just its columns, one query
    instead of five, without ``extras``); NotFound when absent, deleted (unless
    ``deleted``) or in another project (when ``project_id`` is given)."""
    query = select(instances).where(instances.c.uuid == uuid)
    if not deleted:
        query = query.where(instances.c.deleted.is_(False))
    if project_id is not None:
        query = query.where(instances.c.project_id == project_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(uuid)
    return (await attach(conn, [row]))[0] if extras else dict(row)


async def attach(conn: Conn, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows as dicts with ``metadata``, ``system_metadata``, ``tags``, ``fault`` and
    ``network_info`` (the cached network info: a list of VIFs)."""
    found = [dict(r) for r in rows]
    if not found:
        return found
    uuids = [r["uuid"] for r in found]
    meta: dict[str, dict[str, str]] = {u: {} for u in uuids}
    sysmeta: dict[str, dict[str, str]] = {u: {} for u in uuids}
    tags: dict[str, list[str]] = {u: [] for u in uuids}
    faults: dict[str, dict[str, Any]] = {}
    networks: dict[str, list[dict[str, Any]]] = {}
    for chunk in _chunks(uuids, 500):
        for m in (await conn.execute(select(instance_metadata).where(
                instance_metadata.c.instance_uuid.in_(chunk)))).mappings():
            meta[m["instance_uuid"]][m["key"]] = m["value"]
        for m in (await conn.execute(select(instance_system_metadata).where(
                instance_system_metadata.c.instance_uuid.in_(chunk)))).mappings():
            sysmeta[m["instance_uuid"]][m["key"]] = m["value"]
        for t in (await conn.execute(select(instance_tags).where(
                instance_tags.c.instance_uuid.in_(chunk)))).mappings():
            tags[t["instance_uuid"]].append(t["tag"])
        for f in (await conn.execute(select(instance_faults).where(
                instance_faults.c.instance_uuid.in_(chunk)).order_by(
                instance_faults.c.id))).mappings():
            faults[f["instance_uuid"]] = dict(f)
        for uuid, info in await conn.execute(select(
                instance_info_caches.c.instance_uuid, instance_info_caches.c.network_info)
                .where(instance_info_caches.c.instance_uuid.in_(chunk))):
            networks[uuid] = list(info or [])
    for r in found:
        r["metadata"] = meta[r["uuid"]]
        r["system_metadata"] = sysmeta[r["uuid"]]
        r["tags"] = sorted(tags[r["uuid"]])
        r["fault"] = faults.get(r["uuid"])
        r["network_info"] = networks.get(r["uuid"], [])
    return found


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


async def set_fields(tx: Tx, uuid: str, **fields: Any) -> int:
    """Update an instance's columns (and ``updated_at``); returns the rows changed."""
    result = await tx.execute(update(instances).where(instances.c.uuid == uuid)
                              .values(**fields, updated_at=utcnow()))
    return int(result.rowcount)


async def add_fault(tx: Tx, uuid: str, *, code: int, message: str, details: str = "",
                    host: str | None = None) -> None:
    await tx.execute(insert(instance_faults).values(
        instance_uuid=uuid, code=code, message=message[:255], details=details or message,
        host=host, created_at=utcnow()))


async def set_metadata(tx: Tx, uuid: str, items: Mapping[str, str], *,
                       replace: bool = False, table: Any = instance_metadata) -> None:
    """Add or change metadata items; with ``replace`` the rest are removed."""
    if replace:
        await tx.execute(delete(table).where(table.c.instance_uuid == uuid))
    elif items:
        await tx.execute(delete(table).where(table.c.instance_uuid == uuid,
                                             table.c.key.in_(list(items))))
    if items:
        await tx.execute(insert(table), [{"instance_uuid": uuid, "key": k, "value": v}
                                         for k, v in items.items()])


async def set_tags(tx: Tx, uuid: str, tags: Iterable[str]) -> None:
    await tx.execute(delete(instance_tags).where(instance_tags.c.instance_uuid == uuid))
    rows = [{"instance_uuid": uuid, "tag": t} for t in sorted(set(tags))]
    if rows:
        await tx.execute(insert(instance_tags), rows)
