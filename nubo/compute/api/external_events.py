"""``POST /os-server-external-events``: other services (networking, block storage)
tell compute that something happened to a server (``network-vif-plugged``…).
The body is checked here; ``service.external_events`` records and delivers them."""

from __future__ import annotations

from typing import Any

from nubo.compute.api import validation as v
from nubo.compute.service import external_events
from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()
NAMES = {"network-changed": "2.1", "network-vif-plugged": "2.1",
         "network-vif-unplugged": "2.1", "network-vif-deleted": "2.1",
         "volume-extended": "2.51", "power-update": "2.76",
         "accelerator-request-bound": "2.82"}
STATUSES = ("failed", "completed", "in-progress")


def _check(req: ApiRequest, event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise BadRequest("Invalid input for field/attribute events: each event is an object")
    v.only(event, {"name", "server_uuid", "tag", "status"}, "events")
    name = event.get("name")
    if name not in NAMES or not req.at_least(NAMES[name]):
        raise v.invalid("name", name, f"{name!r} is not a known event name")
    if not isinstance(event.get("server_uuid"), str):
        raise v.invalid("server_uuid", event.get("server_uuid"), "'server_uuid' is required")
    status = event.get("status", "completed")
    if status not in STATUSES:
        raise v.invalid("status", status, f"{status!r} is not one of {list(STATUSES)}")
    tag = event.get("tag")
    if tag is not None:
        v.string("tag", tag, max_length=255, name_chars=False)
    if name == "power-update" and tag not in ("POWER_ON", "POWER_OFF"):
        raise BadRequest("The tag of a power-update event must be POWER_ON or POWER_OFF.")
    return {"name": name, "server_uuid": event["server_uuid"], "status": status,
            **({"tag": tag} if tag is not None else {})}


@router.post("/v2.1/os-server-external-events", target="service/compute/event")
async def create_external_events(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-server-external-events:create", {})
    body = await req.json()
    if not isinstance(body, dict) or not isinstance(body.get("events"), list) or not body[
            "events"]:
        raise BadRequest("Invalid input for field/attribute events: a non-empty list is "
                         "required")
    events = [_check(req, e) for e in body["events"]]
    out = await external_events.external_instance_event(req.rt, events)
    accepted = sum(1 for e in out if e["code"] == 200)
    if accepted == 0:
        raise NotFound("No instances found for any event")
    status = 200 if accepted == len(out) else 207
    return JSONResponse({"events": out}, status_code=status)
