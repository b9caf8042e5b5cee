"""Server groups: (anti-)affinity policies the scheduler applies to their members."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute import tables as t
from nubo.compute.service import quotas
from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime

G = t.server_groups
M = t.server_group_members
POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


@dataclass(frozen=True)
class ServerGroup:
    id: str
    name: str
    policy: str
    rules: dict[str, int]
    members: tuple[str, ...]
    project_id: str
    user_id: str


class GroupFull(quotas.OverQuota):
    def __init__(self, used: int, limit: int) -> None:
        super().__init__("server_group_members", 1, used, limit)
        self.message = "Quota exceeded, too many servers in group"
        self.args = (self.message,)


async def _members(conn: AsyncConnection, ids: list[int]) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        rows = await conn.execute(select(M).where(M.c.group_id.in_(ids))
                                  .order_by(M.c.instance_uuid))
        for r in rows:
            out[r.group_id].append(r.instance_uuid)
    return {k: tuple(v) for k, v in out.items()}


def _group(row: Any, members: tuple[str, ...]) -> ServerGroup:
    return ServerGroup(id=row.uuid, name=row.name, policy=row.policy,
                       rules={k: int(v) for k, v in (row.rules or {}).items()},
                       members=members, project_id=row.project_id, user_id=row.user_id)


def _may_see(ctx: RequestContext | None, row: Any) -> bool:
    return ctx is None or ctx.has_role("admin") or row.project_id == ctx.project_id


async def get_server_group(rt: Runtime, ctx: RequestContext | None, group_id: str
                           ) -> ServerGroup:
    """The group (NotFound when absent or, for non-admins, of another project)."""
    async with rt.db.read() as conn:
        row = (await conn.execute(select(G).where(G.c.uuid == group_id))).first()
        if row is None or not _may_see(ctx, row):
            raise NotFound(f"Instance group {group_id} could not be found.")
        return _group(row, (await _members(conn, [row.id]))[row.id])


async def list_server_groups(rt: Runtime, project_id: str | None, *, limit: int | None = None,
                             offset: int = 0) -> list[ServerGroup]:
    """Groups of one project (None: of every project), oldest first."""
    stmt = select(G).order_by(G.c.id)
    if project_id is not None:
        stmt = stmt.where(G.c.project_id == project_id)
    stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    async with rt.db.read() as conn:
        rows = list(await conn.execute(stmt))
        members = await _members(conn, [r.id for r in rows])
    return [_group(r, members[r.id]) for r in rows]


async def create_server_group(rt: Runtime, ctx: RequestContext, *, name: str, policy: str,
                              rules: Mapping[str, int]) -> ServerGroup:
    project_id, user_id = ctx.project_id or "", ctx.user_id
    await quotas.ensure_usage_rows(rt, project_id, user_id, ("server_groups",))
    group_uuid = str(uuid.uuid4())
    async with rt.db.transaction() as tx:
        await quotas.reserve(tx, rt, project_id=project_id, user_id=user_id,
                             deltas={"server_groups": 1})
        await tx.execute(insert(G).values(uuid=group_uuid, name=name, project_id=project_id,
                                          user_id=user_id, policy=policy, rules=dict(rules),
                                          created_at=utcnow()))
    return await get_server_group(rt, None, group_uuid)


async def delete_server_group(rt: Runtime, ctx: RequestContext, group_id: str) -> None:
    async with rt.db.transaction() as tx:
        row = (await tx.execute(select(G).where(G.c.uuid == group_id))).first()
        if row is None or not _may_see(ctx, row):
            raise NotFound(f"Instance group {group_id} could not be found.")
        await tx.execute(delete(M).where(M.c.group_id == row.id))
        await tx.execute(delete(G).where(G.c.id == row.id))
        await quotas.release(tx, rt, project_id=row.project_id, user_id=row.user_id,
                             deltas={"server_groups": 1})


async def add_member(tx: Tx, rt: Runtime, group_id: str, instance_uuid: str) -> None:
    """Put a server in a group, in the caller's transaction; OverQuota (403) when the
    group already has ``server_group_members`` servers."""
    row = (await tx.execute(select(G).where(G.c.uuid == group_id).with_for_update())).first()
    if row is None:
        raise NotFound(f"Instance group {group_id} could not be found.")
    if (await tx.execute(select(M).where(M.c.group_id == row.id,
                                         M.c.instance_uuid == instance_uuid))).first():
        return
    limits = await quotas.project_limits(tx.conn, rt, row.project_id)
    count = (await tx.execute(select(func.count()).select_from(M).where(
        M.c.group_id == row.id))).scalar_one()
    if quotas.exceeds(limits["server_group_members"], count, 1):
        raise GroupFull(count, limits["server_group_members"])
    await tx.execute(insert(M).values(group_id=row.id, instance_uuid=instance_uuid))


_REMOVE_MEMBER = prebuilt(delete(M).where(M.c.instance_uuid == bindparam("uuid")))


async def remove_member(tx: Tx, rt: Runtime, instance_uuid: str) -> None:
    """Take a server out of whatever group it is in (nothing if none)."""
    await tx.execute(_REMOVE_MEMBER, {"uuid": instance_uuid})


async def group_of_instance(rt: Runtime, instance_uuid: str) -> str | None:
    async with rt.db.read() as conn:
        row = (await conn.execute(select(G.c.uuid).join(M, M.c.group_id == G.c.id).where(
            M.c.instance_uuid == instance_uuid))).first()
    return None if row is None else str(row.uuid)
