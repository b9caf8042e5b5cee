"""``/images`` (up to 2.35) and ``/images/{id}/metadata`` (up to 2.38): Nova's proxy
to the image service, removed at those microversions (404 above them).

Every call goes to the image service through ``nubo.compute.clients`` with the
caller's context, so the image service's own visibility and policy decide (as
Glance does behind Nova): an image the caller cannot see is 404, one it may not
change 403. Nova adds no policy rules of its own here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubo.compute import clients
from nubo.compute.api import paging
from nubo.compute.api import validation as v
from nubo.compute.api.server_views import links as server_links
from nubo.compute.service import quotas
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import Forbidden, NotFound

router = Router()
IMAGES_MAX = "2.35"
METADATA_MAX = "2.38"
BASE = "/v2.1/images"
META = BASE + "/{image_id}/metadata"
TARGET = "service/compute/image"

# Nova's images filters -> the image service's (``property-<name>`` passes through)
FILTERS = {"name": "name", "status": "status", "server": "instance_uuid",
           "type": "image_type", "minRam": "min_ram", "minDisk": "min_disk"}
# Glance status -> the status and progress Nova shows
STATUS = {"active": ("ACTIVE", 100), "queued": ("SAVING", 25), "saving": ("SAVING", 50),
          "deleted": ("DELETED", 0), "pending_delete": ("DELETED", 0),
          "killed": ("ERROR", 0)}
TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})


def image_filters(query: Mapping[str, str]) -> dict[str, str]:
    """The image service's filters for Nova's query parameters."""
    out: dict[str, str] = {}
    for key, value in query.items():
        if key in FILTERS:
            out[FILTERS[key]] = value
        elif key.startswith("property-") and len(key) > len("property-"):
            out[key.removeprefix("property-")] = value
        elif key == "changes-since":
            out["updated_at"] = f"gte:{value}"
    if "instance_uuid" in out:              # a server's id or any link to it
        out["instance_uuid"] = out["instance_uuid"].rstrip("/").rsplit("/", 1)[-1]
    if "status" in out:
        out["status"] = out["status"].lower()
    return out


def _links(req: ApiRequest, image_id: str) -> list[dict[str, str]]:
    return [*server_links(req, "images", image_id),
            {"rel": "alternate", "type": "application/vnd.openstack.image",
             "href": f"{req.rt.settings.public_url}/image/images/{image_id}"}]


def brief(req: ApiRequest, image: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": image["id"], "name": image.get("name"),
            "links": _links(req, image["id"])}


def detail(req: ApiRequest, image: Mapping[str, Any]) -> dict[str, Any]:
    """An image as Nova shows it."""
    metadata = clients.image_properties(image)
    status, progress = STATUS.get(str(image.get("status")), ("UNKNOWN", 0))
    out: dict[str, Any] = {
        "id": image["id"], "name": image.get("name"),
        "minRam": int(image.get("min_ram") or 0), "minDisk": int(image.get("min_disk") or 0),
        "metadata": metadata, "created": image.get("created_at"),
        "updated": image.get("updated_at"), "status": status, "progress": progress,
        "OS-EXT-IMG-SIZE:size": image.get("size"), "links": _links(req, image["id"]),
    }
    server = metadata.get("instance_uuid")
    if server is not None:
        out["server"] = {"id": server, "links": server_links(req, "servers", str(server))}
    disk_config = metadata.get("auto_disk_config")
    if disk_config is not None:
        out["OS-DCF:diskConfig"] = ("AUTO" if str(disk_config).strip().lower() in TRUE
                                    else "MANUAL")
    return out


async def _page(req: ApiRequest) -> tuple[list[dict[str, Any]], int]:
    limit = paging.limit(req)
    found = await clients.list_images_page(req.rt, req.ctx, image_filters(req.query),
                                           marker=paging.marker(req), limit=limit)
    return found, limit


def _listing(req: ApiRequest, shown: list[dict[str, Any]], found: list[dict[str, Any]],
             limit: int) -> dict[str, Any]:
    body: dict[str, Any] = {"images": shown}
    more = paging.next_links(req, found, limit, found[-1]["id"] if found else "")
    if more:
        body["images_links"] = more
    return body


@router.get(BASE, max_version=IMAGES_MAX)
async def list_images(req: ApiRequest) -> Reply:
    found, limit = await _page(req)
    return _listing(req, [brief(req, i) for i in found], found, limit)


@router.get(BASE + "/detail", max_version=IMAGES_MAX)
async def list_images_detail(req: ApiRequest) -> Reply:
    found, limit = await _page(req)
    return _listing(req, [detail(req, i) for i in found], found, limit)


async def _image(req: ApiRequest) -> dict[str, Any]:
    try:
        return await clients.show_image(req.rt, req.ctx, req.params["image_id"])
    except NotFound:
        raise NotFound("Image not found.") from None


@router.get(BASE + "/{image_id}", max_version=IMAGES_MAX)
async def show_image(req: ApiRequest) -> Reply:
    return {"image": detail(req, await _image(req))}


@router.delete(BASE + "/", status=204, target=TARGET, max_version=IMAGES_MAX)
async def delete_image_without_id(req: ApiRequest) -> Reply:
    raise NotFound("Image not found.")


@router.delete(BASE + "/{image_id}", status=204, target=TARGET, max_version=IMAGES_MAX)
async def delete_image(req: ApiRequest) -> Reply:
    try:
        await clients.remove_image(req.rt, req.ctx, req.params["image_id"])
    except NotFound:
        raise NotFound("Image not found.") from None
    except Forbidden:
        raise Forbidden("You are not allowed to delete the image.") from None
    return None


# ------------------------------------------------------------------ metadata


async def _check_quota(req: ApiRequest, items: Mapping[str, str]) -> None:
    """Nova holds an image's properties to the project's metadata_items quota."""
    if not items:
        return
    async with req.rt.db.read() as conn:
        limits = await quotas.project_limits(conn, req.rt, req.ctx.project_id or "")
    limit = int(limits.get("metadata_items", req.rt.settings.compute.quota_metadata_items))
    if 0 <= limit < len(items):
        raise Forbidden("Image metadata limit exceeded")


async def _save(req: ApiRequest, properties: Mapping[str, str]) -> dict[str, str]:
    await _check_quota(req, properties)
    try:
        image = await clients.set_image_properties(req.rt, req.ctx, req.params["image_id"],
                                                   properties)
    except NotFound:
        raise NotFound("Image not found.") from None
    except Forbidden:
        raise Forbidden(f"Not authorized for image {req.params['image_id']}.") from None
    return clients.image_properties(image)


async def _metadata(req: ApiRequest) -> dict[str, Any]:
    return clients.image_properties(await _image(req))


@router.get(META, max_version=METADATA_MAX)
async def list_image_metadata(req: ApiRequest) -> Reply:
    return {"metadata": await _metadata(req)}


@router.get(META + "/{key}", max_version=METADATA_MAX)
async def show_image_metadata_item(req: ApiRequest) -> Reply:
    metadata, key = await _metadata(req), req.params["key"]
    if key not in metadata:
        raise NotFound("The resource could not be found.")
    return {"meta": {key: metadata[key]}}


@router.post(META, target=TARGET, max_version=METADATA_MAX)
async def update_image_metadata(req: ApiRequest) -> Reply:
    items = await v.metadata_body(req, "metadata")
    return {"metadata": await _save(req, {**await _metadata(req), **items})}


@router.put(META, target=TARGET, max_version=METADATA_MAX)
async def replace_image_metadata(req: ApiRequest) -> Reply:
    items = await v.metadata_body(req, "metadata")
    await _metadata(req)                     # 404 before the quota's 403
    await _save(req, items)
    return {"metadata": items}


@router.put(META + "/{key}", target=TARGET, max_version=METADATA_MAX)
async def update_image_metadata_item(req: ApiRequest) -> Reply:
    key = req.params["key"]
    items = v.single_meta(await v.metadata_body(req, "meta"), key)
    await _save(req, {**await _metadata(req), **items})
    return {"meta": items}


@router.delete(META + "/{key}", status=204, target=TARGET, max_version=METADATA_MAX)
async def delete_image_metadata_item(req: ApiRequest) -> Reply:
    metadata, key = await _metadata(req), req.params["key"]
    if key not in metadata:
        raise NotFound("Invalid metadata key")
    del metadata[key]
    await _save(req, metadata)
    return None
