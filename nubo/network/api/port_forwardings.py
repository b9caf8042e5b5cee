"""``/v2.0/floatingips/{floatingip_id}/port_forwardings``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.network import port_ranges
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.ipam import address_reason
from nubo.network.service import floating_ips, port_forwardings

router = Router()
TARGET = "service/network/port_forwarding"
BASE = "/v2.0/floatingips/{floatingip_id}/port_forwardings"
UPDATABLE = ("protocol", "internal_ip_address", "internal_port", "internal_port_id",
             "external_port", "internal_port_range", "external_port_range", "description")
REQUIRED = ("internal_port_id", "internal_ip_address", "protocol")


def _check(body: dict[str, Any], *, create: bool) -> None:
    b.only(body, (*UPDATABLE, "project_id", "tenant_id") if create else UPDATABLE)
    for key in REQUIRED if create else ():
        if key not in body:
            raise BadRequest(f"Failed to parse request. Required attribute '{key}' not "
                             "specified", type="HTTPBadRequest")
    b.uuid_value(body, "internal_port_id")
    if "internal_ip_address" in body:
        reason = address_reason(body["internal_ip_address"])
        if reason:
            raise b.invalid("internal_ip_address", reason)
    if "protocol" in body:
        body["protocol"] = port_ranges.protocol(body["protocol"])
    b.string(body, "description", nullable=True)


async def _parent(req: ApiRequest, action: str) -> dict[str, Any]:
    """The floating IP (404 if the caller may not see it), with the policy checked."""
    fip = await floating_ips.get_floatingip(req.rt, req.ctx, req.params["floatingip_id"])
    req.authorize(action, {"project_id": fip["project_id"],
                           "ext_parent_owner_id": fip["project_id"]})
    return fip


@router.get(BASE)
async def list_port_forwardings(req: ApiRequest) -> Reply:
    fip = await _parent(req, "get_floatingip_port_forwarding")
    query = q.list_query(req)
    found, more = await port_forwardings.list_port_forwardings(req.rt, req.ctx, fip["id"],
                                                               query)
    return q.page(req, "port_forwardings", found, more, query)


@router.get(BASE + "/{port_forwarding_id}")
async def show_port_forwarding(req: ApiRequest) -> Reply:
    fip = await _parent(req, "get_floatingip_port_forwarding")
    item = await port_forwardings.get_port_forwarding(req.rt, req.ctx, fip["id"],
                                                      req.params["port_forwarding_id"])
    return {"port_forwarding": q.project(item, q.fields(req))}


@router.post(BASE, status=201, target=TARGET)
async def create_port_forwarding(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "port_forwarding")
    _check(body, create=True)
    fip = await _parent(req, "create_floatingip_port_forwarding")
    item = await port_forwardings.create_port_forwarding(req.rt, req.ctx, fip["id"], body)
    return {"port_forwarding": item}


@router.put(BASE + "/{port_forwarding_id}", target=TARGET)
async def update_port_forwarding(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "port_forwarding")
    _check(body, create=False)
    fip = await _parent(req, "update_floatingip_port_forwarding")
    item = await port_forwardings.update_port_forwarding(
        req.rt, req.ctx, fip["id"], req.params["port_forwarding_id"], body)
    return {"port_forwarding": item}


@router.delete(BASE + "/{port_forwarding_id}", status=204, target=TARGET)
async def delete_port_forwarding(req: ApiRequest) -> Reply:
    fip = await _parent(req, "delete_floatingip_port_forwarding")
    await port_forwardings.delete_port_forwarding(req.rt, req.ctx, fip["id"],
                                                  req.params["port_forwarding_id"])
    return empty()
