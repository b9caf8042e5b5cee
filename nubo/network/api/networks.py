"""``/v2.0/networks``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import networks

router = Router()
TARGET = "service/network/network"
PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
ADMIN_ONLY_VIEW = (*PROVIDER, "segments")
UPDATABLE = ("name", "admin_state_up", "shared", "router:external", "description", "mtu",
             "port_security_enabled", "dns_domain", "is_default", *PROVIDER, "segments")
CREATABLE = (*UPDATABLE, "tenant_id", "project_id", "availability_zone_hints", "tags")


def _check(body: dict[str, Any], *, create: bool) -> None:
    b.only(body, CREATABLE if create else UPDATABLE)
    b.string(body, "name")
    b.string(body, "dns_domain")
    for key in ("admin_state_up", "shared", "router:external", "port_security_enabled",
                "is_default"):
        value = b.boolean(body, key)
        if value is not b.MISSING:
            body[key] = value
    b.integer(body, "mtu", minimum=68)
    b.string_list(body, "availability_zone_hints")
    b.string_list(body, "tags")


def render(req: ApiRequest, net: dict[str, Any]) -> dict[str, Any]:
    """The network with the attributes the caller may not see removed."""
    target = _target(net)
    return {k: v for k, v in net.items()
            if k not in ADMIN_ONLY_VIEW or q.visible_attribute(req, "network", k, target)}


def _target(net: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": net["project_id"], "tenant_id": net["project_id"],
            "shared": net["shared"], "router:external": net["router:external"],
            "id": net["id"]}


@router.get("/v2.0/networks")
async def list_networks(req: ApiRequest) -> Reply:
    req.authorize("get_network", {"project_id": req.ctx.project_id})
    query = q.list_query(req)
    found, more = await networks.list_networks(req.rt, req.ctx, query)
    items = [render(req, n) for n in found]
    return q.page(req, "networks", items, more, query)


@router.get("/v2.0/networks/{network_id}")
async def show_network(req: ApiRequest) -> Reply:
    net = await networks.get_network(req.rt, req.ctx, req.params["network_id"])
    req.authorize("get_network", _target(net))
    return {"network": q.project(render(req, net), q.fields(req))}


@router.post("/v2.0/networks", status=201, target=TARGET)
async def create_network(req: ApiRequest) -> Reply:
    """One network, or several (``{"networks": [...]}``) all or none."""
    bodies, bulk = await b.one_or_many(req, "network", "networks")
    for body in bodies:
        _check(body, create=True)
        project_id = body.get("project_id", body.get("tenant_id", req.ctx.project_id))
        target = {"project_id": project_id, "tenant_id": project_id}
        req.authorize("create_network", target)
        q.authorize_attributes(req, "create", "network", body, target)
    made = await networks.create_networks(req.rt, req.ctx, bodies)
    if bulk:
        return {"networks": [render(req, net) for net in made]}
    return {"network": render(req, made[0])}


@router.put("/v2.0/networks/{network_id}", target=TARGET)
async def update_network(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "network")
    _check(body, create=False)
    current = await networks.get_network(req.rt, req.ctx, req.params["network_id"])
    target = _target(current)
    req.authorize("update_network", target)
    q.authorize_attributes(req, "update", "network", body, target)
    net = await networks.update_network(req.rt, req.ctx, current["id"], body,
                                        if_match=q.if_match(req))
    return {"network": render(req, net)}


@router.delete("/v2.0/networks/{network_id}", status=204, target=TARGET)
async def delete_network(req: ApiRequest) -> Reply:
    current = await networks.get_network(req.rt, req.ctx, req.params["network_id"])
    req.authorize("delete_network", _target(current))
    await networks.delete_network(req.rt, req.ctx, current["id"], if_match=q.if_match(req))
    return empty()
