"""``/servers/{id}/tags`` (2.26): list, replace, check, add one, delete one or all."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from nubo.compute.api import validation as v
from nubo.compute.api.servers import load
from nubo.compute.service import server_metadata as meta
from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()
BASE = "/v2.1/servers/{server_id}/tags"
TARGET = "service/compute/server/tags"
TAG = re.compile(r"^[^,/]{1,60}$")
SINCE = "2.26"


def _tag(value: Any, field: str = "tag") -> str:
    if not isinstance(value, str):
        raise v.invalid(field, value, f"{value!r} is not of type 'string'")
    if not TAG.match(value):
        raise v.invalid(field, value, "a tag is 1 to 60 characters without ',' or '/'")
    return value


@router.get(BASE, min_version=SINCE)
async def list_tags(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-tags:index")
    return {"tags": server["tags"]}


@router.put(BASE, min_version=SINCE, target=TARGET)
async def replace_tags(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-tags:update_all")
    body = await req.json()
    if not isinstance(body, dict) or "tags" not in body:
        raise BadRequest(f"Invalid input for field/attribute tags. Value: {body}. 'tags' "
                         "is a required property")
    v.only(body, {"tags"})
    tags = body["tags"]
    if not isinstance(tags, list):
        raise v.invalid("tags", tags, f"{tags!r} is not of type 'array'")
    if len(tags) > meta.MAX_TAGS:
        raise BadRequest(f"The number of tags exceeded the per-server limit {meta.MAX_TAGS}")
    wanted = [_tag(t, "tags") for t in tags]
    return {"tags": await meta.replace_tags(req.rt, req.ctx, server["uuid"], wanted)}


@router.delete(BASE, status=204, min_version=SINCE, target=TARGET)
async def delete_all_tags(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-tags:delete_all")
    await meta.delete_all_tags(req.rt, req.ctx, server["uuid"])
    return None


@router.get(BASE + "/{tag}", status=204, min_version=SINCE)
async def check_tag(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-tags:show")
    tag = req.params["tag"]
    if tag not in server["tags"]:
        raise NotFound(f"Instance {server['uuid']} has no tag '{tag}'")
    return None


@router.put(BASE + "/{tag}", status=201, min_version=SINCE, target=TARGET)
async def add_tag(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-tags:update")
    tag = _tag(req.params["tag"])
    added = await meta.add_tag(req.rt, req.ctx, server["uuid"], tag)
    if not added:
        return empty(204)
    location = (f"{req.rt.settings.public_url}/compute/v2.1/servers/{server['uuid']}/tags/"
                f"{quote(tag, safe='')}")
    return empty(201, {"Location": location})


@router.delete(BASE + "/{tag}", status=204, min_version=SINCE, target=TARGET)
async def delete_tag(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-tags:delete")
    await meta.delete_tag(req.rt, req.ctx, server["uuid"], req.params["tag"])
    return None
