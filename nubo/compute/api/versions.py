"""Version documents: ``/compute/`` lists v2.0 and v2.1, ``/compute/v2.1`` shows one.

``MICROVERSIONS`` is the one place the served range is declared; raise its maximum
only when every change up to the new version is implemented.
"""

from __future__ import annotations

from typing import Any

from nubo.core.api.microversions import Microversions
from nubo.core.api.routing import ApiRequest, Reply, Router

router = Router()
MICROVERSIONS = Microversions.of("compute", "2.1", "2.90",
                                 legacy_header="X-OpenStack-Nova-API-Version")
MEDIA = [{"base": "application/json",
          "type": "application/vnd.openstack.compute+json;version=2.1"}]


def _version(req: ApiRequest, vid: str) -> dict[str, Any]:
    url = f"{req.rt.settings.public_url}/compute/{vid}/"
    v21 = vid == "v2.1"
    return {
        "id": vid, "status": "CURRENT" if v21 else "SUPPORTED",
        "version": str(MICROVERSIONS.maximum) if v21 else "",
        "min_version": str(MICROVERSIONS.minimum) if v21 else "",
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": url}],
        "media-types": MEDIA,
    }


@router.get("/", public=True)
async def list_versions(req: ApiRequest) -> Reply:
    versions = [_version(req, "v2.0"), _version(req, "v2.1")]
    for v in versions:
        v.pop("media-types")
    return {"versions": versions}


@router.get("/v2.1", public=True)
async def show_version(req: ApiRequest) -> Reply:
    return {"version": _version(req, "v2.1")}


@router.get("/v2.1/", public=True)
async def show_version_slash(req: ApiRequest) -> Reply:
    return {"version": _version(req, "v2.1")}


@router.get("/v2.0", public=True)
async def show_legacy_version(req: ApiRequest) -> Reply:
    """The v2.0 document the version list links to (Tempest follows every link)."""
    return {"version": _version(req, "v2.0")}


@router.get("/v2.0/", public=True)
async def show_legacy_version_slash(req: ApiRequest) -> Reply:
    return {"version": _version(req, "v2.0")}
