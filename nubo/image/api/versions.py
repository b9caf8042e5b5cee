"""Version documents: ``/image/`` and ``/image/versions`` (300 Multiple Choices)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router

router = Router()
# the newest first; the minor versions Glance v2 has had
SERVED = ("2.16", "2.15", "2.12", "2.9", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0")


def _versions(req: ApiRequest) -> dict[str, Any]:
    url = f"{req.rt.settings.public_url}/image/v2/"
    return {"versions": [
        {"id": f"v{v}", "status": "CURRENT" if i == 0 else "SUPPORTED",
         "links": [{"rel": "self", "href": url}]}
        for i, v in enumerate(SERVED)
    ]}


@router.get("/", public=True)
async def list_versions(req: ApiRequest) -> Reply:
    return JSONResponse(_versions(req), status_code=300)


@router.get("/versions", public=True)
async def list_versions_200(req: ApiRequest) -> Reply:
    return _versions(req)
