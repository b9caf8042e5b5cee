"""Tasks: an image's import tasks (``GET /v2/images/{id}/tasks``, 2.12, whoever may
see the image) and, for admins, ``GET /v2/tasks`` and ``GET /v2/tasks/{id}``. The
older ``POST /v2/tasks`` (an ``import`` from a URL, deprecated and admin-only in
Glance) is refused with 400, as newer Glance refuses an ``import_from`` it will not
fetch: this cloud fetches nothing from outside (no web-download either);
interoperable import (``/v2/images/{id}/import``) replaces it."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.image.service import tasks
from nubo.image.service.access import authorize

router = Router()


@router.get("/v2/images/{image_id}/tasks")
async def image_tasks(req: ApiRequest) -> Reply:
    return {"tasks": await tasks.of_image(req.rt, req.ctx, req.params["image_id"])}


@router.get("/v2/tasks")
async def list_tasks(req: ApiRequest) -> Reply:
    return await tasks.list_tasks(req.rt, req.ctx, dict(req.query.items()))


@router.get("/v2/tasks/{task_id}")
async def show_task(req: ApiRequest) -> Reply:
    return await tasks.get_task(req.rt, req.ctx, req.params["task_id"])


@router.post("/v2/tasks", status=201, target="service/image/task")
async def create_task(req: ApiRequest) -> Reply:
    authorize(req.rt, req.ctx, "tasks_api_access", {})
    authorize(req.rt, req.ctx, "add_task", {"project_id": req.ctx.project_id or ""})
    body = await req.json()
    kind = body.get("type") if isinstance(body, dict) else None
    raise BadRequest(f"Task type {kind!r} is not supported here: use the interoperable "
                     "image import (glance-direct).")
