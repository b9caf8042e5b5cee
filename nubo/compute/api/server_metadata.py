"""``/servers/{id}/metadata``: a server's user metadata, whole or by key."""

from __future__ import annotations

import re
from typing import Any

from nubo.compute.api import validation as v
from nubo.compute.api.servers import load
from nubo.compute.service import server_metadata as meta
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()
BASE = "/v2.1/servers/{server_id}/metadata"
TARGET = "service/compute/server/metadata"
KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


def _items(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise v.invalid(field, value, f"{value!r} is not of type 'object'")
    for key, item in value.items():
        if not KEY.match(key):
            raise v.invalid(field, value, "Additional properties are not allowed "
                                          f"({key!r} was unexpected)")
        if not isinstance(item, str):
            raise v.invalid(f"{field}/{key}", item, f"{item!r} is not of type 'string'")
        if len(item) > 255:
            raise v.invalid(f"{field}/{key}", item, f"{item!r} is too long")
    return dict(value)


async def _body(req: ApiRequest, key: str) -> dict[str, str]:
    body = await req.json()
    if not isinstance(body, dict) or key not in body:
        raise BadRequest(f"Invalid input for field/attribute {key}. Value: {body}. "
                         f"'{key}' is a required property")
    v.only(body, {key})
    return _items(body[key], key)


@router.get(BASE)
async def list_metadata(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:index")
    return {"metadata": server["metadata"]}


@router.get(BASE + "/{key}")
async def show_metadata_item(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:show")
    key = req.params["key"]
    if key not in server["metadata"]:
        raise NotFound("Metadata item was not found")
    return {"meta": {key: server["metadata"][key]}}


@router.post(BASE, target=TARGET)
async def update_metadata(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:create")
    items = await _body(req, "metadata")
    merged = await meta.update_metadata(req.rt, req.ctx, server["uuid"], items,
                                        replace=False)
    return {"metadata": merged}


@router.put(BASE, target=TARGET)
async def replace_metadata(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:update_all")
    items = await _body(req, "metadata")
    return {"metadata": await meta.update_metadata(req.rt, req.ctx, server["uuid"], items,
                                                   replace=True)}


@router.put(BASE + "/{key}", target=TARGET)
async def update_metadata_item(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:update")
    key = req.params["key"]
    items = await _body(req, "meta")
    if len(items) != 1:
        raise BadRequest("Invalid input for field/attribute meta. Value: "
                         f"{items}. {items!r} should have exactly 1 property")
    if key not in items:
        raise BadRequest("Request body and URI mismatch")
    await meta.update_metadata(req.rt, req.ctx, server["uuid"], items, replace=False)
    return {"meta": items}


@router.delete(BASE + "/{key}", status=204, target=TARGET)
async def delete_metadata_item(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:delete")
    await meta.delete_metadata_item(req.rt, req.ctx, server["uuid"], req.params["key"])
    return None
