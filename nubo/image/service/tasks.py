"""Image tasks, as Glance keeps them: an interoperable import (``POST
/v2/images/{id}/import``) is an ``api_image_import`` task, ``processing`` until the
image is active (``success``) or the import failed (``failure``, with why). A
finished task expires ``TIME_TO_LIVE`` after it ended (Glance's task_time_to_live,
48 hours) and is then no longer shown.

The image's tasks are shown to whoever may see the image (2.12, ``GET
/v2/images/{id}/tasks``); every task, with the ``/v2/tasks`` routes, to admins
(``tasks_api_access``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select, update

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, NotFound
from nubo.core.runtime import Runtime
from nubo.image import tables as t
from nubo.image.service.access import authorize, visible_row
from nubo.image.service.records import STORE_ID, timestamp

IMPORT = "api_image_import"
PROCESSING, SUCCESS, FAILURE = "processing", "success", "failure"
STATUSES = ("pending", PROCESSING, SUCCESS, FAILURE)
TIME_TO_LIVE = dt.timedelta(hours=48)


async def record_import(tx: Tx, ctx: RequestContext, image_id: str,
                        import_req: Mapping[str, Any], request_id: str) -> str:
    """The task of an import that starts now, in the import's transaction."""
    task_id, now = str(uuid.uuid4()), utcnow()
    await tx.execute(t.task.insert().values(
        id=task_id, type=IMPORT, status=PROCESSING, owner=ctx.project_id,
        image_id=image_id, request_id=request_id, user_id=ctx.user_id,
        input={"image_id": image_id, "import_req": dict(import_req),
               "backend": [STORE_ID]},
        result=None, message="", expires_at=None, created_at=now, updated_at=now))
    return task_id


async def finish(rt: Runtime, task_id: str, *, failed: str | None = None) -> None:
    """The import ended: success, or failure with ``failed`` as its message."""
    now = utcnow()
    async with rt.db.transaction() as tx:
        await tx.execute(update(t.task).where(
            t.task.c.id == task_id, t.task.c.status == PROCESSING).values(
            status=FAILURE if failed else SUCCESS, message=failed or "",
            expires_at=now + TIME_TO_LIVE, updated_at=now))


async def finish_image_imports(tx: Tx, image_id: str, message: str) -> None:
    """The image's imports still processing have failed (their process died)."""
    now = utcnow()
    await tx.execute(update(t.task).where(
        t.task.c.image_id == image_id, t.task.c.status == PROCESSING).values(
        status=FAILURE, message=message, expires_at=now + TIME_TO_LIVE, updated_at=now))


def render(row: Mapping[Any, Any], *, detail: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"], "type": row["type"], "status": row["status"],
        "owner": row["owner"],
        "expires_at": timestamp(row["expires_at"]) if row["expires_at"] else None,
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "self": f"/v2/tasks/{row['id']}", "schema": "/v2/schemas/task",
    }
    if detail:
        out.update(input=row["input"], result=row["result"], message=row["message"],
                   image_id=row["image_id"], request_id=row["request_id"],
                   user_id=row["user_id"])
    return out


def _live(now: dt.datetime) -> Any:
    return or_(t.task.c.expires_at.is_(None), t.task.c.expires_at > now)


async def of_image(rt: Runtime, ctx: RequestContext, image_id: str) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        _row, target = await visible_row(rt, ctx, conn, image_id)
        authorize(rt, ctx, "get_image", target)
        rows = await conn.execute(select(t.task).where(
            t.task.c.image_id == image_id, _live(utcnow())).order_by(t.task.c.created_at))
        return [render(r._mapping) for r in rows]


def _admin(rt: Runtime, ctx: RequestContext, rule: str) -> None:
    authorize(rt, ctx, "tasks_api_access", {})
    authorize(rt, ctx, rule, {})


async def get_task(rt: Runtime, ctx: RequestContext, task_id: str) -> dict[str, Any]:
    _admin(rt, ctx, "get_task")
    async with rt.db.read() as conn:
        row = (await conn.execute(select(t.task).where(
            t.task.c.id == task_id, _live(utcnow())))).first()
    if row is None:
        raise NotFound(f"Task with the given id {task_id} not found")
    return render(row._mapping)


async def list_tasks(rt: Runtime, ctx: RequestContext, query: Mapping[str, str]
                     ) -> dict[str, Any]:
    """``GET /v2/tasks``: newest first (``sort_key`` created_at/updated_at/status/
    type/id, ``sort_dir``), ``status``/``type`` filters, ``limit``/``marker``."""
    _admin(rt, ctx, "get_tasks")
    q = select(t.task).where(_live(utcnow()))
    for name in ("status", "type"):
        if query.get(name):
            q = q.where(t.task.c[name] == query[name])
    key = query.get("sort_key", "created_at")
    if key not in ("created_at", "updated_at", "status", "type", "id"):
        raise BadRequest(f"Invalid sort key: {key}")
    direction = query.get("sort_dir", "desc")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}")
    limit = _limit(query.get("limit"))
    async with rt.db.read() as conn:
        rows = [r._mapping for r in await conn.execute(q)]
    rows.sort(key=lambda r: (r[key], r["id"]), reverse=direction == "desc")
    if query.get("marker"):
        ids = [r["id"] for r in rows]
        if query["marker"] not in ids:
            raise BadRequest(f"Invalid marker. Task {query['marker']} could not be found.")
        rows = rows[ids.index(query["marker"]) + 1:]
    page = rows[:limit]
    out: dict[str, Any] = {"tasks": [render(r, detail=False) for r in page],
                           "schema": "/v2/schemas/tasks", "first": "/v2/tasks"}
    if len(rows) > limit:
        out["next"] = f"/v2/tasks?marker={page[-1]['id']}&limit={limit}"
    return out


def _limit(raw: str | None) -> int:
    if raw is None:
        return 25
    if not raw.isdigit():
        raise BadRequest(f"Invalid limit {raw!r}: a non-negative integer is required.")
    return min(int(raw), 1000)
