"""``/v2.0/agents`` (the ``agent`` extension) and ``/v2.0/availability_zones`` (the
``availability_zone`` extension): the network agents of the cloud, for admins, and
the zones networks and routers can be in, for everyone."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import agents, availability_zones

router = Router()
TARGET = "service/network/agent"
READ_ONLY = ("id", "agent_type", "binary", "topic", "host", "created_at", "started_at",
             "heartbeat_timestamp", "alive", "configurations", "availability_zone",
             "resources_synced")
ZONE_FILTERS = ("name", "resource", "state")


def _visible(req: ApiRequest, agent_id: str) -> None:
    """Agents are the admins': to anyone else they do not exist."""
    if not req.allowed("get_agent", {}):
        raise NotFound(f"Agent {agent_id} could not be found.", type="AgentNotFound")


@router.get("/v2.0/agents")
async def list_agents(req: ApiRequest) -> Reply:
    query = q.list_query(req)
    if not req.allowed("get_agent", {}):
        return q.page(req, "agents", [], False, query)
    found, more = await agents.list_agents(req.rt, query)
    return q.page(req, "agents", found, more, query)


@router.get("/v2.0/agents/{agent_id}")
async def show_agent(req: ApiRequest) -> Reply:
    _visible(req, req.params["agent_id"])
    found = await agents.get_agent(req.rt, req.params["agent_id"])
    return {"agent": q.project(found, q.fields(req))}


@router.put("/v2.0/agents/{agent_id}", target=TARGET)
async def update_agent(req: ApiRequest) -> Reply:
    _visible(req, req.params["agent_id"])
    req.authorize("update_agent", {})
    body = await b.resource_body(req, "agent")
    b.forbid_update(body, READ_ONLY, "agent")
    b.only(body, ("admin_state_up", "description"))
    values: dict[str, Any] = {}
    if "admin_state_up" in body:
        values["admin_state_up"] = b.boolean(body, "admin_state_up")
    if "description" in body:
        values["description"] = b.string(body, "description", nullable=True)
    return {"agent": await agents.update_agent(req.rt, req.params["agent_id"], values)}


@router.delete("/v2.0/agents/{agent_id}", status=204, target=TARGET)
async def delete_agent(req: ApiRequest) -> Reply:
    _visible(req, req.params["agent_id"])
    req.authorize("delete_agent", {})
    await agents.delete_agent(req.rt, req.params["agent_id"])
    return empty()


@router.get("/v2.0/availability_zones")
async def list_zones(req: ApiRequest) -> Reply:
    req.authorize("get_availability_zone", {})
    query = q.list_query(req)
    unknown = sorted(set(query.filters) - set(ZONE_FILTERS))
    if unknown:
        raise BadRequest(f"{unknown} is invalid attribute for filtering",
                         type="HTTPBadRequest")
    zones = [z for z in await availability_zones.list_zones(req.rt)
             if all(z[k] in values for k, values in query.filters.items())]
    return {"availability_zones": [q.project(z, q.fields(req)) for z in zones]}
