"""``/allocations/{consumer_uuid}``, ``POST /allocations`` (1.13) and
``/resource_providers/{uuid}/allocations``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import NotFound
from nubo.placement.api import bodies
from nubo.placement.service import allocations
from nubo.placement.service.allocations import UNCHECKED, ConsumerWrite

router = Router()
TARGET = "service/placement/allocation"


def _resources(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict) or not value:
        raise bodies.invalid(f"'resources' of {where} must be a non-empty object")
    out = {}
    for rc in value:
        if not isinstance(rc, str) or not bodies.NAME.match(rc):
            raise bodies.invalid(f"{rc!r} is not a valid resource class name")
        out[rc] = bodies.integer(value, rc, minimum=1)
    return out


def _dict_form(value: Any, *, allow_empty: bool) -> dict[str, dict[str, int]]:
    if not isinstance(value, dict) or (not value and not allow_empty):
        raise bodies.invalid("'allocations' must be a non-empty object")
    out = {}
    for rp, alloc in value.items():
        bodies.uuid(rp, "allocations")
        if not isinstance(alloc, dict):
            raise bodies.invalid(f"the allocation on {rp} must be an object")
        bodies.only(alloc, ["resources", "generation"], ["resources"])
        out[rp] = _resources(alloc["resources"], rp)
    return out


def _list_form(value: Any) -> dict[str, dict[str, int]]:
    if not isinstance(value, list) or not value:
        raise bodies.invalid("'allocations' must be a non-empty array")
    out: dict[str, dict[str, int]] = {}
    for item in value:
        if not isinstance(item, dict):
            raise bodies.invalid("each allocation must be an object")
        bodies.only(item, ["resource_provider", "resources"], ["resource_provider", "resources"])
        rp = item["resource_provider"]
        if not isinstance(rp, dict):
            raise bodies.invalid("'resource_provider' must be an object")
        bodies.only(rp, ["uuid"], ["uuid"])
        uuid = str(bodies.uuid(rp["uuid"], "resource_provider.uuid"))
        out.setdefault(uuid, {}).update(_resources(item["resources"], uuid))
    return out


def consumer_write(req: ApiRequest, consumer: str, body: Any, *, dict_form: bool,
                   allow_empty: bool = False) -> ConsumerWrite:
    """One consumer's part of a PUT or POST body, as the microversion shapes it."""
    if not isinstance(body, dict):
        raise bodies.invalid(f"the allocations of {consumer} must be an object")
    allowed, required = ["allocations"], ["allocations"]
    if req.at_least("1.8"):
        allowed += ["project_id", "user_id"]
        required += ["project_id", "user_id"]
    if req.at_least("1.28"):
        allowed.append("consumer_generation")
        required.append("consumer_generation")
    if req.at_least("1.34"):
        allowed.append("mappings")
    if req.at_least("1.38"):
        allowed.append("consumer_type")
        required.append("consumer_type")
    bodies.only(body, allowed, required)
    bodies.uuid(consumer, "consumer_uuid")
    if dict_form:
        held = _dict_form(body["allocations"], allow_empty=allow_empty or req.at_least("1.28"))
    else:
        held = _list_form(body["allocations"])
    write = ConsumerWrite(consumer, held)
    if req.at_least("1.8"):
        write.project_id = bodies.string(body, "project_id")
        write.user_id = bodies.string(body, "user_id")
    if req.at_least("1.28"):
        gen = body["consumer_generation"]
        write.generation = None if gen is None else bodies.integer(body, "consumer_generation")
    else:
        write.generation = UNCHECKED
    if req.at_least("1.38"):
        ctype = bodies.string(body, "consumer_type")
        if not bodies.NAME.match(str(ctype)):
            raise bodies.invalid(f"{ctype!r} is not a valid consumer_type")
        write.consumer_type = ctype
    return write


@router.put("/allocations/{consumer_uuid}", target=TARGET)
async def update_allocations(req: ApiRequest) -> Reply:
    req.authorize("placement:allocations:update")
    write = consumer_write(req, req.params["consumer_uuid"], await req.json(),
                           dict_form=req.at_least("1.12"))
    await allocations.write_allocations(req.rt, [write])
    return None


@router.post("/allocations", target=TARGET, min_version="1.13")
async def manage_allocations(req: ApiRequest) -> Reply:
    req.authorize("placement:allocations:manage")
    body = await bodies.body_object(req)
    if not body:
        raise bodies.invalid("{} does not have enough properties")
    writes = [consumer_write(req, c, v, dict_form=True, allow_empty=True)
              for c, v in body.items()]
    await allocations.write_allocations(req.rt, writes)
    return None


@router.get("/allocations/{consumer_uuid}")
async def list_allocations(req: ApiRequest) -> Reply:
    req.authorize("placement:allocations:list")
    found = await allocations.consumer_allocations(req.rt, req.params["consumer_uuid"])
    out: dict[str, Any] = {"allocations": {
        rp: {"generation": found.generations[rp], "resources": held}
        for rp, held in found.allocations.items()}}
    if req.at_least("1.12") and found.project_id is not None:
        out["project_id"], out["user_id"] = found.project_id, found.user_id
    if req.at_least("1.28") and found.generation is not None:
        out["consumer_generation"] = found.generation
    if req.at_least("1.38") and found.generation is not None:
        out["consumer_type"] = found.consumer_type
    return bodies.reply(req, out)


@router.delete("/allocations/{consumer_uuid}", target=TARGET)
async def delete_allocations(req: ApiRequest) -> Reply:
    req.authorize("placement:allocations:delete")
    consumer = req.params["consumer_uuid"]
    found = await allocations.consumer_allocations(req.rt, consumer)
    if not found.allocations:
        raise NotFound(f"No allocations for consumer '{consumer}'")
    await allocations.drop_consumer(req.rt, consumer)
    return None


@router.get("/resource_providers/{uuid}/allocations")
async def list_provider_allocations(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:allocations:list")
    generation, held = await allocations.provider_allocations(req.rt, req.params["uuid"])
    out: dict[str, Any] = {}
    for consumer, resources in held.items():
        out[consumer] = {"resources": resources}
    if req.at_least("1.28") and out:
        gens = await allocations.consumer_generations(req.rt, list(out))
        for consumer, entry in out.items():
            entry["consumer_generation"] = gens.get(consumer)
    return bodies.reply(req, {"allocations": out, "resource_provider_generation": generation})
