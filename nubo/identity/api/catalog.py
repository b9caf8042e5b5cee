"""``/v3/regions``, ``/v3/services`` and ``/v3/endpoints``."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import links
from nubo.identity.service import catalog

router = Router()
REGION = "service/identity/region"
SERVICE = "service/identity/service"
ENDPOINT = "service/identity/endpoint"


@router.post("/v3/regions", status=201, target=REGION)
async def create_region(req: ApiRequest) -> Reply:
    body = await req.json_object("region")
    req.authorize("identity:create_region")
    return {"region": links.entity(req, "regions", await catalog.create_region(req.rt, body))}


@router.put("/v3/regions/{region_id}", status=201, target=REGION)
async def create_region_with_id(req: ApiRequest) -> Reply:
    body = await req.json_object("region")
    req.authorize("identity:create_region")
    region = await catalog.create_region(req.rt, body, req.params["region_id"])
    return {"region": links.entity(req, "regions", region)}


@router.get("/v3/regions")
async def list_regions(req: ApiRequest) -> Reply:
    req.authorize("identity:list_regions")
    found = await catalog.list_regions(req.rt, links.filters(req))
    return links.collection(req, "regions", "regions", found)


@router.get("/v3/regions/{region_id}")
async def get_region(req: ApiRequest) -> Reply:
    req.authorize("identity:get_region")
    region = await catalog.get_region(req.rt, req.params["region_id"])
    return {"region": links.entity(req, "regions", region)}


@router.patch("/v3/regions/{region_id}", target=REGION)
async def update_region(req: ApiRequest) -> Reply:
    body = await req.json_object("region")
    req.authorize("identity:update_region")
    region = await catalog.update_region(req.rt, req.params["region_id"], body)
    return {"region": links.entity(req, "regions", region)}


@router.delete("/v3/regions/{region_id}", status=204, target=REGION)
async def delete_region(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_region")
    await catalog.delete_region(req.rt, req.params["region_id"])
    return None


@router.post("/v3/services", status=201, target=SERVICE)
async def create_service(req: ApiRequest) -> Reply:
    body = await req.json_object("service")
    req.authorize("identity:create_service")
    return {"service": links.entity(req, "services", await catalog.create_service(req.rt, body))}


@router.get("/v3/services")
async def list_services(req: ApiRequest) -> Reply:
    req.authorize("identity:list_services")
    found = await catalog.list_services(req.rt, links.filters(req))
    return links.collection(req, "services", "services", found)


@router.get("/v3/services/{service_id}")
async def get_service(req: ApiRequest) -> Reply:
    req.authorize("identity:get_service")
    service = await catalog.get_service(req.rt, req.params["service_id"])
    return {"service": links.entity(req, "services", service)}


@router.patch("/v3/services/{service_id}", target=SERVICE)
async def update_service(req: ApiRequest) -> Reply:
    body = await req.json_object("service")
    req.authorize("identity:update_service")
    service = await catalog.update_service(req.rt, req.params["service_id"], body)
    return {"service": links.entity(req, "services", service)}


@router.delete("/v3/services/{service_id}", status=204, target=SERVICE)
async def delete_service(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_service")
    await catalog.delete_service(req.rt, req.params["service_id"])
    return None


@router.post("/v3/endpoints", status=201, target=ENDPOINT)
async def create_endpoint(req: ApiRequest) -> Reply:
    body = await req.json_object("endpoint")
    req.authorize("identity:create_endpoint")
    endpoint = await catalog.create_endpoint(req.rt, body)
    return {"endpoint": links.entity(req, "endpoints", endpoint)}


@router.get("/v3/endpoints")
async def list_endpoints(req: ApiRequest) -> Reply:
    req.authorize("identity:list_endpoints")
    found = await catalog.list_endpoints(req.rt, links.filters(req))
    return links.collection(req, "endpoints", "endpoints", found)


@router.get("/v3/endpoints/{endpoint_id}")
async def get_endpoint(req: ApiRequest) -> Reply:
    req.authorize("identity:get_endpoint")
    endpoint = await catalog.get_endpoint(req.rt, req.params["endpoint_id"])
    return {"endpoint": links.entity(req, "endpoints", endpoint)}


@router.patch("/v3/endpoints/{endpoint_id}", target=ENDPOINT)
async def update_endpoint(req: ApiRequest) -> Reply:
    body = await req.json_object("endpoint")
    req.authorize("identity:update_endpoint")
    endpoint = await catalog.update_endpoint(req.rt, req.params["endpoint_id"], body)
    return {"endpoint": links.entity(req, "endpoints", endpoint)}


@router.delete("/v3/endpoints/{endpoint_id}", status=204, target=ENDPOINT)
async def delete_endpoint(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_endpoint")
    await catalog.delete_endpoint(req.rt, req.params["endpoint_id"])
    return None
