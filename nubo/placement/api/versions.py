"""The version document at ``/placement/`` (public, as in the reference)."""

from __future__ import annotations

from nubo.core.api.microversions import Microversions
from nubo.core.api.routing import ApiRequest, Reply, Router

router = Router()
MICROVERSIONS = Microversions.of("placement", "1.0", "1.39")


@router.get("/", public=True)
async def list_versions(req: ApiRequest) -> Reply:
    url = f"{req.rt.settings.public_url}/placement/"
    return {"versions": [{
        "id": "v1.0", "status": "CURRENT",
        "min_version": str(MICROVERSIONS.minimum), "max_version": str(MICROVERSIONS.maximum),
        "links": [{"rel": "self", "href": url}],
    }]}
