"""``/v2.1/os-simple-tenant-usage``: what projects used over a period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nubo.compute.api import paging
from nubo.compute.service import usage
from nubo.compute.service.usage import ProjectUsage
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, NotFound

router = Router()
FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f",
           "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _when(req: ApiRequest, name: str, now: dt.datetime) -> dt.datetime:
    raw = req.query.get(name)
    if not raw:
        return now
    text = raw.strip().removesuffix("Z")
    for fmt in FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(f"Invalid {name} time {raw!r}: use YYYY-MM-DDTHH:MM:SS.") from None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _period(req: ApiRequest) -> tuple[dt.datetime, dt.datetime]:
    now = utcnow()
    start, stop = _when(req, "start", now), _when(req, "end", now)
    if start > stop:
        raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
    return start, stop


def _render(u: ProjectUsage, detailed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tenant_id": u.tenant_id, "total_hours": u.total_hours,
        "total_memory_mb_usage": u.total_memory_mb_usage,
        "total_vcpus_usage": u.total_vcpus_usage,
        "total_local_gb_usage": u.total_local_gb_usage,
        "start": u.start.isoformat(timespec="microseconds"),
        "stop": u.stop.isoformat(timespec="microseconds"),
    }
    if detailed:
        out["server_usages"] = u.server_usages
    return out


def _page(req: ApiRequest, found: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """2.40: limit/marker over instances (marker: an instance uuid)."""
    page = paging.limit(req)
    marker = paging.marker(req)
    if marker is not None:
        at = next((i for i, inst in enumerate(found) if inst["uuid"] == marker), None)
        if at is None:
            raise BadRequest(f"Marker {marker} could not be found.")
        found = found[at + 1:]
    return found[:page], page


async def _usages(req: ApiRequest, project_id: str | None
                  ) -> tuple[dict[str, ProjectUsage], list[dict[str, str]]]:
    start, stop = _period(req)
    found = await usage.instances(req.rt, project_id, start, stop)
    links: list[dict[str, str]] = []
    if req.at_least("2.40"):
        found, page = _page(req, found)
        links = paging.next_links(req, found, page, found[-1]["uuid"] if found else "")
    return usage.summarise(found, start, stop), links


@router.get("/v2.1/os-simple-tenant-usage")
async def list_usage(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-simple-tenant-usage:list",
                  {"project_id": req.ctx.project_id})
    detailed = req.query.get("detailed") == "1"
    by_project, links = await _usages(req, None)
    out: dict[str, Any] = {"tenant_usages": [_render(u, detailed)
                                             for u in by_project.values()]}
    if links:
        out["tenant_usages_links"] = links
    return out


@router.get("/v2.1/os-simple-tenant-usage/")
async def show_usage_without_project(req: ApiRequest) -> Reply:
    """An empty project id is no project (and not the list, as a redirect would make it)."""
    raise NotFound("The resource could not be found.")


@router.get("/v2.1/os-simple-tenant-usage/{project_id}")
async def show_usage(req: ApiRequest) -> Reply:
    project_id = req.params["project_id"]
    req.authorize("os_compute_api:os-simple-tenant-usage:show", {"project_id": project_id})
    by_project, links = await _usages(req, project_id)
    found = by_project.get(project_id)
    out: dict[str, Any] = {"tenant_usage": _render(found, True) if found else {}}
    if links:
        out["tenant_usage_links"] = links
    return out
