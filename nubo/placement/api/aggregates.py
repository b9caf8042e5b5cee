"""``/resource_providers/{uuid}/aggregates`` (1.1; generations from 1.19)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.placement.api import bodies
from nubo.placement.service import aggregates

router = Router()
TARGET = "service/placement/aggregate"
GEN = "resource_provider_generation"
PATH = "/resource_providers/{uuid}/aggregates"


def _render(req: ApiRequest, generation: int, uuids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"aggregates": uuids}
    if req.at_least("1.19"):
        out[GEN] = generation
    return out


@router.get(PATH, min_version="1.1")
async def list_aggregates(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:aggregates:list")
    generation, uuids = await aggregates.get_aggregates(req.rt, req.params["uuid"])
    return bodies.reply(req, _render(req, generation, uuids))


@router.put(PATH, target=TARGET, min_version="1.1")
async def update_aggregates(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:aggregates:update")
    body = await req.json()
    generation: int | None = None
    if req.at_least("1.19"):
        if not isinstance(body, dict):
            raise bodies.invalid(f"{body!r} is not of type 'object'")
        bodies.only(body, ["aggregates", GEN], ["aggregates", GEN])
        generation = bodies.generation(body)
        uuids = body["aggregates"]
    else:
        uuids = body
    if not isinstance(uuids, list):
        raise bodies.invalid("'aggregates' is not of type 'array'")
    if len(set(map(str, uuids))) != len(uuids):
        raise bodies.invalid("'aggregates' has non-unique elements")
    checked = [str(bodies.uuid(u, "aggregates")) for u in uuids]
    new_gen, stored = await aggregates.replace_aggregates(req.rt, req.params["uuid"],
                                                          generation, checked)
    return bodies.reply(req, _render(req, new_gen, stored))
