"""``/resource_classes`` (1.2)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.placement.api import bodies
from nubo.placement.service import resource_classes

router = Router()
TARGET = "service/placement/resource_class"


def render(name: str) -> dict[str, Any]:
    return {"name": name,
            "links": [{"rel": "self", "href": f"/placement/resource_classes/{name}"}]}


def _location(req: ApiRequest, name: str) -> dict[str, str]:
    return {"location": f"{req.rt.settings.public_url}/placement/resource_classes/{name}"}


@router.get("/resource_classes", min_version="1.2")
async def list_resource_classes(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_classes:list")
    names = await resource_classes.list_resource_classes(req.rt)
    return bodies.reply(req, {"resource_classes": [render(n) for n in names]})


@router.post("/resource_classes", target=TARGET, min_version="1.2")
async def create_resource_class(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_classes:create")
    body = await bodies.body_object(req)
    bodies.only(body, ["name"], ["name"])
    name = str(bodies.string(body, "name"))
    await resource_classes.create_resource_class(req.rt, name)
    return bodies.reply(req, None, status=201, headers=_location(req, name))


@router.get("/resource_classes/{name}", min_version="1.2")
async def show_resource_class(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_classes:show")
    return bodies.reply(req, render(await resource_classes.get_resource_class(
        req.rt, req.params["name"])))


@router.put("/resource_classes/{name}", target=TARGET, min_version="1.2")
async def update_resource_class(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_classes:update")
    name = req.params["name"]
    if req.at_least("1.7"):
        made = await resource_classes.create_resource_class(req.rt, name, exist_ok=True)
        return bodies.reply(req, None, status=201 if made else 204,
                            headers=_location(req, name) if made else None)
    body = await bodies.body_object(req)
    bodies.only(body, ["name"], ["name"])
    new = str(bodies.string(body, "name"))
    await resource_classes.rename_resource_class(req.rt, name, new)
    return bodies.reply(req, render(new))


@router.delete("/resource_classes/{name}", target=TARGET, min_version="1.2")
async def delete_resource_class(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_classes:delete")
    await resource_classes.delete_resource_class(req.rt, req.params["name"])
    return None
