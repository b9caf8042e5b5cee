"""``POST /reshaper`` (1.30)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.placement.api import bodies
from nubo.placement.api.allocations import consumer_write
from nubo.placement.api.inventories import class_name, inventory
from nubo.placement.service import reshaper

router = Router()
GEN = "resource_provider_generation"


@router.post("/reshaper", target="service/placement/reshaper", min_version="1.30")
async def reshape(req: ApiRequest) -> Reply:
    req.authorize("placement:reshaper:reshape")
    body = await bodies.body_object(req)
    bodies.only(body, ["inventories", "allocations"], ["inventories", "allocations"])
    invs, allocs = body["inventories"], body["allocations"]
    if not isinstance(invs, dict) or not invs or not isinstance(allocs, dict):
        raise bodies.invalid("'inventories' must be a non-empty object and 'allocations' "
                             "an object")
    wanted: dict[str, tuple[int, dict[str, Any]]] = {}
    for rp, entry in invs.items():
        bodies.uuid(rp, "inventories")
        if not isinstance(entry, dict):
            raise bodies.invalid(f"the inventories of {rp} must be an object")
        bodies.only(entry, ["inventories", GEN], ["inventories", GEN])
        if not isinstance(entry["inventories"], dict):
            raise bodies.invalid("'inventories' is not of type 'object'")
        wanted[rp] = (bodies.generation(entry), {
            class_name(rc): inventory(req, rc, f, rp)
            for rc, f in entry["inventories"].items()})
    writes = [consumer_write(req, c, v, dict_form=True, allow_empty=True)
              for c, v in allocs.items()]
    await reshaper.reshape(req.rt, wanted, writes)
    return None
