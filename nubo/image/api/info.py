"""Discovery: ``/v2/info/import``, ``/v2/info/stores`` and the task list.

Only glance-direct is advertised: web-download would fetch from outside this
machine. Import tasks run inside the API process and leave no task records, so
``/v2/tasks`` lists none (admins only, as Glance's tasks API)."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound
from nubo.image.service import quotas
from nubo.image.service.access import authorize
from nubo.image.service.data import IMPORT_METHODS
from nubo.image.service.records import STORE_ID

router = Router()


@router.get("/v2/info/import")
async def show_import_info(req: ApiRequest) -> Reply:
    return {"import-methods": {"description": "Import methods available.",
                               "type": "array", "value": list(IMPORT_METHODS)}}


@router.get("/v2/info/stores")
async def list_stores(req: ApiRequest) -> Reply:
    return {"stores": [{"id": STORE_ID, "description": "The filesystem store",
                        "default": True}]}


@router.get("/v2/info/usage")
async def show_usage(req: ApiRequest) -> Reply:
    """The caller's project quotas with their usage (Glance 2.9+)."""
    project = req.ctx.project_id
    if not project:
        raise BadRequest("Quota usage needs a project-scoped token.")
    authorize(req.rt, req.ctx, "get_images", {"project_id": project, "owner": project})
    return {"usage": await quotas.usage(req.rt, project)}


@router.get("/v2/tasks")
async def list_tasks(req: ApiRequest) -> Reply:
    authorize(req.rt, req.ctx, "get_tasks", {"project_id": req.ctx.project_id or ""})
    return {"tasks": [], "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}


@router.post("/v2/tasks", status=201, target="service/image/task")
async def create_task(req: ApiRequest) -> Reply:
    """Tasks import from a URI, which would reach outside this machine: refused."""
    authorize(req.rt, req.ctx, "add_task", {"project_id": req.ctx.project_id or ""})
    body = await req.json()
    kind = body.get("type") if isinstance(body, dict) else None
    raise BadRequest(f"Task type {kind!r} is not supported here: use the interoperable "
                     "image import (glance-direct).")


@router.get("/v2/tasks/{task_id}")
async def show_task(req: ApiRequest) -> Reply:
    authorize(req.rt, req.ctx, "get_task", {"project_id": req.ctx.project_id or ""})
    raise NotFound(f"Task with the given id {req.params['task_id']} was not found")
