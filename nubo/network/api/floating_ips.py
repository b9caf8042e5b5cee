"""``/v2.0/floatingips``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.extensions import by_alias
from nubo.network.ipam import address_reason
from nubo.network.service import floating_ips

router = Router()
TARGET = "service/network/floatingip"
UPDATABLE = ("port_id", "fixed_ip_address", "description")
CREATABLE = (*UPDATABLE, "floating_network_id", "subnet_id", "floating_ip_address",
             "tenant_id", "project_id", "tags")
DNS = ("dns_name", "dns_domain")


def _dns() -> bool:
    """Whether floating IPs carry DNS names (the ``dns-integration`` extension)."""
    return "dns-integration" in by_alias()


def _check(body: dict[str, Any], *, create: bool) -> None:
    allowed = CREATABLE if create else UPDATABLE
    b.only(body, (*allowed, *DNS) if create and _dns() else allowed)
    if create:
        if "floating_network_id" not in body:
            raise BadRequest("Failed to parse request. Required attribute "
                             "'floating_network_id' not specified", type="HTTPBadRequest")
        b.uuid_value(body, "floating_network_id")
        b.uuid_value(body, "subnet_id", nullable=True)
        _address(body, "floating_ip_address")
        b.string_list(body, "tags")
        for key in DNS:
            b.string(body, key)
    b.uuid_value(body, "port_id", nullable=True)
    _address(body, "fixed_ip_address")


def _address(body: dict[str, Any], key: str) -> None:
    value = body.get(key)
    if value is not None:
        reason = address_reason(value)
        if reason:
            raise b.invalid(key, reason)


def _target(item: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": item["project_id"], "tenant_id": item["project_id"],
            "id": item["id"]}


@router.get("/v2.0/floatingips")
async def list_floatingips(req: ApiRequest) -> Reply:
    req.authorize("get_floatingip", {"project_id": req.ctx.project_id})
    query = q.list_query(req)
    found, more = await floating_ips.list_floatingips(req.rt, req.ctx, query, dns=_dns())
    return q.page(req, "floatingips", found, more, query)


@router.get("/v2.0/floatingips/{floatingip_id}")
async def show_floatingip(req: ApiRequest) -> Reply:
    item = await floating_ips.get_floatingip(req.rt, req.ctx, req.params["floatingip_id"],
                                             dns=_dns())
    req.authorize("get_floatingip", _target(item))
    return {"floatingip": q.project(item, q.fields(req))}


@router.post("/v2.0/floatingips", status=201, target=TARGET)
async def create_floatingip(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "floatingip")
    _check(body, create=True)
    project_id = body.get("project_id", body.get("tenant_id", req.ctx.project_id))
    target = {"project_id": project_id, "tenant_id": project_id}
    req.authorize("create_floatingip", target)
    q.authorize_attributes(req, "create", "floatingip",
                           [k for k, v in body.items() if v is not None], target)
    item = await floating_ips.create_floatingip(req.rt, req.ctx, body, dns=_dns())
    return {"floatingip": item}


async def _current(req: ApiRequest, action: str) -> dict[str, Any]:
    item = await floating_ips.get_floatingip(req.rt, req.ctx, req.params["floatingip_id"])
    req.authorize(action, _target(item))
    return item


@router.put("/v2.0/floatingips/{floatingip_id}", target=TARGET)
async def update_floatingip(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "floatingip")
    _check(body, create=False)
    current = await _current(req, "update_floatingip")
    item = await floating_ips.update_floatingip(req.rt, req.ctx, current["id"], body,
                                                if_match=q.if_match(req), dns=_dns())
    return {"floatingip": item}


@router.delete("/v2.0/floatingips/{floatingip_id}", status=204, target=TARGET)
async def delete_floatingip(req: ApiRequest) -> Reply:
    current = await _current(req, "delete_floatingip")
    await floating_ips.delete_floatingip(req.rt, req.ctx, current["id"],
                                         if_match=q.if_match(req))
    return empty()
