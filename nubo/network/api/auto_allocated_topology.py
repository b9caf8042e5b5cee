"""``/v2.0/auto-allocated-topology/{project_id}`` (the ``auto-allocated-topology``
extension)."""

from __future__ import annotations

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.network.api import query as q
from nubo.network.service import auto_allocated_topology as topology

router = Router()
TARGET = "service/network/auto-allocated-topology"


def _target(req: ApiRequest) -> dict[str, str | None]:
    project_id = req.params["project_id"]
    if project_id == "None":
        return {"project_id": req.ctx.project_id}
    return {"project_id": project_id}


@router.get("/v2.0/auto-allocated-topology/{project_id}")
async def show_topology(req: ApiRequest) -> Reply:
    req.authorize("get_auto_allocated_topology", _target(req))
    fields = q.fields(req)
    if fields and fields != [topology.DRY_RUN]:
        raise BadRequest("Bad auto_allocate request: Unrecognized field.",
                         type="BadRequest")
    found = await topology.get_auto_allocated_topology(
        req.rt, req.ctx, req.params["project_id"], dry_run=bool(fields))
    return {"auto_allocated_topology": found}


@router.delete("/v2.0/auto-allocated-topology/{project_id}", status=204, target=TARGET)
async def delete_topology(req: ApiRequest) -> Reply:
    req.authorize("delete_auto_allocated_topology", _target(req))
    await topology.delete_auto_allocated_topology(req.rt, req.ctx, req.params["project_id"])
    return empty()
