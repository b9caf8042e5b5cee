"""``/resource_providers/{uuid}/inventories`` (all classes and one class)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, Conflict
from nubo.placement.api import bodies
from nubo.placement.capacity import MAX_INT
from nubo.placement.service import inventories

router = Router()
TARGET = "service/placement/inventory"
BASE = "/resource_providers/{uuid}/inventories"
FIELDS = ("total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio")
GEN = "resource_provider_generation"


def inventory(req: ApiRequest, rc: str, fields: Any, rp: str | None = None) -> dict[str, Any]:
    """One inventory record, checked as Placement's schema and rules do."""
    if not isinstance(fields, dict):
        raise bodies.invalid(f"the inventory of {rc} must be an object")
    bodies.only(fields, FIELDS, ["total"])
    out: dict[str, Any] = {"total": bodies.integer(fields, "total", minimum=1)}
    for key, minimum in (("reserved", 0), ("min_unit", 1), ("max_unit", 1), ("step_size", 1)):
        if key in fields:
            out[key] = bodies.integer(fields, key, minimum=minimum)
    if "allocation_ratio" in fields:
        out["allocation_ratio"] = bodies.number(fields, "allocation_ratio")
    reserved = out.get("reserved", 0)
    if reserved > out["total"] or (reserved == out["total"] and not req.at_least("1.26")):
        raise BadRequest(f"Unable to update inventory for resource provider "
                         f"{rp or req.params['uuid']}: Invalid inventory for '{rc}': reserved "
                         f"{reserved} must be less than total {out['total']}.")
    out.setdefault("max_unit", MAX_INT)
    return out


def class_name(rc: Any) -> str:
    if not isinstance(rc, str) or not bodies.NAME.match(rc):
        raise bodies.invalid(f"{rc!r} is not a valid resource class name")
    return rc


def _all(generation: int, invs: Mapping[str, Any]) -> dict[str, Any]:
    return {"inventories": dict(invs), GEN: generation}


@router.get(BASE)
async def list_inventories(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:inventories:list")
    generation, invs = await inventories.get_inventories(req.rt, req.params["uuid"])
    return bodies.reply(req, _all(generation, invs))


@router.put(BASE, target=TARGET)
async def replace_inventories(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:inventories:update")
    body = await bodies.body_object(req)
    bodies.only(body, ["inventories", GEN], ["inventories", GEN])
    generation = bodies.generation(body)
    invs = body["inventories"]
    if not isinstance(invs, dict):
        raise bodies.invalid("'inventories' is not of type 'object'")
    wanted = {class_name(rc): inventory(req, rc, f) for rc, f in invs.items()}
    new_gen, stored = await inventories.replace_inventories(
        req.rt, req.params["uuid"], generation, wanted)
    return bodies.reply(req, _all(new_gen, stored))


@router.delete(BASE, target=TARGET, min_version="1.5")
async def delete_inventories(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:inventories:delete")
    await inventories.replace_inventories(req.rt, req.params["uuid"], None, {})
    return None


@router.post(BASE, target=TARGET)
async def create_inventory(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:inventories:create")
    body = await bodies.body_object(req)
    bodies.only(body, [*FIELDS, "resource_class", GEN], ["resource_class", "total", GEN])
    rc = class_name(body["resource_class"])
    generation = bodies.generation(body)
    fields = inventory(req, rc, {k: v for k, v in body.items() if k in FIELDS})
    _, current = await inventories.get_inventories(req.rt, req.params["uuid"])
    if rc in current:
        raise Conflict(f"Update conflict: Inventory for {rc} on resource provider "
                       f"{req.params['uuid']} already exists.")
    new_gen, stored = await inventories.replace_inventories(
        req.rt, req.params["uuid"], generation, {rc: fields}, only=rc)
    location = (f"{req.rt.settings.public_url}/placement/resource_providers/"
                f"{req.params['uuid']}/inventories/{rc}")
    return bodies.reply(req, {**stored[rc], GEN: new_gen}, status=201,
                        headers={"location": location})


@router.get(BASE + "/{rc}")
async def show_inventory(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:inventories:show")
    generation, inv = await inventories.get_inventory(req.rt, req.params["uuid"],
                                                      req.params["rc"])
    return bodies.reply(req, {**inv, GEN: generation})


@router.put(BASE + "/{rc}", target=TARGET)
async def update_inventory(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:inventories:update")
    rc = class_name(req.params["rc"])
    body = await bodies.body_object(req)
    bodies.only(body, [*FIELDS, GEN], ["total", GEN])
    generation = bodies.generation(body)
    fields = inventory(req, rc, {k: v for k, v in body.items() if k in FIELDS})
    new_gen, stored = await inventories.replace_inventories(
        req.rt, req.params["uuid"], generation, {rc: fields}, only=rc)
    return bodies.reply(req, {**stored[rc], GEN: new_gen})


@router.delete(BASE + "/{rc}", target=TARGET)
async def delete_inventory(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:inventories:delete")
    await inventories.replace_inventories(req.rt, req.params["uuid"], None, {},
                                          only=req.params["rc"], remove=True)
    return None
