"""``/os-services``: list, update (by uuid from 2.53; disable/enable/force-down
before), delete."""

from __future__ import annotations

from typing import Any

from nubo.compute.api import validation as v
from nubo.compute.api.server_views import timestamp
from nubo.compute.service import aggregates, hosts
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, Conflict, NotFound

router = Router()
TARGET = "service/compute/service"


async def _zones(req: ApiRequest) -> dict[str, str]:
    zones: dict[str, str] = {}
    for agg in await aggregates.list_aggregates(req.rt):
        if agg.availability_zone:
            for host in agg.hosts:
                zones.setdefault(host, agg.availability_zone)
    return zones


def _view(req: ApiRequest, s: dict[str, Any], zones: dict[str, str]) -> dict[str, Any]:
    compute = req.rt.settings.compute
    zone = (zones.get(s["host"], compute.default_availability_zone)
            if s["binary"] == hosts.COMPUTE else compute.internal_service_availability_zone)
    out: dict[str, Any] = {
        "id": s["uuid"] if req.at_least("2.53") else s["id"],
        "binary": s["binary"], "host": s["host"], "zone": zone,
        "status": "disabled" if s["disabled"] else "enabled",
        "state": "up" if hosts.is_up(req.rt, s) else "down",
        "updated_at": timestamp(s["updated_at"] or s["last_seen_up"]),
        "disabled_reason": s["disabled_reason"],
    }
    if req.at_least("2.11"):
        out["forced_down"] = bool(s["forced_down"])
    return out


@router.get("/v2.1/os-services")
async def list_services(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-services:list", {})
    found = await hosts.list_services(req.rt, host=req.query.get("host"),
                                      binary=req.query.get("binary"))
    zones = await _zones(req)
    return {"services": [_view(req, s, zones) for s in found]}


async def _by_host(req: ApiRequest, body: dict[str, Any]) -> dict[str, Any]:
    host = v.string("host", body.get("host"))
    binary = v.string("binary", body.get("binary"))
    assert host and binary
    service = await hosts.get_service(req.rt, host, binary)
    if service is None:
        raise NotFound(f"Service {binary} on host {host} could not be found.")
    return service


async def update_service_legacy(req: ApiRequest, action: str, body: dict[str, Any]) -> Reply:
    service = await _by_host(req, body)
    out: dict[str, Any] = {"host": service["host"], "binary": service["binary"]}
    if action == "enable":
        await hosts.update_service(req.rt, service["uuid"], disabled=False,
                                   disabled_reason=None)
        out["status"] = "enabled"
    elif action in ("disable", "disable-log-reason"):
        reason = None
        if action == "disable-log-reason":
            reason = v.string("disabled_reason", body.get("disabled_reason"))
        await hosts.update_service(req.rt, service["uuid"], disabled=True,
                                   disabled_reason=reason)
        out["status"] = "disabled"
        if reason:
            out["disabled_reason"] = reason
    elif action == "force-down" and req.at_least("2.11"):
        forced = v.boolean("forced_down", body.get("forced_down"))
        await hosts.update_service(req.rt, service["uuid"], forced_down=forced)
        out["forced_down"] = forced
    else:
        raise NotFound("Unknown action")
    return {"service": out}


@router.put("/v2.1/os-services/{service_id}", target=TARGET)
async def update_service(req: ApiRequest) -> Reply:
    """Before 2.53 the path names an action (disable, enable, force-down…)."""
    req.authorize("os_compute_api:os-services:update", {})
    body = await req.json()
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    if not req.at_least("2.53"):
        return await update_service_legacy(req, req.params["service_id"], body)
    v.only(body, {"status", "disabled_reason", "forced_down"}, "body")
    if not body:
        raise BadRequest("No updates were requested. Fields 'status' or 'forced_down' "
                         "should be specified.")
    fields: dict[str, Any] = {}
    status = body.get("status")
    if status is not None and status not in ("enabled", "disabled"):
        raise v.invalid("status", status, f"{status!r} is not one of ['enabled', 'disabled']")
    if "disabled_reason" in body and status != "disabled":
        raise BadRequest("Specifying 'disabled_reason' with status 'enabled' or without "
                         "a status is invalid.")
    if status == "enabled":
        fields.update(disabled=False, disabled_reason=None)
    elif status == "disabled":
        fields.update(disabled=True, disabled_reason=v.string(
            "disabled_reason", body.get("disabled_reason"), nullable=True))
    if "forced_down" in body:
        fields["forced_down"] = v.boolean("forced_down", body["forced_down"])
    service = await _by_uuid(req, req.params["service_id"])
    if service["binary"] != hosts.COMPUTE:
        raise BadRequest(f"Updating a {service['binary']} service is not supported. Only "
                         "nova-compute services can be updated.")
    updated = await hosts.update_service(req.rt, service["uuid"], **fields)
    return {"service": _view(req, updated, await _zones(req))}


async def _by_uuid(req: ApiRequest, ident: str) -> dict[str, Any]:
    for s in await hosts.list_services(req.rt):
        if (req.at_least("2.53") and s["uuid"] == ident) or (
                not req.at_least("2.53") and str(s["id"]) == ident):
            return s
    if req.at_least("2.53"):
        raise NotFound(f"Service {ident} could not be found.")
    if not ident.isdigit():
        raise BadRequest(f"Invalid uuid {ident}")
    raise NotFound(f"Service {ident} could not be found.")


@router.delete("/v2.1/os-services/{service_id}", status=204, target=TARGET)
async def delete_service(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-services:delete", {})
    service = await _by_uuid(req, req.params["service_id"])
    if service["binary"] == hosts.COMPUTE and await hosts.host_has_instances(
            req.rt, service["host"]):
        raise Conflict("Unable to delete compute service that is hosting instances. "
                       "Migrate or delete the instances first.")
    await hosts.delete_service(req.rt, service["uuid"])
    return None
