"""``/v2.1/flavors``: flavors, their extra specs (os-extra_specs) and access lists
(os-flavor-access)."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from nubo.compute.api import paging
from nubo.compute.api import validation as v
from nubo.compute.service import extra_specs, flavors
from nubo.compute.service.flavors import Flavor
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()
FLAVOR = "service/compute/flavor"
FLAVOR_ID = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")
CREATE_KEYS = ("name", "ram", "vcpus", "disk", "id", "swap", "rxtx_factor",
               "OS-FLV-EXT-DATA:ephemeral", "os-flavor-access:is_public")


def _links(req: ApiRequest, flavor_id: str) -> list[dict[str, str]]:
    base = f"{req.rt.settings.public_url}/compute"
    return [{"rel": "self", "href": f"{base}/v2.1/flavors/{flavor_id}"},
            {"rel": "bookmark", "href": f"{base}/flavors/{flavor_id}"}]


def view(req: ApiRequest, f: Flavor, *, detail: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f.id, "name": f.name}
    if detail:
        out.update({
            "ram": f.ram, "disk": f.disk, "vcpus": f.vcpus,
            "swap": f.swap if f.swap or req.at_least("2.75") else "",
            "OS-FLV-EXT-DATA:ephemeral": f.ephemeral,
            "OS-FLV-DISABLED:disabled": f.disabled,
            "os-flavor-access:is_public": f.is_public,
            "rxtx_factor": f.rxtx_factor,
        })
    if req.at_least("2.55"):
        out["description"] = f.description
    if detail and req.at_least("2.61") and req.allowed(
            "os_compute_api:os-flavor-extra-specs:index", _target(req)):
        out["extra_specs"] = f.extra_specs
    out["links"] = _links(req, f.id)
    return out


def _target(req: ApiRequest) -> dict[str, Any]:
    return {"project_id": req.ctx.project_id, "user_id": req.ctx.user_id}


def _is_public_filter(req: ApiRequest) -> bool | None:
    raw = req.query.get("is_public")
    if raw is None:
        return True
    if raw.lower() == "none":
        return None
    try:
        return v.boolean("is_public", raw)
    except BadRequest:
        raise BadRequest(f"Invalid is_public filter [{raw}]") from None


def _min(req: ApiRequest, name: str) -> int | None:
    raw = req.query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Invalid {name} filter [{raw}]") from None


async def _list(req: ApiRequest, detail: bool) -> Reply:
    req.authorize("os_compute_api:flavors:index", _target(req))
    page = paging.limit(req)
    q = flavors.ListQuery(
        is_public=_is_public_filter(req) if flavors.is_admin(req.ctx) else True,
        min_ram=_min(req, "minRam"), min_disk=_min(req, "minDisk"),
        sort_key=req.query.get("sort_key") or "flavorid",
        sort_dir=req.query.get("sort_dir") or "asc", limit=page, marker=paging.marker(req))
    found = await flavors.list_flavors(req.rt, req.ctx, q)
    out: dict[str, Any] = {"flavors": [view(req, f, detail=detail) for f in found]}
    links = paging.next_links(req, found, page, found[-1].id if found else "")
    if links:
        out["flavors_links"] = links
    return out


@router.get("/v2.1/flavors")
async def list_flavors(req: ApiRequest) -> Reply:
    return await _list(req, detail=False)


@router.get("/v2.1/flavors/detail")
async def list_flavors_detail(req: ApiRequest) -> Reply:
    return await _list(req, detail=True)


@router.get("/v2.1/flavors/{flavor_id}")
async def show_flavor(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:flavors:show", _target(req))
    return {"flavor": view(req, await flavors.get_flavor(req.rt, req.ctx,
                                                         req.params["flavor_id"]))}


def _create_values(req: ApiRequest, body: dict[str, Any]) -> dict[str, Any]:
    v.only(body, (*CREATE_KEYS, "description") if req.at_least("2.55") else CREATE_KEYS,
           "flavor")
    for key in ("name", "ram", "vcpus", "disk"):
        if key not in body:
            raise BadRequest(f"Invalid input for field/attribute flavor. Value: {body}. "
                             f"'{key}' is a required property")
    flavorid = body.get("id")
    if flavorid is not None:
        if isinstance(flavorid, int) and not isinstance(flavorid, bool):
            flavorid = str(flavorid)
        flavorid = v.string("id", flavorid, name_chars=False)
        if not FLAVOR_ID.match(flavorid or ""):
            raise v.invalid("id", flavorid, "does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'")
    rxtx = body.get("rxtx_factor", 1.0)
    if isinstance(rxtx, bool) or not isinstance(rxtx, (int, float)) or not 0 < rxtx <= 3.4e38:
        raise v.invalid("rxtx_factor", rxtx, "must be a number greater than 0")
    return {
        "name": v.string("name", body["name"]),
        "flavorid": None if flavorid == "auto" else flavorid,
        "memory_mb": v.integer("ram", body["ram"], 1),
        "vcpus": v.integer("vcpus", body["vcpus"], 1),
        "root_gb": v.integer("disk", body["disk"], 0),
        "ephemeral_gb": v.integer("OS-FLV-EXT-DATA:ephemeral",
                                  body.get("OS-FLV-EXT-DATA:ephemeral", 0), 0),
        "swap": v.integer("swap", body.get("swap", 0) or 0, 0),
        "rxtx_factor": float(rxtx),
        "is_public": v.boolean("os-flavor-access:is_public",
                               body.get("os-flavor-access:is_public", True)),
        "description": v.string("description", body.get("description"), min_length=0,
                                 max_length=65535, name_chars=False, nullable=True),
    }


@router.post("/v2.1/flavors", target=FLAVOR)
async def create_flavor(req: ApiRequest) -> Reply:
    body = await req.json_object("flavor")
    req.authorize("os_compute_api:os-flavor-manage:create", _target(req))
    values = _create_values(req, body)
    return {"flavor": view(req, await flavors.create_flavor(req.rt, values))}


@router.put("/v2.1/flavors/{flavor_id}", min_version="2.55", target=FLAVOR)
async def update_flavor(req: ApiRequest) -> Reply:
    body = await req.json_object("flavor")
    req.authorize("os_compute_api:os-flavor-manage:update", _target(req))
    v.only(body, ("description",), "flavor")
    if "description" not in body:
        raise BadRequest("Invalid input for field/attribute flavor. 'description' is a "
                         "required property")
    description = v.string("description", body["description"], min_length=0,
                           max_length=65535, name_chars=False, nullable=True)
    found = await flavors.update_description(req.rt, req.params["flavor_id"], description)
    return {"flavor": view(req, found)}


@router.delete("/v2.1/flavors/{flavor_id}", status=202, target=FLAVOR)
async def delete_flavor(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-flavor-manage:delete", _target(req))
    await flavors.delete_flavor(req.rt, req.params["flavor_id"])
    return None


# --- os-extra_specs --------------------------------------------------------------


def _spec_values(req: ApiRequest, specs: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in specs.items():
        extra_specs.check_key_format(key)
        if isinstance(value, bool):
            value = str(value)
        if isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str) or len(value) > 255:
            raise v.invalid(f"extra_specs/{key}", value, "must be a string of at most 255 "
                                                         "characters")
        out[key] = value
    if req.at_least("2.86"):
        extra_specs.validate(out)
    return out


@router.get("/v2.1/flavors/{flavor_id}/os-extra_specs")
async def list_extra_specs(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-flavor-extra-specs:index", _target(req))
    return {"extra_specs": await flavors.get_extra_specs(req.rt, req.ctx,
                                                         req.params["flavor_id"])}


@router.post("/v2.1/flavors/{flavor_id}/os-extra_specs", target=FLAVOR)
async def create_extra_specs(req: ApiRequest) -> Reply:
    specs = await req.json_object("extra_specs")
    req.authorize("os_compute_api:os-flavor-extra-specs:create", _target(req))
    values = _spec_values(req, specs)
    await flavors.set_extra_specs(req.rt, req.params["flavor_id"], values)
    return {"extra_specs": values}


@router.get("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}")
async def show_extra_spec(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-flavor-extra-specs:show", _target(req))
    key = req.params["key"]
    specs = await flavors.get_extra_specs(req.rt, req.ctx, req.params["flavor_id"])
    if key not in specs:
        raise NotFound(f"Flavor {req.params['flavor_id']} has no extra specs with key {key}.")
    return {key: specs[key]}


@router.put("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", target=FLAVOR)
async def update_extra_spec(req: ApiRequest) -> Reply:
    body = await req.json()
    req.authorize("os_compute_api:os-flavor-extra-specs:update", _target(req))
    key = req.params["key"]
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("Request body contains too many items")
    if key not in body:
        raise BadRequest("Request body and URI mismatch")
    values = _spec_values(req, body)
    await flavors.set_extra_specs(req.rt, req.params["flavor_id"], values)
    return values


@router.delete("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", status=200, target=FLAVOR)
async def delete_extra_spec(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-flavor-extra-specs:delete", _target(req))
    await flavors.delete_extra_spec(req.rt, req.params["flavor_id"], req.params["key"])
    return Response(status_code=200)


# --- os-flavor-access --------------------------------------------------------------


@router.get("/v2.1/flavors/{flavor_id}/os-flavor-access")
async def list_flavor_access(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-flavor-access", _target(req))
    return {"flavor_access": await flavors.list_access(req.rt, req.params["flavor_id"])}


def _tenant(body: dict[str, Any], action: str) -> str:
    inner = body.get(action)
    if not isinstance(inner, dict) or set(inner) != {"tenant"}:
        raise BadRequest(f"Invalid input for field/attribute {action}: 'tenant' is a "
                         "required property")
    tenant = v.string("tenant", inner["tenant"], name_chars=False)
    return tenant or ""


@router.post("/v2.1/flavors/{flavor_id}/action", target=FLAVOR)
async def flavor_action(req: ApiRequest) -> Reply:
    body = await req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("There is either no action or more than one action in the request.")
    flavor_id = req.params["flavor_id"]
    if "addTenantAccess" in body:
        req.authorize("os_compute_api:os-flavor-access:add_tenant_access", _target(req))
        tenant = _tenant(body, "addTenantAccess")
        return {"flavor_access": await flavors.add_access(req.rt, flavor_id, tenant)}
    if "removeTenantAccess" in body:
        req.authorize("os_compute_api:os-flavor-access:remove_tenant_access", _target(req))
        tenant = _tenant(body, "removeTenantAccess")
        return {"flavor_access": await flavors.remove_access(req.rt, flavor_id, tenant)}
    raise BadRequest(f"There is no such action: {next(iter(body))}")
