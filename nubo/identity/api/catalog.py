"""``/v3/regions``, ``/v3/services`` and ``/v3/endpoints``."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import crud, links
from nubo.identity.service import catalog

router = Router()
REGION = "service/identity/region"

crud.register(router, crud.Collection(
    "region", "regions", "regions", REGION, create=catalog.create_region,
    list=catalog.list_regions, get=catalog.get_region, update=catalog.update_region,
    delete=catalog.delete_region))
crud.register(router, crud.Collection(
    "service", "services", "services", "service/identity/service",
    create=catalog.create_service, list=catalog.list_services, get=catalog.get_service,
    update=catalog.update_service, delete=catalog.delete_service))
crud.register(router, crud.Collection(
    "endpoint", "endpoints", "endpoints", "service/identity/endpoint",
    create=catalog.create_endpoint, list=catalog.list_endpoints, get=catalog.get_endpoint,
    update=catalog.update_endpoint, delete=catalog.delete_endpoint))


@router.put("/v3/regions/{region_id}", status=201, target=REGION)
async def create_region_with_id(req: ApiRequest) -> Reply:
    body = await req.json_object("region")
    req.authorize("identity:create_region")
    region = await catalog.create_region(req.rt, body, req.params["region_id"])
    return {"region": links.entity(req, "regions", region)}
