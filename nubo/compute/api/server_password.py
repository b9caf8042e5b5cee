"""``/servers/{id}/os-server-password``: the password the guest posted to the
metadata service (encrypted with the server's key; empty when none), and clearing
it so that the guest may post a new one."""

from __future__ import annotations

from nubo.compute.api.servers import load
from nubo.compute.service import server_password
from nubo.core.api.routing import ApiRequest, Reply, Router

router = Router()
PATH = "/v2.1/servers/{server_id}/os-server-password"


@router.get(PATH)
async def show_password(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-password:show")
    return {"password": await server_password.get(req.rt, server["uuid"])}


@router.delete(PATH, status=204, target="service/compute/server/password")
async def clear_password(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-password:clear")
    await server_password.clear(req.rt, server["uuid"])
    return None
