"""``/v2.0/routers``: routers, their interfaces and their static routes."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.api import router_bodies as rb
from nubo.network.service import router_interfaces, routers

router = Router()
TARGET = "service/network/router"
ADMIN_ONLY_VIEW = ("distributed", "ha")


def render(req: ApiRequest, item: dict[str, Any]) -> dict[str, Any]:
    """The router without the attributes the caller may not see."""
    target = _target(item)
    return {k: v for k, v in item.items()
            if k not in ADMIN_ONLY_VIEW or q.visible_attribute(req, "router", k, target)}


def _target(item: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": item["project_id"], "tenant_id": item["project_id"],
            "id": item["id"]}


def _authorize_body(req: ApiRequest, action: str, body: dict[str, Any],
                    target: dict[str, Any]) -> None:
    """The rules of the attributes the body sets, including each key of the gateway
    (``create_router:external_gateway_info:enable_snat``)."""
    q.authorize_attributes(req, action, "router", body, target)
    info = body.get(rb.GW) or {}
    q.authorize_attributes(req, action, f"router:{rb.GW}", info, target)


@router.get("/v2.0/routers")
async def list_routers(req: ApiRequest) -> Reply:
    req.authorize("get_router", {"project_id": req.ctx.project_id})
    query = q.list_query(req)
    found, more = await routers.list_routers(req.rt, req.ctx, query)
    return q.page(req, "routers", [render(req, r) for r in found], more, query)


@router.get("/v2.0/routers/{router_id}")
async def show_router(req: ApiRequest) -> Reply:
    item = await routers.get_router(req.rt, req.ctx, req.params["router_id"])
    req.authorize("get_router", _target(item))
    return {"router": q.project(render(req, item), q.fields(req))}


@router.post("/v2.0/routers", status=201, target=TARGET)
async def create_router(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "router")
    rb.check_router(body, create=True)
    project_id = body.get("project_id", body.get("tenant_id", req.ctx.project_id))
    target = {"project_id": project_id, "tenant_id": project_id}
    req.authorize("create_router", target)
    _authorize_body(req, "create", body, target)
    item = await routers.create_router(req.rt, req.ctx, body)
    return {"router": render(req, item)}


async def _current(req: ApiRequest, action: str) -> dict[str, Any]:
    item = await routers.router_target(req.rt, req.ctx, req.params["router_id"])
    req.authorize(action, _target(item))
    return item


@router.put("/v2.0/routers/{router_id}", target=TARGET)
async def update_router(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "router")
    rb.check_router(body, create=False)
    current = await _current(req, "update_router")
    _authorize_body(req, "update", body, _target(current))
    item = await routers.update_router(req.rt, req.ctx, current["id"], body,
                                       if_match=q.if_match(req))
    return {"router": render(req, item)}


@router.delete("/v2.0/routers/{router_id}", status=204, target=TARGET)
async def delete_router(req: ApiRequest) -> Reply:
    current = await _current(req, "delete_router")
    await routers.delete_router(req.rt, req.ctx, current["id"], if_match=q.if_match(req))
    return empty()


@router.put("/v2.0/routers/{router_id}/add_router_interface", target=TARGET)
async def add_router_interface(req: ApiRequest) -> Reply:
    info = rb.interface_info(await req.json(), removal=False)
    current = await _current(req, "add_router_interface")
    return await router_interfaces.add_router_interface(req.rt, req.ctx, current["id"], info)


@router.put("/v2.0/routers/{router_id}/remove_router_interface", target=TARGET)
async def remove_router_interface(req: ApiRequest) -> Reply:
    info = rb.interface_info(await req.json(), removal=True)
    current = await _current(req, "remove_router_interface")
    return await router_interfaces.remove_router_interface(req.rt, req.ctx, current["id"],
                                                           info)


@router.put("/v2.0/routers/{router_id}/add_extraroutes", target=TARGET)
async def add_extraroutes(req: ApiRequest) -> Reply:
    routes = rb.routes_body(await req.json())
    current = await _current(req, "add_extraroutes")
    item = await routers.change_routes(req.rt, req.ctx, current["id"], routes, add=True)
    return {"router": render(req, item)}


@router.put("/v2.0/routers/{router_id}/remove_extraroutes", target=TARGET)
async def remove_extraroutes(req: ApiRequest) -> Reply:
    routes = rb.routes_body(await req.json())
    current = await _current(req, "remove_extraroutes")
    item = await routers.change_routes(req.rt, req.ctx, current["id"], routes, add=False)
    return {"router": render(req, item)}
