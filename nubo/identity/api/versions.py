"""Version documents: ``/identity`` (300 Multiple Choices) and ``/identity/v3``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router

router = Router()
UPDATED = "2024-04-16T00:00:00Z"
MEDIA = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def v3(req: ApiRequest) -> dict[str, Any]:
    url = f"{req.rt.settings.public_url}/identity/v3/"
    return {"id": "v3.14", "status": "stable", "updated": UPDATED, "media-types": MEDIA,
            "links": [{"rel": "self", "href": url}]}


@router.get("/", public=True)
async def list_versions(req: ApiRequest) -> Reply:
    return JSONResponse({"versions": {"values": [v3(req)]}}, status_code=300)


@router.get("/v3", public=True)
async def show_v3(req: ApiRequest) -> Reply:
    return {"version": v3(req)}


@router.get("/v3/", public=True)
async def show_v3_slash(req: ApiRequest) -> Reply:
    return {"version": v3(req)}
