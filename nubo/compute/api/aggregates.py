"""``/v2.1/os-aggregates``: host aggregates (admin only)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from nubo.compute import clients
from nubo.compute.api import validation as v
from nubo.compute.service import aggregates
from nubo.compute.service.aggregates import Aggregate
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()
AGGREGATE = "service/compute/aggregate"


def _time(value: Any) -> str | None:
    return value.isoformat(timespec="microseconds") if value is not None else None


def view(req: ApiRequest, a: Aggregate, *, with_members: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id, "name": a.name, "availability_zone": a.availability_zone,
        "created_at": _time(a.created_at), "updated_at": _time(a.updated_at),
        "deleted": False, "deleted_at": None,
    }
    if with_members:
        out.update(hosts=sorted(a.hosts), metadata=a.metadata)
    if req.at_least("2.41"):
        out["uuid"] = a.uuid
    return out


def _authorize(req: ApiRequest, action: str) -> None:
    req.authorize(f"os_compute_api:os-aggregates:{action}", {"project_id": req.ctx.project_id})


def _az(value: Any) -> str | None:
    az = v.string("availability_zone", value, nullable=True)
    if az is not None and ":" in az:
        raise v.invalid("availability_zone", az, "must not contain ':'")
    return az


@router.get("/v2.1/os-aggregates")
async def list_aggregates(req: ApiRequest) -> Reply:
    _authorize(req, "index")
    return {"aggregates": [view(req, a) for a in await aggregates.list_aggregates(req.rt)]}


@router.post("/v2.1/os-aggregates", target=AGGREGATE)
async def create_aggregate(req: ApiRequest) -> Reply:
    body = await req.json_object("aggregate")
    _authorize(req, "create")
    v.only(body, ("name", "availability_zone"), "aggregate")
    if "name" not in body:
        raise BadRequest("Invalid input for field/attribute aggregate. 'name' is a required "
                         "property")
    name = v.string("name", body["name"]) or ""
    agg = await aggregates.create_aggregate(req.rt, name, _az(body.get("availability_zone")))
    return {"aggregate": view(req, agg, with_members=False)}


@router.get("/v2.1/os-aggregates/{aggregate_id}")
async def show_aggregate(req: ApiRequest) -> Reply:
    _authorize(req, "show")
    return {"aggregate": view(req, await aggregates.get_aggregate(
        req.rt, _id(req)))}


def _id(req: ApiRequest) -> str:
    raw = req.params["aggregate_id"]
    try:
        number = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid aggregate id {raw!r}: an integer is required.") from None
    if not -(2**63) <= number < 2**63:
        raise NotFound(f"Aggregate {raw} could not be found.")
    return raw


@router.put("/v2.1/os-aggregates/{aggregate_id}", target=AGGREGATE)
async def update_aggregate(req: ApiRequest) -> Reply:
    body = await req.json_object("aggregate")
    _authorize(req, "update")
    v.only(body, ("name", "availability_zone"), "aggregate")
    if not body:
        raise BadRequest("Invalid input for field/attribute aggregate. {} does not have "
                         "enough properties")
    name = v.string("name", body["name"]) if "name" in body else None
    set_az = "availability_zone" in body
    agg = await aggregates.update_aggregate(req.rt, _id(req), name=name,
                                            availability_zone=_az(body.get("availability_zone")),
                                            set_az=set_az)
    return {"aggregate": view(req, agg)}


@router.delete("/v2.1/os-aggregates/{aggregate_id}", target=AGGREGATE)
async def delete_aggregate(req: ApiRequest) -> Reply:
    _authorize(req, "delete")
    await aggregates.delete_aggregate(req.rt, _id(req))
    return Response(status_code=200)


def _host(inner: Any, action: str) -> str:
    if not isinstance(inner, dict) or set(inner) != {"host"}:
        raise BadRequest(f"Invalid input for field/attribute {action}: 'host' is a required "
                         "property")
    return v.string("host", inner["host"]) or ""


def _metadata(inner: Any) -> dict[str, str | None]:
    if not isinstance(inner, dict) or set(inner) != {"metadata"} or not isinstance(
            inner["metadata"], dict):
        raise BadRequest("Invalid input for field/attribute set_metadata: 'metadata' is a "
                         "required property")
    out: dict[str, str | None] = {}
    for key, value in inner["metadata"].items():
        v.string("metadata key", key)
        out[key] = v.string(f"metadata/{key}", value, min_length=0, name_chars=False,
                            nullable=True)
    if out.get(aggregates.AZ_KEY) is not None:
        _az(out[aggregates.AZ_KEY])
    return out


@router.post("/v2.1/os-aggregates/{aggregate_id}/action", target=AGGREGATE)
async def aggregate_action(req: ApiRequest) -> Reply:
    body = await req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("There is either no action or more than one action in the request.")
    action, inner = next(iter(body.items()))
    agg_id = _id(req)
    if action == "add_host":
        _authorize(req, "add_host")
        agg = await aggregates.add_host(req.rt, agg_id, _host(inner, action))
    elif action == "remove_host":
        _authorize(req, "remove_host")
        agg = await aggregates.remove_host(req.rt, agg_id, _host(inner, action))
    elif action == "set_metadata":
        _authorize(req, "set_metadata")
        agg = await aggregates.set_metadata(req.rt, agg_id, _metadata(inner))
    else:
        raise BadRequest(f"There is no such action: {action}")
    return {"aggregate": view(req, agg)}


@router.post("/v2.1/os-aggregates/{aggregate_id}/images", status=202, target=AGGREGATE,
             min_version="2.81")
async def cache_images(req: ApiRequest) -> Reply:
    """2.81: ask the aggregate's hosts to pre-cache images (every image must exist);
    each host's agent fetches them into its driver's image cache."""
    _authorize(req, "images")
    body = await req.json()
    cache = body.get("cache") if isinstance(body, dict) else None
    if not isinstance(cache, list) or not cache or not all(
            isinstance(item, dict) and isinstance(item.get("id"), str) and set(item) == {"id"}
            for item in cache):
        raise BadRequest("Invalid input for field 'cache': a non-empty list of "
                         "{\"id\": <image uuid>} objects is required.")
    await aggregates.get_aggregate(req.rt, _id(req))
    for item in cache:
        try:
            await clients.get_image(req.rt, req.ctx, item["id"])
        except NotFound:
            raise BadRequest(f"Image {item['id']} could not be found.") from None
    await aggregates.cache_images(req.rt, _id(req), [item["id"] for item in cache])
    return None
