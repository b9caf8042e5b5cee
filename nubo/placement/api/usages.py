"""``/resource_providers/{uuid}/usages`` and ``/usages`` (1.9; by consumer type at 1.38)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.placement.api import bodies
from nubo.placement.service import usages

router = Router()


@router.get("/resource_providers/{uuid}/usages")
async def list_provider_usages(req: ApiRequest) -> Reply:
    req.authorize("placement:resource_providers:usages")
    generation, used = await usages.provider_usages(req.rt, req.params["uuid"])
    return bodies.reply(req, {"usages": used, "resource_provider_generation": generation})


@router.get("/usages", min_version="1.9")
async def list_usages(req: ApiRequest) -> Reply:
    project_id = bodies.one(req, "project_id")
    req.authorize("placement:usages", {"project_id": project_id})
    allowed = ["project_id", "user_id"] + (["consumer_type"] if req.at_least("1.38") else [])
    bodies.query(req, allowed)
    if not project_id:
        raise BadRequest("Invalid query string parameters: 'project_id' is a required "
                         "property", code="placement.query.missing_value")
    user_id = bodies.one(req, "user_id")
    ctype = bodies.one(req, "consumer_type")
    found = await usages.project_usages(req.rt, project_id, user_id, ctype)
    if not req.at_least("1.38"):
        total = found.get("all", {})
        return bodies.reply(req, {"usages": {
            rc: n for rc, n in total.items() if rc != "consumer_count"}})
    out: dict[str, Any] = found
    if ctype is None:
        out = {k: v for k, v in found.items() if k != "all"}
    elif ctype == "all":
        out = {"all": found["all"]} if "all" in found else {}
    return bodies.reply(req, {"usages": out})
