"""A server's password: posted once by its guest through the metadata service
(``POST /openstack/<version>/password``, the password encrypted with the
instance's key), read and cleared through ``/servers/{id}/os-server-password``.
Kept in system metadata as Nova keeps it (``metadata.password_pieces``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from nubo.compute import metadata
from nubo.compute.service import instances
from nubo.compute.tables import instance_system_metadata
from nubo.compute.tables import instances as instances_table
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import Conflict
from nubo.core.runtime import Runtime

_PIECES = prebuilt(
    select(instance_system_metadata.c.key, instance_system_metadata.c.value).where(
        instance_system_metadata.c.key.in_(metadata.PASSWORD_KEYS)))


async def _stored(conn: Any, uuid: str) -> str:
    """The password kept for ``uuid`` (on a read connection or in a transaction)."""
    rows = await conn.execute(_PIECES.where(instance_system_metadata.c.instance_uuid == uuid))
    return metadata.password_of({r.key: r.value for r in rows})


async def _lock_live(tx: Tx, uuid: str) -> None:
    """The instance's row, locked against a concurrent setter; NotFound when it is
    gone."""
    found = (await tx.execute(select(instances_table.c.uuid).where(
        instances_table.c.uuid == uuid, instances_table.c.deleted.is_(False))
        .with_for_update())).first()
    if found is None:
        raise instances.not_found(uuid)


async def set_from_guest(rt: Runtime, uuid: str, password: str) -> None:
    """The guest's one password post: Conflict when a password is already set (it
    can be cleared through the API, then posted again)."""
    try:
        async with rt.db.transaction() as tx:
            await _lock_live(tx, uuid)
            if await _stored(tx, uuid):
                raise Conflict("Password already set.")
            await instances.set_metadata(tx, uuid, metadata.password_pieces(password),
                                         table=instance_system_metadata)
    except Exception as e:
        if is_duplicate(e):     # a concurrent post won
            raise Conflict("Password already set.") from None
        raise


async def get(rt: Runtime, uuid: str) -> str:
    async with rt.db.read() as conn:
        return await _stored(conn, uuid)


async def clear(rt: Runtime, uuid: str) -> None:
    async with rt.db.transaction() as tx:
        await _lock_live(tx, uuid)
        await tx.execute(delete(instance_system_metadata).where(
            instance_system_metadata.c.instance_uuid == uuid,
            instance_system_metadata.c.key.in_(metadata.PASSWORD_KEYS)))
