"""``/v2.0/address-groups``, with the ``add_addresses`` and ``remove_addresses`` actions."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import address_groups

router = Router()
TARGET = "service/network/address_group"
PATH = "/v2.0/address-groups"
UPDATABLE = ("name", "description")
CREATABLE = (*UPDATABLE, "tenant_id", "project_id", "addresses")


def _check(body: dict[str, Any], *, create: bool) -> None:
    if not create:
        b.forbid_update(body, ("addresses", "project_id", "tenant_id"), "address_group")
    b.only(body, CREATABLE if create else UPDATABLE)
    b.string(body, "name")
    b.string(body, "description", nullable=True)
    b.string(body, "project_id")
    b.string(body, "tenant_id")


def target(group: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": group["project_id"], "tenant_id": group["project_id"],
            "shared": group["shared"], "id": group["id"]}


def _render(group: dict[str, Any]) -> dict[str, Any]:
    """Neutron does not show ``shared`` (it only feeds the policy)."""
    return {k: v for k, v in group.items() if k != "shared"}


@router.get(PATH)
async def list_address_groups(req: ApiRequest) -> Reply:
    req.authorize("get_address_group", {"project_id": req.ctx.project_id, "shared": False})
    query = q.list_query(req)
    found, more = await address_groups.list_address_groups(req.rt, req.ctx, query)
    return q.page(req, "address_groups", [_render(g) for g in found], more, query)


@router.get(PATH + "/{group_id}")
async def show_address_group(req: ApiRequest) -> Reply:
    group = await address_groups.get_address_group(req.rt, req.ctx, req.params["group_id"])
    req.authorize("get_address_group", target(group))
    return {"address_group": q.project(_render(group), q.fields(req))}


@router.post(PATH, status=201, target=TARGET)
async def create_address_group(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "address_group")
    _check(body, create=True)
    project_id = body.get("project_id", body.get("tenant_id", req.ctx.project_id))
    req.authorize("create_address_group", {"project_id": project_id, "tenant_id": project_id})
    group = await address_groups.create_address_group(req.rt, req.ctx, body)
    return {"address_group": _render(group)}


@router.put(PATH + "/{group_id}", target=TARGET)
async def update_address_group(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "address_group")
    _check(body, create=False)
    current = await address_groups.get_address_group(req.rt, req.ctx, req.params["group_id"])
    req.authorize("update_address_group", target(current))
    group = await address_groups.update_address_group(req.rt, req.ctx, current["id"], body,
                                                      if_match=q.if_match(req))
    return {"address_group": _render(group)}


async def _addresses(req: ApiRequest) -> Any:
    body = await req.json()
    if not isinstance(body, dict) or "addresses" not in body:
        raise BadRequest("Failed to parse request. Required attribute 'addresses' not "
                         "specified", type="HTTPBadRequest")
    return body["addresses"]


@router.put(PATH + "/{group_id}/add_addresses", target=TARGET)
async def add_addresses(req: ApiRequest) -> Reply:
    addresses = await _addresses(req)
    current = await address_groups.get_address_group(req.rt, req.ctx, req.params["group_id"])
    req.authorize("add_addresses", target(current))
    group = await address_groups.add_addresses(req.rt, req.ctx, current["id"], addresses)
    return {"address_group": _render(group)}


@router.put(PATH + "/{group_id}/remove_addresses", target=TARGET)
async def remove_addresses(req: ApiRequest) -> Reply:
    addresses = await _addresses(req)
    current = await address_groups.get_address_group(req.rt, req.ctx, req.params["group_id"])
    req.authorize("remove_addresses", target(current))
    group = await address_groups.remove_addresses(req.rt, req.ctx, current["id"], addresses)
    return {"address_group": _render(group)}


@router.delete(PATH + "/{group_id}", status=204, target=TARGET)
async def delete_address_group(req: ApiRequest) -> Reply:
    current = await address_groups.get_address_group(req.rt, req.ctx, req.params["group_id"])
    req.authorize("delete_address_group", target(current))
    await address_groups.delete_address_group(req.rt, req.ctx, current["id"],
                                              if_match=q.if_match(req))
    return empty()
