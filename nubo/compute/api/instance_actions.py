"""``/servers/{id}/os-instance-actions``: what was done to a server and how each
step went; 2.21 shows deleted servers' actions, 2.51 events for everyone, 2.58
paging and changes-since, 2.62 event hosts, 2.66 changes-before, 2.84 details."""

from __future__ import annotations

from typing import Any

from nubo.compute.api import paging
from nubo.compute.api.server_views import host_id
from nubo.compute.api.servers import _time_filter
from nubo.compute.service import instance_actions, instances
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()


def _ts(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


async def _server(req: ApiRequest, rule: str) -> dict[str, Any]:
    uuid = req.params["server_id"]
    async with req.rt.db.read() as conn:
        try:
            server = await instances.get(conn, uuid, deleted=req.at_least("2.21"))
        except NotFound:
            raise instances.not_found(uuid) from None
    target = {"project_id": server["project_id"]}
    if not req.allowed(rule, target):
        if server["project_id"] != req.ctx.project_id:
            raise instances.not_found(uuid)
        req.authorize(rule, target)
    return server


def _action(req: ApiRequest, a: dict[str, Any]) -> dict[str, Any]:
    out = {"action": a["action"], "instance_uuid": a["instance_uuid"],
           "message": a["message"], "project_id": a["project_id"],
           "request_id": a["request_id"], "start_time": _ts(a["start_time"]),
           "user_id": a["user_id"]}
    if req.at_least("2.58"):
        out["updated_at"] = _ts(a["updated_at"])
    return out


@router.get("/v2.1/servers/{server_id}/os-instance-actions")
async def list_instance_actions(req: ApiRequest) -> Reply:
    server = await _server(req, "os_compute_api:os-instance-actions:list")
    since = before = None
    if req.at_least("2.58"):
        since = _time_filter(req, "changes-since")
    if req.at_least("2.66"):
        before = _time_filter(req, "changes-before")
    async with req.rt.db.read() as conn:
        found = await instance_actions.list_actions(conn, server["uuid"],
                                                    changes_since=since,
                                                    changes_before=before)
    links: dict[str, Any] = {}
    if req.at_least("2.58"):
        marker = paging.marker(req)
        if marker is not None:
            index = next((i for i, a in enumerate(found) if a["request_id"] == marker), None)
            if index is None:
                raise BadRequest(f"Marker {marker} could not be found.")
            found = found[index + 1:]
        limit = paging.limit(req)
        found = found[:limit]
        next_links = paging.next_links(req, found, limit,
                                       found[-1]["request_id"] if found else "")
        if next_links and "limit" in req.query:
            links = {"links": next_links}
    return {"instanceActions": [_action(req, a) for a in found], **links}


@router.get("/v2.1/servers/{server_id}/os-instance-actions/{request_id}")
async def show_instance_action(req: ApiRequest) -> Reply:
    server = await _server(req, "os_compute_api:os-instance-actions:show")
    async with req.rt.db.read() as conn:
        action = await instance_actions.get_action(conn, server["uuid"],
                                                   req.params["request_id"])
    out = _action(req, action)
    target = {"project_id": server["project_id"]}
    full = req.allowed("os_compute_api:os-instance-actions:events", target)
    if full or req.at_least("2.51"):
        out["events"] = [_event(req, e, server, full, target) for e in action["events"]]
    return {"instanceAction": out}


def _event(req: ApiRequest, e: dict[str, Any], server: dict[str, Any], full: bool,
           target: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"event": e["event"], "start_time": _ts(e["start_time"]),
                           "finish_time": _ts(e["finish_time"]), "result": e["result"]}
    if full:
        out["traceback"] = e["traceback"]
    if req.at_least("2.62"):
        out["hostId"] = host_id(server["project_id"], e["host"])
        if full:
            out["host"] = e["host"] or ""
    if req.at_least("2.84") and req.allowed(
            "os_compute_api:os-instance-actions:events:details", target):
        out["details"] = e["details"]
    return out
