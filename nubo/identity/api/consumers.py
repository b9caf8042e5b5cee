"""``/v3/OS-OAUTH1/consumers``."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import links
from nubo.identity.service import consumers

router = Router()
CONSUMER = "service/identity/consumer"
PATH = "OS-OAUTH1/consumers"


@router.post("/v3/OS-OAUTH1/consumers", status=201, target=CONSUMER)
async def create_consumer(req: ApiRequest) -> Reply:
    body = await req.json_object("consumer")
    req.authorize("identity:create_consumer")
    return {"consumer": links.entity(req, PATH, await consumers.create_consumer(req.rt, body))}


@router.get("/v3/OS-OAUTH1/consumers")
async def list_consumers(req: ApiRequest) -> Reply:
    req.authorize("identity:list_consumers")
    return links.collection(req, "consumers", PATH, await consumers.list_consumers(req.rt))


@router.get("/v3/OS-OAUTH1/consumers/{consumer_id}")
async def get_consumer(req: ApiRequest) -> Reply:
    req.authorize("identity:get_consumer")
    found = await consumers.get_consumer(req.rt, req.params["consumer_id"])
    return {"consumer": links.entity(req, PATH, found)}


@router.patch("/v3/OS-OAUTH1/consumers/{consumer_id}", target=CONSUMER)
async def update_consumer(req: ApiRequest) -> Reply:
    body = await req.json_object("consumer")
    req.authorize("identity:update_consumer")
    found = await consumers.update_consumer(req.rt, req.params["consumer_id"], body)
    return {"consumer": links.entity(req, PATH, found)}


@router.delete("/v3/OS-OAUTH1/consumers/{consumer_id}", status=204, target=CONSUMER)
async def delete_consumer(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_consumer")
    await consumers.delete_consumer(req.rt, req.params["consumer_id"])
    return None
