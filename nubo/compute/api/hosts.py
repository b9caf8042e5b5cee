"""``/os-hosts`` (deprecated, up to 2.42): hosts with their services and zones,
a host's resource usage, and enabling or disabling a host's compute service."""

from __future__ import annotations

from typing import Any

from nubo.compute.api import validation as v
from nubo.compute.service import aggregates, hosts
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound, NotImplementedYet

router = Router()
MAX = "2.42"


async def _rows(req: ApiRequest) -> list[dict[str, Any]]:
    compute = req.rt.settings.compute
    zone_of: dict[str, str] = {}
    for agg in await aggregates.list_aggregates(req.rt):
        for host in agg.hosts:
            if agg.availability_zone:
                zone_of.setdefault(host, agg.availability_zone)
    out = []
    for s in await hosts.list_services(req.rt):
        compute_service = s["binary"] == hosts.COMPUTE
        out.append({"host_name": s["host"], "service": s.get("topic") or s["binary"],
                    "zone": zone_of.get(s["host"], compute.default_availability_zone)
                    if compute_service else compute.internal_service_availability_zone})
    return out


@router.get("/v2.1/os-hosts", max_version=MAX)
async def list_hosts(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-hosts:list", {})
    rows = await _rows(req)
    zone = req.query.get("zone")
    if zone:
        rows = [r for r in rows if r["zone"] == zone]
    return {"hosts": rows}


@router.get("/v2.1/os-hosts/{host_name}", max_version=MAX)
async def show_host(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-hosts:show", {})
    name = req.params["host_name"]
    node = next((n for n in await hosts.list_nodes(req.rt) if n["host"] == name), None)
    if node is None:
        raise NotFound(f"Compute host {name} could not be found.")
    mine = (await hosts.instances_by_host(req.rt)).get(name, [])
    used = {"cpu": sum(int(i["flavor"]["vcpus"]) for i in mine),
            "memory_mb": sum(int(i["flavor"]["ram"]) for i in mine),
            "disk_gb": sum(int(i["flavor"]["disk"]) for i in mine)}
    rows = [
        {"resource": {"host": name, "project": "(total)", "cpu": node["vcpus"],
                      "memory_mb": node["memory_mb"], "disk_gb": node["local_gb"]}},
        {"resource": {"host": name, "project": "(used_now)", **used}},
        {"resource": {"host": name, "project": "(used_max)", **used}},
    ]
    by_project: dict[str, dict[str, int]] = {}
    for i in mine:
        p = by_project.setdefault(i.get("project_id", ""), {"cpu": 0, "memory_mb": 0,
                                                              "disk_gb": 0})
        p["cpu"] += int(i["flavor"]["vcpus"])
        p["memory_mb"] += int(i["flavor"]["ram"])
        p["disk_gb"] += int(i["flavor"]["disk"])
    rows += [{"resource": {"host": name, "project": p, **r}} for p, r in by_project.items()]
    return {"host": rows}


@router.put("/v2.1/os-hosts/{host_name}", max_version=MAX)
async def update_host(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-hosts:update", {})
    body = await req.json()
    if not isinstance(body, dict) or not body:
        raise BadRequest("Invalid input for field/attribute body: 'status' or "
                         "'maintenance_mode' is required")
    v.only(body, {"status", "maintenance_mode"}, "body")
    for key in ("status", "maintenance_mode"):
        if key in body and body[key] not in ("enable", "disable"):
            raise v.invalid(key, body[key], f"{body[key]!r} is not one of ['enable', "
                            "'disable']")
    name = req.params["host_name"]
    service = await _service(req, name)
    if "maintenance_mode" in body:
        raise NotImplementedYet("Virt driver does not implement host maintenance mode.")
    status = body["status"]
    await hosts.update_service(req.rt, service["uuid"], disabled=status == "disable")
    return {"host": name, "status": "enabled" if status == "enable" else "disabled"}


async def _service(req: ApiRequest, name: str) -> dict[str, Any]:
    service = await hosts.get_service(req.rt, name)
    if service is None:
        raise NotFound(f"Compute host {name} could not be found.")
    return service


async def _power(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-hosts:reboot", {})
    await _service(req, req.params["host_name"])
    raise NotImplementedYet("Virt driver does not implement host power management.")


for _action in ("reboot", "shutdown", "startup"):
    router.get(f"/v2.1/os-hosts/{{host_name}}/{_action}", max_version=MAX)(_power)
