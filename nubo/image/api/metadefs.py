"""``/v2/metadefs``: metadata definition namespaces and their objects, properties,
tags and resource-type associations; and the resource types."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.image.service import metadefs

router = Router()
NS = "/v2/metadefs/namespaces/{namespace}"
TARGET = "service/image/metadef"
# URL segment -> item kind, and the key of a list of them
SEGMENTS = {"objects": ("object", "objects"), "properties": ("property", "properties"),
            "tags": ("tag", "tags"), "resource_types": ("resource_type",
                                                        "resource_type_associations")}


async def _body(req: ApiRequest) -> dict[str, Any]:
    body = await req.json()
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


@router.get("/v2/metadefs/namespaces")
async def list_namespaces(req: ApiRequest) -> Reply:
    found = await metadefs.list_namespaces(req.rt, req.ctx, req.query)
    return {"namespaces": found, "first": "/v2/metadefs/namespaces",
            "schema": "/v2/schemas/metadefs/namespaces"}


@router.post("/v2/metadefs/namespaces", status=201, target=TARGET)
async def create_namespace(req: ApiRequest) -> Reply:
    return await metadefs.create_namespace(req.rt, req.ctx, await _body(req))


@router.get(NS)
async def show_namespace(req: ApiRequest) -> Reply:
    return await metadefs.get_namespace(req.rt, req.ctx, req.params["namespace"])


@router.put(NS, target=TARGET)
async def update_namespace(req: ApiRequest) -> Reply:
    return await metadefs.update_namespace(req.rt, req.ctx, req.params["namespace"],
                                           await _body(req))


@router.delete(NS, status=204, target=TARGET)
async def delete_namespace(req: ApiRequest) -> Reply:
    await metadefs.delete_namespace(req.rt, req.ctx, req.params["namespace"])
    return None


@router.get("/v2/metadefs/resource_types")
async def list_resource_types(req: ApiRequest) -> Reply:
    return {"resource_types": await metadefs.list_resource_types(req.rt, req.ctx)}


def _collection(segment: str) -> None:
    kind, key = SEGMENTS[segment]

    async def list_(req: ApiRequest) -> Reply:
        found = await metadefs.list_items(req.rt, req.ctx, req.params["namespace"], kind)
        if kind == "property":
            return {"properties": {p["name"]: p for p in found}}
        body: dict[str, Any] = {key: found}
        if kind == "object":
            body["schema"] = "v2/schemas/metadefs/objects"
        return body

    async def create(req: ApiRequest) -> Reply:
        body = await _body(req)
        if kind == "tag":
            tags = await metadefs.replace_tags(req.rt, req.ctx, req.params["namespace"],
                                               body.get("tags"))
            return {"tags": tags}
        return await metadefs.create_item(req.rt, req.ctx, req.params["namespace"], kind, body)

    async def delete_all(req: ApiRequest) -> Reply:
        await metadefs.delete_items(req.rt, req.ctx, req.params["namespace"], kind)
        return None

    router.get(f"{NS}/{segment}")(list_)
    router.post(f"{NS}/{segment}", status=201, target=TARGET)(create)
    if kind != "resource_type":
        router.delete(f"{NS}/{segment}", status=204, target=TARGET)(delete_all)


def _member(segment: str) -> None:
    kind, _ = SEGMENTS[segment]

    async def show(req: ApiRequest) -> Reply:
        return await metadefs.get_item(req.rt, req.ctx, req.params["namespace"], kind,
                                       req.params["name"])

    async def update(req: ApiRequest) -> Reply:
        return await metadefs.update_item(req.rt, req.ctx, req.params["namespace"], kind,
                                          req.params["name"], await _body(req))

    async def create_one(req: ApiRequest) -> Reply:
        return await metadefs.create_item(req.rt, req.ctx, req.params["namespace"], kind,
                                          {"name": req.params["name"]})

    async def delete_one(req: ApiRequest) -> Reply:
        await metadefs.delete_items(req.rt, req.ctx, req.params["namespace"], kind,
                                    req.params["name"])
        return None

    path = f"{NS}/{segment}/{{name}}"
    router.delete(path, status=204, target=TARGET)(delete_one)
    if kind == "resource_type":
        return
    router.get(path)(show)
    router.put(path, target=TARGET)(update)
    if kind == "tag":
        router.post(path, status=201, target=TARGET)(create_one)


for _segment in SEGMENTS:
    _collection(_segment)
    _member(_segment)
