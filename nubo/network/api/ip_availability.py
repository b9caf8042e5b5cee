"""``/v2.0/network-ip-availabilities`` (admins)."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.network.api import query as q
from nubo.network.service import ip_availability

router = Router()


@router.get("/v2.0/network-ip-availabilities")
async def list_network_ip_availabilities(req: ApiRequest) -> Reply:
    req.authorize("get_network_ip_availability", {"project_id": req.ctx.project_id})
    query = q.list_query(req)
    found = await ip_availability.list_availabilities(req.rt, req.ctx, query.filters)
    wanted = q.fields(req)
    return {"network_ip_availabilities": [q.project(n, wanted) for n in found]}


@router.get("/v2.0/network-ip-availabilities/{network_id}")
async def show_network_ip_availability(req: ApiRequest) -> Reply:
    req.authorize("get_network_ip_availability", {"project_id": req.ctx.project_id})
    found = await ip_availability.get_availability(req.rt, req.ctx, req.params["network_id"])
    return {"network_ip_availability": q.project(found, q.fields(req))}
