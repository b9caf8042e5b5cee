"""Who may see and touch an image: policy targets, visibility, and loading rows.

Visibility is the service's own rule (Glance's database layer applies it before
any policy): an admin sees every image; others see their project's images, public
and community ones, and shared ones they are a member of, whatever the member
status. An image a caller cannot see is "not found", never "forbidden".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.image import tables as t

Row = dict[str, Any]


def is_admin(rt: Runtime, ctx: RequestContext) -> bool:
    return rt.policy.enforce("context_is_admin", {}, ctx.to_policy_values())


def authorize(rt: Runtime, ctx: RequestContext, rule: str, target: Mapping[str, Any]) -> None:
    rt.policy.authorize(rule, target, ctx.to_policy_values())


def allowed(rt: Runtime, ctx: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
    return rt.policy.enforce(rule, target, ctx.to_policy_values())


def target(row: Mapping[str, Any], member_id: str | None = None) -> dict[str, Any]:
    owner = row.get("owner") or ""
    return {"project_id": owner, "owner": owner, "visibility": row.get("visibility", ""),
            "member_id": member_id or "", "protected": row.get("protected", False)}


def not_found(image_id: str) -> NotFound:
    return NotFound(f"No image found with ID {image_id}")


async def load_row(conn: AsyncConnection, image_id: str) -> Row | None:
    row = (await conn.execute(select(t.image).where(t.image.c.id == image_id))).mappings().first()
    return dict(row) if row else None


async def membership(conn: AsyncConnection, image_id: str, project_id: str | None
                     ) -> Row | None:
    if not project_id:
        return None
    row = (await conn.execute(select(t.image_member).where(
        t.image_member.c.image_id == image_id,
        t.image_member.c.member_id == project_id))).mappings().first()
    return dict(row) if row else None


async def visible_row(rt: Runtime, ctx: RequestContext, conn: AsyncConnection,
                      image_id: str) -> tuple[Row, dict[str, Any]]:
    """The image row if ``ctx`` may see it, with its policy target; else NotFound."""
    row = await load_row(conn, image_id)
    if row is None:
        raise not_found(image_id)
    member = None
    if row["visibility"] == "shared" and row["owner"] != ctx.project_id:
        member = await membership(conn, image_id, ctx.project_id)
    if not can_see(rt, ctx, row, member is not None):
        raise not_found(image_id)
    return row, target(row, ctx.project_id if member else None)


def can_see(rt: Runtime, ctx: RequestContext, row: Mapping[str, Any], is_member: bool) -> bool:
    if row["owner"] is not None and row["owner"] == ctx.project_id:
        return True
    if row["visibility"] in ("public", "community"):
        return True
    if row["visibility"] == "shared" and is_member:
        return True
    return is_admin(rt, ctx)
