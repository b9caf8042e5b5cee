"""``/servers/{id}/metadata``: a server's user metadata, whole or by key."""

from __future__ import annotations

from nubo.compute.api import validation as v
from nubo.compute.api.servers import load
from nubo.compute.service import server_metadata as meta
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import NotFound

router = Router()
BASE = "/v2.1/servers/{server_id}/metadata"
TARGET = "service/compute/server/metadata"


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
    items = await v.metadata_body(req, "metadata")
    merged = await meta.update_metadata(req.rt, req.ctx, server["uuid"], items,
                                        replace=False)
    return {"metadata": merged}


@router.put(BASE, target=TARGET)
async def replace_metadata(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:update_all")
    items = await v.metadata_body(req, "metadata")
    return {"metadata": await meta.update_metadata(req.rt, req.ctx, server["uuid"], items,
                                                   replace=True)}


@router.put(BASE + "/{key}", target=TARGET)
async def update_metadata_item(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:update")
    key = req.params["key"]
    items = v.single_meta(await v.metadata_body(req, "meta"), key)
    await meta.update_metadata(req.rt, req.ctx, server["uuid"], items, replace=False)
    return {"meta": items}


@router.delete(BASE + "/{key}", status=204, target=TARGET)
async def delete_metadata_item(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:server-metadata:delete")
    await meta.delete_metadata_item(req.rt, req.ctx, server["uuid"], req.params["key"])
    return None
