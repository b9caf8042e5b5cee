"""Migration records: one per resize, cold or live migration and evacuation.

A migration's uuid is also a placement consumer: while a server moves, the
migration holds the source host's allocation and the server claims the
destination's (Nova's "migration-based allocations")."""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute.tables import migrations
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import NotFound

Conn = AsyncConnection | Tx
# statuses in which a migration is still going on
IN_PROGRESS = frozenset({"queued", "pre-migrating", "migrating", "post-migrating",
                         "running", "preparing", "accepted", "finished", "confirming",
                         "reverting"})


async def create(tx: Tx, server: Mapping[str, Any], *, migration_type: str,
                 new_flavor: Mapping[str, Any], status: str = "pre-migrating",
                 user_id: str | None, project_id: str | None) -> dict[str, Any]:
    now = utcnow()
    row = {
        "uuid": str(uuidlib.uuid4()), "instance_uuid": server["uuid"],
        "migration_type": migration_type, "status": status,
        "source_compute": server["host"], "source_node": server["node"],
        "dest_compute": None, "dest_node": None, "dest_host": None,
        "old_flavor": dict(server["flavor"]), "new_flavor": dict(new_flavor),
        "user_id": user_id, "project_id": project_id, "hidden": False,
        "created_at": now, "updated_at": now,
    }
    result = await tx.execute(insert(migrations).values(**row))
    return {**row, "id": int(result.inserted_primary_key[0])}


async def set_fields(tx: Tx, migration_uuid: str, **fields: Any) -> None:
    await tx.execute(update(migrations).where(migrations.c.uuid == migration_uuid)
                     .values(**fields, updated_at=utcnow()))


async def advance(tx: Tx, migration_uuid: str, expected: str, **fields: Any) -> bool:
    """Set fields if the status is still ``expected`` (compare-and-set); False when
    it changed meanwhile (the server was deleted: its moves ended in ``error``)."""
    result = await tx.execute(update(migrations).where(
        migrations.c.uuid == migration_uuid, migrations.c.status == expected)
        .values(**fields, updated_at=utcnow()))
    return bool(result.rowcount == 1)


async def get(conn: Conn, migration_uuid: str) -> dict[str, Any]:
    row = (await conn.execute(select(migrations).where(
        migrations.c.uuid == migration_uuid))).mappings().first()
    if row is None:
        raise NotFound(f"Migration {migration_uuid} could not be found.")
    return dict(row)


async def latest(conn: Conn, instance_uuid: str, *, status: str | None = None,
                 types: tuple[str, ...] = ("resize", "migration")) -> dict[str, Any] | None:
    """The instance's newest migration of ``types`` (in ``status``)."""
    query = select(migrations).where(migrations.c.instance_uuid == instance_uuid,
                                     migrations.c.migration_type.in_(types))
    if status is not None:
        query = query.where(migrations.c.status == status)
    row = (await conn.execute(query.order_by(migrations.c.id.desc()).limit(1))
           ).mappings().first()
    return dict(row) if row else None


@dataclass
class MigrationQuery:
    host: str | None = None
    status: str | None = None
    instance_uuid: str | None = None
    migration_type: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    changes_since: dt.datetime | None = None
    changes_before: dt.datetime | None = None
    in_progress_live_of: str | None = None
    sort_newest_first: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


async def list_migrations(conn: Conn, q: MigrationQuery) -> list[dict[str, Any]]:
    c = migrations.c
    query = select(migrations).where(c.hidden.is_(False))
    if q.host:
        query = query.where((c.source_compute == q.host) | (c.dest_compute == q.host))
    if q.status:
        query = query.where(c.status == q.status)
    if q.instance_uuid:
        query = query.where(c.instance_uuid == q.instance_uuid)
    if q.migration_type:
        query = query.where(c.migration_type == q.migration_type)
    if q.user_id:
        query = query.where(c.user_id == q.user_id)
    if q.project_id:
        query = query.where(c.project_id == q.project_id)
    if q.changes_since is not None:
        query = query.where(c.updated_at >= q.changes_since)
    if q.changes_before is not None:
        query = query.where(c.updated_at <= q.changes_before)
    if q.in_progress_live_of:
        query = query.where(c.instance_uuid == q.in_progress_live_of,
                            c.migration_type == "live-migration",
                            c.status.in_(sorted(IN_PROGRESS)))
    order = (c.created_at.desc(), c.id.desc()) if q.sort_newest_first else (c.id,)
    rows = await conn.execute(query.order_by(*order))
    return [dict(r) for r in rows.mappings()]
