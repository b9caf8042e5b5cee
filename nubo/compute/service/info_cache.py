"""Compute's own records of its servers' ports: ``virtual_interfaces`` (which ports,
in attach order, whether the user gave each, device tags) and the network info
cache (``instance_info_caches``: what networking said of them last)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute.tables import instance_info_caches as C
from nubo.compute.tables import virtual_interfaces as V
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx

Conn = AsyncConnection | Tx


async def records(conn: Conn, uuid: str) -> list[dict[str, Any]]:
    """The server's port records, in attach order."""
    rows = await conn.execute(select(V.c.port_id, V.c.preserve_on_delete, V.c.tag)
                              .where(V.c.instance_uuid == uuid).order_by(V.c.id))
    return [dict(r) for r in rows.mappings()]


async def add_record(tx: Tx, uuid: str, port_id: str, *, preserve: bool,
                     tag: str | None) -> None:
    """Record a port of the server (again: its flags are updated)."""
    where = (V.c.instance_uuid == uuid, V.c.port_id == port_id)
    found = (await tx.execute(select(V.c.id).where(*where))).first()
    if found is None:
        await tx.execute(insert(V).values(instance_uuid=uuid, port_id=port_id,
                                          preserve_on_delete=preserve, tag=tag,
                                          created_at=utcnow()))
    else:
        await tx.execute(update(V).where(*where).values(preserve_on_delete=preserve,
                                                        tag=tag))


async def drop_records(tx: Tx, uuid: str, port_ids: Iterable[str] | None = None) -> None:
    """Forget some (or, with None, all) of the server's ports."""
    stmt = delete(V).where(V.c.instance_uuid == uuid)
    if port_ids is not None:
        stmt = stmt.where(V.c.port_id.in_(list(port_ids)))
    await tx.execute(stmt)


async def network_info(conn: Conn, uuid: str) -> list[dict[str, Any]]:
    return (await network_infos(conn, [uuid])).get(uuid, [])


async def network_infos(conn: Conn, uuids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The cached network info of each server (absent: none yet)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for i in range(0, len(uuids), 500):
        rows = await conn.execute(select(C.c.instance_uuid, C.c.network_info).where(
            C.c.instance_uuid.in_(list(uuids[i:i + 500]))))
        for uuid, info in rows:
            out[uuid] = list(info or [])
    return out


async def save(tx: Tx, uuid: str, info: Sequence[dict[str, Any]]) -> None:
    values = {"network_info": list(info), "updated_at": utcnow()}
    result = await tx.execute(update(C).where(C.c.instance_uuid == uuid).values(values))
    if result.rowcount:
        return
    try:
        async with tx.conn.begin_nested():
            await tx.execute(insert(C).values(instance_uuid=uuid, **values))
    except IntegrityError:      # written meanwhile by another refresh: ours is newer
        await tx.execute(update(C).where(C.c.instance_uuid == uuid).values(values))
