"""``/os-availability-zone`` and ``/detail``: the zones of the compute hosts
(aggregates' zones, the default zone for hosts in none) and, for admins, the
``internal`` zone of the control-plane services."""

from __future__ import annotations

from typing import Any

from nubo.compute.api.server_views import timestamp
from nubo.compute.service import aggregates, hosts
from nubo.core.api.routing import ApiRequest, Reply, Router

router = Router()


async def _zones(req: ApiRequest) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """zone -> host -> services."""
    compute = req.rt.settings.compute
    host_zone: dict[str, str] = {}
    for agg in await aggregates.list_aggregates(req.rt):
        if agg.availability_zone:
            for host in agg.hosts:
                host_zone.setdefault(host, agg.availability_zone)
    zones: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for s in await hosts.list_services(req.rt):
        if s["binary"] == hosts.COMPUTE:
            zone = host_zone.get(s["host"], compute.default_availability_zone)
        else:
            zone = compute.internal_service_availability_zone
        zones.setdefault(zone, {}).setdefault(s["host"], []).append(s)
    return zones


def _available(req: ApiRequest, services: list[dict[str, Any]]) -> bool:
    return any(not s["disabled"] and hosts.is_up(req.rt, s) for s in services)


@router.get("/v2.1/os-availability-zone")
async def list_zones(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-availability-zone:list", {})
    internal = req.rt.settings.compute.internal_service_availability_zone
    out = []
    for zone, by_host in sorted((await _zones(req)).items()):
        if zone == internal:
            continue
        services = [s for ss in by_host.values() for s in ss]
        out.append({"zoneName": zone, "zoneState": {"available": _available(req, services)},
                    "hosts": None})
    return {"availabilityZoneInfo": out}


@router.get("/v2.1/os-availability-zone/detail")
async def list_zones_detail(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-availability-zone:detail", {})
    out = []
    for zone, by_host in sorted((await _zones(req)).items()):
        services = [s for ss in by_host.values() for s in ss]
        detail = {host: {s["binary"]: {"available": hosts.is_up(req.rt, s),
                                       "active": not s["disabled"],
                                       "updated_at": timestamp(s["updated_at"]
                                                               or s["last_seen_up"])}
                         for s in ss} for host, ss in by_host.items()}
        out.append({"zoneName": zone, "zoneState": {"available": _available(req, services)},
                    "hosts": detail})
    return {"availabilityZoneInfo": out}
