"""``/v2/images``: create, list, show, update (JSON patch), delete, deactivate,
reactivate and tags. Policy is enforced in the service functions, so the
in-process callers get the same checks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound
from nubo.image.api import patch
from nubo.image.service import images, listing
from nubo.image.service.data import IMPORT_METHODS
from nubo.image.service.records import STORE_ID

router = Router()
IMAGE = "service/image/image"
DEFAULT_LIMIT = 25
MAX_LIMIT = 1000


@router.post("/v2/images", status=201, target=IMAGE)
async def create_image(req: ApiRequest) -> Reply:
    body = await req.json()
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    image = await images.create_image(req.rt, req.ctx, body)
    # as Glance: how the new image's data may arrive, and where it can be stored
    return JSONResponse(image, status_code=201, headers={
        "OpenStack-image-import-methods": ",".join(IMPORT_METHODS),
        "OpenStack-image-store-ids": STORE_ID})


def _limit(req: ApiRequest) -> int:
    raw = req.query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit():
        raise BadRequest("limit param must be an integer")
    return min(int(raw), MAX_LIMIT)


def _next_link(req: ApiRequest, marker: str) -> str:
    params = [(k, v) for k, v in req.query.multi_items() if k != "marker"]
    return f"/v2/images?{urlencode([*params, ('marker', marker)])}"


@router.get("/v2/images")
async def list_images(req: ApiRequest) -> Reply:
    limit = _limit(req)
    found = await images.list_images(req.rt, req.ctx, req.query)
    shown, more = listing.page(found, req.query.get("marker"), limit)
    body: dict[str, Any] = {"images": shown, "first": "/v2/images",
                            "schema": "/v2/schemas/images"}
    if more and shown:
        body["next"] = _next_link(req, shown[-1]["id"])
    return body


@router.get("/v2/images/")
async def show_image_without_id(req: ApiRequest) -> Reply:
    raise NotFound("An image id is required.")


@router.delete("/v2/images/")
async def delete_image_without_id(req: ApiRequest) -> Reply:
    raise NotFound("An image id is required.")


@router.get("/v2/images/{image_id}")
async def show_image(req: ApiRequest) -> Reply:
    return await images.get_image(req.rt, req.ctx, req.params["image_id"])


@router.patch("/v2/images/{image_id}", target=IMAGE)
async def update_image(req: ApiRequest) -> Reply:
    add_replaces = patch.check_media_type(req.headers.get("content-type", ""))
    changes = patch.parse(await req.json())
    return await images.update_image(req.rt, req.ctx, req.params["image_id"], changes,
                                     add_replaces=add_replaces)


@router.delete("/v2/images/{image_id}", status=204, target=IMAGE)
async def delete_image(req: ApiRequest) -> Reply:
    await images.delete_image(req.rt, req.ctx, req.params["image_id"])
    return None


@router.post("/v2/images/{image_id}/actions/deactivate", status=204, target=IMAGE)
async def deactivate_image(req: ApiRequest) -> Reply:
    await images.deactivate_image(req.rt, req.ctx, req.params["image_id"])
    return None


@router.post("/v2/images/{image_id}/actions/reactivate", status=204, target=IMAGE)
async def reactivate_image(req: ApiRequest) -> Reply:
    await images.reactivate_image(req.rt, req.ctx, req.params["image_id"])
    return None


@router.put("/v2/images/{image_id}/tags/{tag}", status=204, target=IMAGE)
async def add_tag(req: ApiRequest) -> Reply:
    await images.set_tag(req.rt, req.ctx, req.params["image_id"], req.params["tag"],
                         present=True)
    return None


@router.delete("/v2/images/{image_id}/tags/{tag}", status=204, target=IMAGE)
async def delete_tag(req: ApiRequest) -> Reply:
    await images.set_tag(req.rt, req.ctx, req.params["image_id"], req.params["tag"],
                         present=False)
    return None
