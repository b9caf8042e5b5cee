"""Instance records: load them with their metadata, tags and latest fault; change
their fields; record faults. Shared by the API's service functions, the conductor
and (through the conductor) the agents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
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
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import NotFound

Conn = AsyncConnection | Tx


def not_found(uuid: str) -> NotFound:
    return NotFound(f"Instance {uuid} could not be found.")


def _get_query(deleted: bool, in_project: bool) -> Any:
    query = select(instances).where(instances.c.uuid == bindparam("uuid"))
    if not deleted:
        query = query.where(instances.c.deleted.is_(False))
    if in_project:
        query = query.where(instances.c.project_id == bindparam("project_id"))
    return query


# built once: (deleted too, in one project) -> the statement
_GET = {(d, p): prebuilt(_get_query(d, p)) for d in (False, True) for p in (False, True)}


async def get(conn: Conn, uuid: str, *, project_id: str | None = None,
              deleted: bool = False, extras: bool = True) -> dict[str, Any]:
    """One instance with its metadata, tags and fault (just its columns, one query
    instead of five, without ``extras``); NotFound when absent, deleted (unless
    ``deleted``) or in another project (when ``project_id`` is given)."""
    params = {"uuid": uuid} if project_id is None else {"uuid": uuid, "project_id": project_id}
    row = (await conn.execute(_GET[(deleted, project_id is not None)], params)
           ).mappings().first()
    if row is None:
        raise not_found(uuid)
    return (await attach(conn, [row]))[0] if extras else dict(row)


def _in(table: Any) -> Any:
    return table.c.instance_uuid.in_(bindparam("uuids", expanding=True))


# what ``attach`` reads, built once (``uuids``: the instances)
_EXTRAS = {name: prebuilt(statement) for name, statement in {
    "metadata": select(instance_metadata).where(_in(instance_metadata)),
    "system_metadata": select(instance_system_metadata).where(_in(instance_system_metadata)),
    "tags": select(instance_tags).where(_in(instance_tags)),
    "faults": select(instance_faults).where(_in(instance_faults)).order_by(
        instance_faults.c.id),
    "network_info": select(instance_info_caches.c.instance_uuid,
                           instance_info_caches.c.network_info).where(_in(instance_info_caches)),
}.items()}


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
        params = {"uuids": list(chunk)}
        for m in (await conn.execute(_EXTRAS["metadata"], params)).mappings():
            meta[m["instance_uuid"]][m["key"]] = m["value"]
        for m in (await conn.execute(_EXTRAS["system_metadata"], params)).mappings():
            sysmeta[m["instance_uuid"]][m["key"]] = m["value"]
        for t in (await conn.execute(_EXTRAS["tags"], params)).mappings():
            tags[t["instance_uuid"]].append(t["tag"])
        for f in (await conn.execute(_EXTRAS["faults"], params)).mappings():
            faults[f["instance_uuid"]] = dict(f)
        for uuid, info in await conn.execute(_EXTRAS["network_info"], params):
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


# field names -> the UPDATE setting them, built once per combination the code uses
_SET: dict[tuple[str, ...], Any] = {}


def _set_statement(names: tuple[str, ...]) -> Any:
    stmt = _SET.get(names)
    if stmt is None:
        stmt = _SET[names] = prebuilt(update(instances).where(
            instances.c.uuid == bindparam("b_uuid")).values(
            {n: bindparam(f"b_{n}", type_=instances.c[n].type) for n in names}))
    return stmt


async def set_fields(tx: Tx, uuid: str, **fields: Any) -> int:
    """Update an instance's columns (and ``updated_at``); returns the rows changed."""
    fields["updated_at"] = utcnow()
    params = {f"b_{n}": v for n, v in fields.items()}
    params["b_uuid"] = uuid
    result = await tx.execute(_set_statement(tuple(sorted(fields))), params)
    return int(result.rowcount)


async def add_fault(tx: Tx, uuid: str, *, code: int, message: str, details: str = "",
                    host: str | None = None) -> None:
    await tx.execute(insert(instance_faults).values(
        instance_uuid=uuid, code=code, message=message[:255], details=details or message,
        host=host, created_at=utcnow()))


async def set_metadata(tx: Tx, uuid: str, items: Mapping[str, str], *,
                       replace: bool = False, table: Any = instance_metadata,
                       fresh: bool = False) -> None:
    """Add or change metadata items; with ``replace`` the rest are removed; ``fresh``:
    the instance is being created in this transaction and has none yet."""
    if replace and not fresh:
        await tx.execute(delete(table).where(table.c.instance_uuid == uuid))
    elif items and not fresh:
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
