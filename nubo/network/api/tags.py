"""``/v2.0/{collection}/{id}/tags``: tags of every taggable resource.

A resource is taggable when it is in ``TAGGABLE``: its singular name (for the
``get_<resource>`` / ``update_<resource>`` rules that guard its tags), its table,
and the function that loads it as the caller may see it (404 otherwise).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.auth.context import RequestContext
from nubo.core.errors import BadRequest, NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.service import (
    floating_ips,
    networks,
    port_queries,
    routers,
    security_groups,
    segments,
    standard,
    subnetpools,
    subnets,
)

router = Router()
TARGET = "service/network/tag"
Getter = Callable[[Runtime, RequestContext, str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Taggable:
    resource: str
    table: Table
    get: Getter


TAGGABLE: dict[str, Taggable] = {
    "networks": Taggable("network", t.networks, networks.get_network),
    "routers": Taggable("router", t.routers, routers.get_router),
    "floatingips": Taggable("floatingip", t.floating_ips,
                            floating_ips.get_floatingip),
    "subnets": Taggable("subnet", t.subnets, subnets.get_target),
    "subnetpools": Taggable("subnetpool", t.subnetpools, subnetpools.get_subnetpool),
    "segments": Taggable("segment", t.network_segments, segments.get_segment),
    "ports": Taggable("port", t.ports, port_queries.get_target),
    "security-groups": Taggable("security_group", t.security_groups,
                                security_groups.get_security_group),
}


async def _resource(req: ApiRequest, action: str) -> tuple[str, Taggable, dict[str, Any]]:
    collection = req.params["collection"]
    kind = TAGGABLE.get(collection)
    if kind is None:
        raise NotFound(f"The resource could not be found: {collection} has no tags",
                       type="HTTPNotFound")
    item = await kind.get(req.rt, req.ctx, req.params["resource_id"])
    req.authorize(f"{action}_{kind.resource}", item)
    return collection, kind, item


@router.get("/v2.0/{collection}/{resource_id}/tags")
async def list_tags(req: ApiRequest) -> Reply:
    collection, _, item = await _resource(req, "get")
    async with req.rt.db.read() as conn:
        found = await standard.tags_of(conn, collection, [item["id"]])
    return {"tags": found[item["id"]]}


@router.get("/v2.0/{collection}/{resource_id}/tags/{tag}")
async def show_tag(req: ApiRequest) -> Reply:
    collection, _, item = await _resource(req, "get")
    async with req.rt.db.read() as conn:
        found = await standard.tags_of(conn, collection, [item["id"]])
    if req.params["tag"] not in found[item["id"]]:
        raise NotFound(f"Tag {req.params['tag']} could not be found.", type="TagNotFound")
    return empty()


@router.put("/v2.0/{collection}/{resource_id}/tags", target=TARGET)
async def replace_tags(req: ApiRequest) -> Reply:
    collection, kind, item = await _resource(req, "update")
    body = await req.json()
    if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
        raise BadRequest("Invalid input for tags: a list is required.", type="HTTPBadRequest")
    async with req.rt.db.transaction() as tx:
        tags = await standard.replace_tags(tx, collection, item["id"], body["tags"])
        await standard.touch(tx, kind.table, item["id"])
    return {"tags": tags}


@router.put("/v2.0/{collection}/{resource_id}/tags/{tag}", status=201, target=TARGET)
async def add_tag(req: ApiRequest) -> Reply:
    collection, kind, item = await _resource(req, "update")
    async with req.rt.db.transaction() as tx:
        if await standard.add_tag(tx, collection, item["id"], req.params["tag"]):
            await standard.touch(tx, kind.table, item["id"])
    return empty(201)


@router.delete("/v2.0/{collection}/{resource_id}/tags", status=204, target=TARGET)
async def delete_tags(req: ApiRequest) -> Reply:
    collection, kind, item = await _resource(req, "update")
    async with req.rt.db.transaction() as tx:
        await standard.replace_tags(tx, collection, item["id"], [])
        await standard.touch(tx, kind.table, item["id"])
    return empty()


@router.delete("/v2.0/{collection}/{resource_id}/tags/{tag}", status=204, target=TARGET)
async def delete_tag(req: ApiRequest) -> Reply:
    collection, kind, item = await _resource(req, "update")
    async with req.rt.db.transaction() as tx:
        await standard.remove_tag(tx, collection, item["id"], req.params["tag"])
        await standard.touch(tx, kind.table, item["id"])
    return empty()
