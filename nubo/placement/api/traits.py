"""``/traits`` and ``/resource_providers/{uuid}/traits`` (1.6)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.placement.api import bodies
from nubo.placement.service import traits

router = Router()
TARGET = "service/placement/trait"
GEN = "resource_provider_generation"


@router.get("/traits", min_version="1.6")
async def list_traits(req: ApiRequest) -> Reply:
    req.authorize("placement:traits:list")
    bodies.query(req, ["name", "associated"])
    names: set[str] | None = None
    prefix: str | None = None
    name = bodies.one(req, "name")
    if name is not None:
        if name.startswith("in:"):
            names = {n.strip() for n in name[3:].split(",")}
        elif name.startswith("startswith:"):
            prefix = name[len("startswith:"):]
        else:
            raise BadRequest(f"Badly formatted name parameter. Expected name query string "
                             f"parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. "
                             f"Got: \"{name}\"", code="placement.query.bad_value")
    associated = _associated(bodies.one(req, "associated"))
    found = await traits.list_traits(req.rt, names=names, prefix=prefix, associated=associated)
    return bodies.reply(req, {"traits": found})


def _associated(value: str | None) -> bool | None:
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise BadRequest(f"Invalid query string parameters: 'associated' must be true or "
                         f"false. Got: {value}.", code="placement.query.bad_value")
    return value.lower() == "true"


@router.put("/traits/{name}", target=TARGET, min_version="1.6")
async def put_trait(req: ApiRequest) -> Reply:
    req.authorize("placement:traits:update")
    name = req.params["name"]
    made = await traits.put_trait(req.rt, name)
    location = {"location": f"{req.rt.settings.public_url}/placement/traits/{name}"}
    return bodies.reply(req, None, status=201 if made else 204, headers=location)


@router.get("/traits/{name}", min_version="1.6")
async def show_trait(req: ApiRequest) -> Reply:
    req.authorize("placement:traits:show")
    await traits.get_trait(req.rt, req.params["name"])
    return None


@router.delete("/traits/{name}", target=TARGET, min_version="1.6")
async def delete_trait(req: ApiRequest) -> Reply:
    req.authorize("placement:traits:delete")
    await traits.delete_trait(req.rt, req.params["name"])
    return None


def _provider_traits(generation: int, names: list[str]) -> dict[str, Any]:
    return {"traits": names, GEN: generation}


@router.get("/resource_providers/{uuid}/traits", min_version="1.6")
async def list_provider_traits(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:traits:list")
    generation, names = await traits.get_provider_traits(req.rt, req.params["uuid"])
    return bodies.reply(req, _provider_traits(generation, names))


@router.put("/resource_providers/{uuid}/traits", target=TARGET, min_version="1.6")
async def update_provider_traits(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:traits:update")
    body = await bodies.body_object(req)
    bodies.only(body, ["traits", GEN], ["traits", GEN])
    generation = bodies.generation(body)
    names = body["traits"]
    if not isinstance(names, list) or not all(
            isinstance(n, str) and bodies.NAME.match(n) for n in names):
        raise bodies.invalid("'traits' must be an array of trait names")
    if len(set(names)) != len(names):
        raise bodies.invalid("'traits' has non-unique elements")
    new_gen, stored = await traits.set_provider_traits(req.rt, req.params["uuid"],
                                                       generation, names)
    return bodies.reply(req, _provider_traits(new_gen, stored))


@router.delete("/resource_providers/{uuid}/traits", target=TARGET, min_version="1.6")
async def delete_provider_traits(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:traits:delete")
    await traits.set_provider_traits(req.rt, req.params["uuid"], None, [])
    return None
