"""``/os-migrations`` (admin) and ``/servers/{id}/migrations`` (2.23: a server's
in-progress live migrations)."""

from __future__ import annotations

from typing import Any

from nubo.compute.api import paging, server_views
from nubo.compute.api.servers import _time_filter, load
from nubo.compute.service import live_migration as live
from nubo.compute.service import migrations
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()


def _flavor_id(flavor: dict[str, Any] | None) -> Any:
    ident = (flavor or {}).get("id")
    return int(ident) if isinstance(ident, str) and ident.isdigit() else ident


def view(req: ApiRequest, m: dict[str, Any], *, live_links: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m["id"], "instance_uuid": m["instance_uuid"], "status": m["status"],
        "source_compute": m["source_compute"], "source_node": m["source_node"],
        "dest_compute": m["dest_compute"], "dest_node": m["dest_node"],
        "dest_host": m["dest_host"], "old_instance_type_id": _flavor_id(m["old_flavor"]),
        "new_instance_type_id": _flavor_id(m["new_flavor"]),
        "created_at": server_views.timestamp(m["created_at"]),
        "updated_at": server_views.timestamp(m["updated_at"]),
    }
    if req.at_least("2.23"):
        out["migration_type"] = m["migration_type"]
        if (live_links and m["migration_type"] == "live-migration"
                and m["status"] in migrations.IN_PROGRESS):
            out["links"] = server_views.links(
                req, f"servers/{m['instance_uuid']}/migrations", str(m["id"]))
    if req.at_least("2.59"):
        out["uuid"] = m["uuid"]
    if req.at_least("2.80"):
        out["user_id"] = m["user_id"]
        out["project_id"] = m["project_id"]
    return out


def _query(req: ApiRequest) -> migrations.MigrationQuery:
    q = migrations.MigrationQuery(
        host=req.query.get("host"), status=req.query.get("status"),
        instance_uuid=req.query.get("instance_uuid"),
        migration_type=req.query.get("migration_type"))
    if req.at_least("2.59"):
        q.changes_since = _time_filter(req, "changes-since")
    if req.at_least("2.66"):
        q.changes_before = _time_filter(req, "changes-before")
        if q.changes_since and q.changes_before and q.changes_since > q.changes_before:
            raise BadRequest("The value of changes-since must be less than or equal to "
                             "changes-before.")
    if req.at_least("2.80"):
        q.user_id = req.query.get("user_id")
        q.project_id = req.query.get("project_id")
    return q


def _page(req: ApiRequest, found: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    marker = paging.marker(req)
    if marker is not None:
        at = [i for i, m in enumerate(found) if m["uuid"] == marker]
        if not at:
            raise BadRequest(f"Marker {marker} could not be found.")
        found = found[at[0] + 1:]
    size = paging.limit(req)
    return found[:size], size


@router.get("/v2.1/os-migrations")
async def list_migrations(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-migrations:index", {"project_id": req.ctx.project_id})
    async with req.rt.db.read() as conn:
        found = await migrations.list_migrations(conn, _query(req))
    if not req.at_least("2.59"):
        return {"migrations": [view(req, m) for m in found]}
    page, size = _page(req, found)
    body: dict[str, Any] = {"migrations": [view(req, m) for m in page]}
    links = paging.next_links(req, page, size, page[-1]["uuid"] if page else "")
    if links:
        body["migrations_links"] = links
    return body


BASE = "/v2.1/servers/{server_id}/migrations"


async def _live(req: ApiRequest, rule: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    server = await load(req, rule)
    async with req.rt.db.read() as conn:
        found = await migrations.list_migrations(conn, migrations.MigrationQuery(
            in_progress_live_of=server["uuid"]))
    return server, found


def _live_view(req: ApiRequest, m: dict[str, Any]) -> dict[str, Any]:
    full = view(req, m)
    out: dict[str, Any] = {k: full[k] for k in (
        "id", "status", "source_compute", "source_node", "dest_compute", "dest_node",
        "dest_host", "created_at", "updated_at")}
    out["server_uuid"] = m["instance_uuid"]
    for part in ("disk", "memory"):
        for what in ("processed", "remaining", "total"):
            out[f"{part}_{what}_bytes"] = None
    for key in ("uuid", "user_id", "project_id"):
        if key in full:
            out[key] = full[key]
    return out


@router.get(BASE, min_version="2.23")
async def list_server_migrations(req: ApiRequest) -> Reply:
    _, found = await _live(req, "os_compute_api:servers:migrations:index")
    return {"migrations": [_live_view(req, m) for m in found]}


@router.get(BASE + "/{migration_id}", min_version="2.23")
async def show_server_migration(req: ApiRequest) -> Reply:
    server, found = await _live(req, "os_compute_api:servers:migrations:show")
    wanted = req.params["migration_id"]
    for m in found:
        if str(m["id"]) == wanted:
            return {"migration": _live_view(req, m)}
    raise NotFound(f"In-progress live migration {wanted} is not found for server "
                   f"{server['uuid']}.")



def _migration_id(req: ApiRequest) -> int:
    raw = req.params["migration_id"]
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Invalid migration id {raw}: it must be an integer.") from None


@router.post(BASE + "/{migration_id}/action", status=202, min_version="2.22",
             target="service/compute/server/migrations")
async def server_migration_action(req: ApiRequest) -> Reply:
    body = await req.json()
    if not isinstance(body, dict) or set(body) != {"force_complete"}:
        raise BadRequest("There is no such action: the body must be "
                         "{\"force_complete\": null}")
    server = await load(req, "os_compute_api:servers:migrations:force_complete")
    await live.force_complete(req.rt, req.ctx, server["uuid"], _migration_id(req),
                              request_id=req.request_id)
    return None


@router.delete(BASE + "/{migration_id}", status=202, min_version="2.24",
               target="service/compute/server/migrations")
async def abort_server_migration(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:servers:migrations:delete")
    await live.abort(req.rt, req.ctx, server["uuid"], _migration_id(req),
                     request_id=req.request_id)
    return None
