"""``/resource_providers`` and ``/resource_providers/{uuid}``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.placement.api import bodies
from nubo.placement.queries import (
    AggregateQuery,
    TraitQuery,
    bad,
    parse_member_of,
    parse_required,
    parse_resources,
)
from nubo.placement.service import providers, resource_classes, traits
from nubo.placement.service.providers import ProviderFilter

router = Router()
TARGET = "service/placement/resource_provider"


def render(req: ApiRequest, p: dict[str, Any]) -> dict[str, Any]:
    base = f"/placement/resource_providers/{p['uuid']}"
    links = [{"rel": "self", "href": base},
             {"rel": "inventories", "href": f"{base}/inventories"},
             {"rel": "usages", "href": f"{base}/usages"}]
    if req.at_least("1.1"):
        links.append({"rel": "aggregates", "href": f"{base}/aggregates"})
    if req.at_least("1.6"):
        links.append({"rel": "traits", "href": f"{base}/traits"})
    if req.at_least("1.11"):
        links.append({"rel": "allocations", "href": f"{base}/allocations"})
    out = {"uuid": p["uuid"], "name": p["name"], "generation": p["generation"], "links": links}
    if req.at_least("1.14"):
        out["parent_provider_uuid"] = p["parent_provider_uuid"]
        out["root_provider_uuid"] = p["root_provider_uuid"]
    return out


def _fields(req: ApiRequest, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    allowed = ["name"] + (["uuid"] if creating else [])
    if req.at_least("1.14"):
        allowed.append("parent_provider_uuid")
    bodies.only(body, allowed, ["name"])
    out: dict[str, Any] = {"name": bodies.string(body, "name", max_length=200)}
    if "uuid" in body:
        out["uuid"] = bodies.uuid(body["uuid"], "uuid")
    out["parent_provider_uuid"] = bodies.uuid(body.get("parent_provider_uuid"),
                                              "parent_provider_uuid", nullable=True)
    return out


@router.post("/resource_providers", target=TARGET)
async def create_resource_provider(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:create")
    f = _fields(req, await bodies.body_object(req), creating=True)
    made = await providers.create_provider(req.rt, f["name"], uuid=f.get("uuid"),
                                           parent_provider_uuid=f["parent_provider_uuid"])
    location = {"location": f"{req.rt.settings.public_url}/placement/resource_providers/"
                            f"{made['uuid']}"}
    if req.at_least("1.20"):
        return bodies.reply(req, render(req, made), headers=location)
    return bodies.reply(req, None, status=201, headers=location)


@router.get("/resource_providers/{uuid}")
async def show_resource_provider(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:show")
    return bodies.reply(req, render(req, await providers.get_provider(
        req.rt, req.params["uuid"])))


@router.put("/resource_providers/{uuid}", target=TARGET)
async def update_resource_provider(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:update")
    body = await bodies.body_object(req)
    f = _fields(req, body, creating=False)
    uuid = req.params["uuid"]
    parent = f["parent_provider_uuid"]
    if "parent_provider_uuid" not in body:
        parent = (await providers.get_provider(req.rt, uuid))["parent_provider_uuid"]
    updated = await providers.update_provider(req.rt, uuid, f["name"],
                                              parent_provider_uuid=parent,
                                              allow_reparent=req.at_least("1.37"))
    return bodies.reply(req, render(req, updated))


@router.delete("/resource_providers/{uuid}", target=TARGET)
async def delete_resource_provider(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:delete")
    await providers.delete_provider(req.rt, req.params["uuid"])
    return None


@router.get("/resource_providers")
async def list_resource_providers(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:list")
    f = await provider_filter(req)
    found = await providers.list_providers(req.rt, f)
    return bodies.reply(req, {"resource_providers": [render(req, p) for p in found]})


async def provider_filter(req: ApiRequest) -> ProviderFilter:
    allowed = ["name", "uuid"]
    for key, version in (("member_of", "1.3"), ("resources", "1.4"), ("in_tree", "1.14"),
                         ("required", "1.18")):
        if req.at_least(version):
            allowed.append(key)
    bodies.query(req, allowed)
    f = ProviderFilter(name=bodies.one(req, "name"))
    uuid = bodies.one(req, "uuid")
    if uuid is not None:
        f.uuid = bodies.uuid(uuid, "uuid")
    in_tree = bodies.one(req, "in_tree")
    if in_tree is not None:
        f.in_tree = bodies.uuid(in_tree, "in_tree")
    f.member_of = member_of(req, "member_of")
    resources = bodies.one(req, "resources")
    if resources is not None:
        f.resources = parse_resources(resources)
        await resource_classes.check_requested(req.rt, f.resources)
    f.required = await required(req, "required")
    return f


def member_of(req: ApiRequest, key: str) -> AggregateQuery:
    values = req.query.getlist(key)
    if len(values) > 1 and not req.at_least("1.24"):
        raise bad(f"Multiple {key} parameters are not supported at this microversion.")
    return parse_member_of(values, forbidden_ok=req.at_least("1.32"))


async def required(req: ApiRequest, key: str) -> TraitQuery:
    values = req.query.getlist(key)
    if not values:
        return TraitQuery()
    if len(values) > 1 and not req.at_least("1.39"):
        raise bad(f"Query parameter {key!r} can be specified only once.")
    if any(not v.strip() for v in values):
        raise BadRequest(f"Invalid query string parameters: Expected '{key}' parameter value "
                         "of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC.", code="placement.query.bad_value")
    query = parse_required(values, forbidden_ok=req.at_least("1.22"),
                           any_of_ok=req.at_least("1.39"))
    await traits.check_requested(req.rt, query.names())
    return query
