"""Image members: the projects a shared image is offered to.

The owner adds and removes members; each member accepts or rejects the offer
itself, and only an accepted image shows in the member's default listing. A
member sees only its own membership; the owner sees them all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from nubo.core.runtime import Runtime
from nubo.image import tables as t
from nubo.image.notifications import emit
from nubo.image.service.access import authorize, is_admin, membership, visible_row
from nubo.image.service.records import MAX_MEMBERS, MEMBER_STATUSES, render_member

Row = dict[str, Any]


def _shared_only(row: Row) -> None:
    if row["visibility"] != "shared":
        raise Forbidden(f"Image {row['id']} is not shared: only shared images have members.")


async def _member_or_404(conn: AsyncConnection, image_id: str, member_id: str) -> Row:
    found = await membership(conn, image_id, member_id)
    if found is None:
        raise NotFound(f"Member {member_id} not found for image {image_id}")
    return found


def _is_owner(rt: Runtime, ctx: RequestContext, row: Row) -> bool:
    return row["owner"] == ctx.project_id or is_admin(rt, ctx)


async def create_member(rt: Runtime, ctx: RequestContext, image_id: str, member_id: Any
                        ) -> dict[str, Any]:
    if not isinstance(member_id, str) or not member_id or len(member_id) > 255:
        raise BadRequest("Invalid input for field 'member': a project id is required.")
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        authorize(rt, ctx, "add_member", tgt)
        if not _is_owner(rt, ctx, row):
            raise Forbidden("Only the image owner may add members.")
        _shared_only(row)
        count = (await tx.execute(select(func.count()).select_from(t.image_member).where(
            t.image_member.c.image_id == image_id))).scalar() or 0
        if count >= MAX_MEMBERS:
            raise PayloadTooLarge(f"Attempted: {count + 1}, Maximum: {MAX_MEMBERS}: too "
                                  "many image members.")
        now = utcnow()
        member = {"image_id": image_id, "member_id": member_id, "status": "pending",
                  "created_at": now, "updated_at": now}
        try:
            await tx.execute(insert(t.image_member).values(member))
        except IntegrityError:
            raise Conflict(f"Member {member_id} is duplicated for image {image_id}") from None
        emit(tx, "image.member.create", render_member(member))
    return render_member(member)


async def list_members(rt: Runtime, ctx: RequestContext, image_id: str) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        row, tgt = await visible_row(rt, ctx, conn, image_id)
        authorize(rt, ctx, "get_members", tgt)
        _shared_only(row)
        query = select(t.image_member).where(t.image_member.c.image_id == image_id)
        if not _is_owner(rt, ctx, row):
            query = query.where(t.image_member.c.member_id == (ctx.project_id or ""))
        rows = (await conn.execute(query.order_by(t.image_member.c.created_at))).mappings()
        return [render_member(dict(r)) for r in rows]


async def get_member(rt: Runtime, ctx: RequestContext, image_id: str, member_id: str
                     ) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row, tgt = await visible_row(rt, ctx, conn, image_id)
        authorize(rt, ctx, "get_member", tgt)
        _shared_only(row)
        if not _is_owner(rt, ctx, row) and member_id != ctx.project_id:
            raise NotFound(f"Member {member_id} not found for image {image_id}")
        return render_member(await _member_or_404(conn, image_id, member_id))


async def update_member(rt: Runtime, ctx: RequestContext, image_id: str, member_id: str,
                        status: Any) -> dict[str, Any]:
    if status not in MEMBER_STATUSES:
        raise BadRequest(f"Invalid status: {status!r}; use one of {list(MEMBER_STATUSES)}.")
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        _shared_only(row)
        member = await _member_or_404(tx.conn, image_id, member_id)
        authorize(rt, ctx, "modify_member", {**tgt, "member_id": member_id})
        if member_id != ctx.project_id and not is_admin(rt, ctx):
            raise Forbidden("Only the member itself may change its status.")
        now = utcnow()
        await tx.execute(update(t.image_member).where(
            t.image_member.c.image_id == image_id,
            t.image_member.c.member_id == member_id).values(status=status, updated_at=now))
        changed = render_member({**member, "status": status, "updated_at": now})
        emit(tx, "image.member.update", changed)
    return changed


async def delete_member(rt: Runtime, ctx: RequestContext, image_id: str, member_id: str
                        ) -> None:
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        authorize(rt, ctx, "delete_member", tgt)
        if not _is_owner(rt, ctx, row):
            raise Forbidden("Only the image owner may remove members.")
        _shared_only(row)
        member = await _member_or_404(tx.conn, image_id, member_id)
        await tx.execute(delete(t.image_member).where(
            t.image_member.c.image_id == image_id, t.image_member.c.member_id == member_id))
        emit(tx, "image.member.delete", render_member(member))
