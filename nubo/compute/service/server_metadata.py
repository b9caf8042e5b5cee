"""A server's user metadata and tags: read, merge, replace, delete; the
``metadata_items`` quota and Nova's per-server limit of 50 tags. Changes need the
server unlocked (or an admin) and in a state Nova allows them in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, insert, select

from nubo.compute import notifications
from nubo.compute.service import instances, quotas
from nubo.compute.service.actions import check_lock
from nubo.compute.states import VmState
from nubo.compute.tables import instance_metadata, instance_tags
from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound
from nubo.core.runtime import Runtime

MAX_TAGS = 50
METADATA_STATES = frozenset({VmState.ACTIVE, VmState.PAUSED, VmState.SUSPENDED,
                             VmState.STOPPED})
TAG_STATES = METADATA_STATES | {VmState.SHELVED, VmState.SHELVED_OFFLOADED}


async def _changeable(tx: Tx, ctx: RequestContext, uuid: str, what: str,
                      states: frozenset[VmState]) -> dict[str, Any]:
    server = await instances.get(tx, uuid)
    check_lock(ctx, server)
    if VmState(server["vm_state"]) not in states:
        raise Conflict(f"Cannot '{what}' instance {uuid} while it is in vm_state "
                       f"{server['vm_state']}")
    if server["task_state"] is not None:
        raise Conflict(f"Cannot '{what}' instance {uuid} while it is in task_state "
                       f"{server['task_state']}")
    return server


# ---------------------------------------------------------------- metadata


async def get_metadata(rt: Runtime, uuid: str) -> dict[str, str]:
    async with rt.db.read() as conn:
        rows = await conn.execute(select(instance_metadata.c.key, instance_metadata.c.value)
                                  .where(instance_metadata.c.instance_uuid == uuid))
        return {k: v for k, v in rows}


async def _check_quota(tx: Tx, rt: Runtime, project_id: str, count: int) -> None:
    limit = int((await quotas.project_limits(tx.conn, rt, project_id)).get(
        "metadata_items", rt.settings.compute.quota_metadata_items))
    if 0 <= limit < count:
        raise Forbidden(f"Quota exceeded for metadata_items: Requested {count}, but "
                        f"already used 0 of {limit} metadata_items")


async def update_metadata(rt: Runtime, ctx: RequestContext, uuid: str,
                          items: Mapping[str, str], *, replace: bool,
                          what: str = "update metadata") -> dict[str, str]:
    """Merge ``items`` into the server's metadata (or replace it); the result."""
    async with rt.db.transaction() as tx:
        server = await _changeable(tx, ctx, uuid, what, METADATA_STATES)
        merged = dict(items) if replace else {**server["metadata"], **items}
        await _check_quota(tx, rt, server["project_id"], len(merged))
        await instances.set_metadata(tx, uuid, items, replace=replace)
        notifications.emit(tx, "compute.instance.update", server)
    return merged


async def delete_metadata_item(rt: Runtime, ctx: RequestContext, uuid: str,
                               key: str) -> None:
    async with rt.db.transaction() as tx:
        server = await _changeable(tx, ctx, uuid, "delete metadata", METADATA_STATES)
        if key not in server["metadata"]:
            raise NotFound("Metadata item was not found")
        await tx.execute(delete(instance_metadata).where(
            instance_metadata.c.instance_uuid == uuid, instance_metadata.c.key == key))
        notifications.emit(tx, "compute.instance.update", server)


# -------------------------------------------------------------------- tags


async def get_tags(rt: Runtime, uuid: str) -> list[str]:
    async with rt.db.read() as conn:
        rows = await conn.execute(select(instance_tags.c.tag).where(
            instance_tags.c.instance_uuid == uuid).order_by(instance_tags.c.tag))
        return [r[0] for r in rows]


def _too_many(count: int) -> BadRequest:
    return BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")


async def replace_tags(rt: Runtime, ctx: RequestContext, uuid: str,
                       tags: Iterable[str]) -> list[str]:
    wanted = sorted(set(tags))
    if len(wanted) > MAX_TAGS:
        raise _too_many(len(wanted))
    async with rt.db.transaction() as tx:
        await _changeable(tx, ctx, uuid, "update tags", TAG_STATES)
        await instances.set_tags(tx, uuid, wanted)
    return wanted


async def add_tag(rt: Runtime, ctx: RequestContext, uuid: str, tag: str) -> bool:
    """Add one tag; False when the server had it already."""
    async with rt.db.transaction() as tx:
        server = await _changeable(tx, ctx, uuid, "update tag", TAG_STATES)
        if tag in server["tags"]:
            return False
        if len(server["tags"]) >= MAX_TAGS:
            raise _too_many(len(server["tags"]) + 1)
        await tx.execute(insert(instance_tags).values(instance_uuid=uuid, tag=tag))
    return True


async def delete_tag(rt: Runtime, ctx: RequestContext, uuid: str, tag: str) -> None:
    async with rt.db.transaction() as tx:
        server = await _changeable(tx, ctx, uuid, "delete tag", TAG_STATES)
        if tag not in server["tags"]:
            raise NotFound(f"Instance {uuid} has no tag '{tag}'")
        await tx.execute(delete(instance_tags).where(instance_tags.c.instance_uuid == uuid,
                                                     instance_tags.c.tag == tag))


async def delete_all_tags(rt: Runtime, ctx: RequestContext, uuid: str) -> None:
    async with rt.db.transaction() as tx:
        await _changeable(tx, ctx, uuid, "delete tags", TAG_STATES)
        await instances.set_tags(tx, uuid, [])
