"""Discovery: ``/v2/info/import``, ``/v2/info/stores`` and ``/v2/info/usage``.

Only glance-direct is advertised: web-download would fetch from outside this
machine."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
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
