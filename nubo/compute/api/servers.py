"""``/servers``: create, list, detail, show, update, delete, and the ``action``
dispatcher (``forceDelete`` here; the other actions register in ``ACTIONS``)."""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from nubo.compute import states
from nubo.compute.api import paging, server_create, server_views
from nubo.compute.api import validation as v
from nubo.compute.service import hosts, instances, networking, quotas, server_list, servers
from nubo.compute.service import server_groups as groups
from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()
TARGET = "service/compute/server"
ActionHandler = Callable[[ApiRequest, dict[str, Any], Any], Awaitable[Reply]]
# action name -> (handler, status); the server actions add theirs
ACTIONS: dict[str, tuple[ActionHandler, int]] = {}


def register_action(name: str, handler: ActionHandler, status: int = 202) -> None:
    ACTIONS[name] = (handler, status)


def is_admin(req: ApiRequest) -> bool:
    return req.allowed("context_is_admin", {})


async def load(req: ApiRequest, rule: str, server_id: str | None = None, *,
               extras: bool = True) -> dict[str, Any]:
    """The server named in the path, after ``rule``; 404 when it is not visible.
    Without ``extras`` just its own columns (no metadata, tags, fault, network info)."""
    uuid = server_id or req.params["server_id"]
    async with req.rt.db.read() as conn:
        try:
            server = await instances.get(conn, uuid, extras=extras)
        except NotFound:
            raise instances.not_found(uuid) from None
    if not req.allowed(rule, {"project_id": server["project_id"],
                              "user_id": server["user_id"]}):
        if server["project_id"] != req.ctx.project_id:
            raise instances.not_found(uuid)
        req.authorize(rule, {"project_id": server["project_id"],
                             "user_id": server["user_id"]})
    return server


# ------------------------------------------------------------------ create


@router.post("/v2.1/servers", status=202, target=TARGET)
async def create_server(req: ApiRequest) -> Reply:
    body = await req.json()
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise BadRequest("Invalid input for field/attribute server. 'server' is a required "
                         "property")
    hints = body.get("os:scheduler_hints", body.get("OS-SCH-HNT:scheduler_hints"))
    req.authorize("os_compute_api:servers:create", {"project_id": req.ctx.project_id,
                                                    "user_id": req.ctx.user_id})
    build = server_create.parse(req, body["server"], hints)
    target = {"project_id": req.ctx.project_id, "user_id": req.ctx.user_id}
    if isinstance(build.networks, list):
        req.authorize("os_compute_api:servers:create:attach_network", target)
    build.attach_external = req.allowed("network:attach_external_network", target)
    assert req.ctx.project_id
    async with req.rt.db.read() as conn:
        limits = await quotas.project_limits(conn, req.rt, req.ctx.project_id)
    limit = int(limits.get("metadata_items", 128))
    if limit >= 0:
        server_create.check_quota_free_fields(build.metadata, limit)
    built = await servers.create_servers(req.rt, req.ctx, build, request_id=req.request_id)
    if server_create.return_reservation_id(body["server"]):
        return {"reservation_id": built.reservation_id}
    first = built.servers[0]
    out: dict[str, Any] = {
        "id": first["uuid"], "links": server_views.links(req, "servers", first["uuid"]),
        "OS-DCF:diskConfig": build.disk_config,
        "security_groups": [{"name": n} for n in build.security_groups],
    }
    if built.admin_pass is not None:
        out["adminPass"] = built.admin_pass
    return {"server": out}


# -------------------------------------------------------------------- read


def _bool_filter(req: ApiRequest, name: str) -> bool | None:
    if name not in req.query:
        return None
    return paging.bool_param(req, name)


def _time_filter(req: ApiRequest, name: str) -> dt.datetime | None:
    raw = req.query.get(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {raw}. "
                         f"'{raw}' is not a 'date-time'") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _tag_list(req: ApiRequest, name: str) -> list[str]:
    raw = req.query.get(name)
    return [t for t in raw.split(",") if t] if raw else []


def _sort(req: ApiRequest) -> list[tuple[str, str]]:
    keys = req.query.getlist("sort_key")
    dirs = req.query.getlist("sort_dir")
    out = []
    for i, key in enumerate(keys):
        if key not in server_list.SORT_KEYS:
            raise BadRequest(f"Invalid input for query parameters sort_key. Value: {key}.")
        direction = dirs[i] if i < len(dirs) else (dirs[0] if dirs else "desc")
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid input for query parameters sort_dir. Value: "
                             f"{direction}.")
        if key in ("host", "node") and not is_admin(req):
            continue
        out.append((key, direction))
    return out


def _query(req: ApiRequest, rule: str) -> server_list.ServerQuery:
    admin = req.allowed("os_compute_api:servers:allow_all_filters", {})
    q = server_list.ServerQuery(project_id=req.ctx.project_id)
    all_tenants = "all_tenants" in req.query and (
        req.query["all_tenants"] == "" or paging.bool_param(req, "all_tenants"))
    if all_tenants:
        req.authorize(f"{rule}:get_all_tenants", {"project_id": req.ctx.project_id})
        q.project_id = None
    if admin:
        # Nova ignores the project filters without all_tenants (lp:1185290): the
        # caller's own project is listed then
        project = req.query.get("project_id") or req.query.get("tenant_id")
        if project and all_tenants:
            q.project_id = project
        q.user_id = req.query.get("user_id")
        q.host = req.query.get("host")
        q.node = req.query.get("node")
        q.deleted = paging.bool_param(req, "deleted")
    q.name = req.query.get("name")
    _status_filter(req, q, admin)
    q.ip = req.query.get("ip")
    q.ip6 = req.query.get("ip6") if (admin or req.at_least("2.5")) else None
    q.image = req.query.get("image")
    q.flavor = req.query.get("flavor")
    q.reservation_id = req.query.get("reservation_id")
    q.changes_since = _time_filter(req, "changes-since")
    if req.at_least("2.66"):
        q.changes_before = _time_filter(req, "changes-before")
        if q.changes_since and q.changes_before and q.changes_since > q.changes_before:
            raise BadRequest("The value of changes-since must be less than or equal to "
                             "changes-before.")
    if req.at_least("2.26"):
        q.tags, q.tags_any = _tag_list(req, "tags"), _tag_list(req, "tags-any")
        q.not_tags, q.not_tags_any = _tag_list(req, "not-tags"), _tag_list(req, "not-tags-any")
    if req.at_least("2.73"):
        q.locked = _bool_filter(req, "locked")
    if admin or req.at_least("2.83"):
        q.availability_zone = req.query.get("availability_zone")
        q.key_name = req.query.get("key_name")
        q.description = req.query.get("description") if req.at_least("2.19") else None
        q.states = {k: req.query[k] for k in ("vm_state", "task_state", "power_state",
                                              "config_drive", "progress") if k in req.query}
        for key in ("created_at", "launched_at", "terminated_at"):
            if key in req.query:
                q.times[key] = _time_filter(req, key)
        if req.at_least("2.83") and "user_id" in req.query:
            q.user_id = req.query["user_id"]
    q.sort = _sort(req)
    q.limit = paging.limit(req)
    q.marker = paging.marker(req)
    return q


def _status_filter(req: ApiRequest, q: server_list.ServerQuery, admin: bool) -> None:
    status = req.query.get("status")
    if status is None:
        return
    if status.upper() not in states.STATUSES:
        # Nova ignored unknown statuses (matching nothing) for users until 2.38
        if admin or req.at_least("2.38"):
            raise BadRequest("Invalid status value")
        q.status = "__none__"
        return
    q.status = status
    if status.upper() == "DELETED" and admin:
        q.deleted = True


async def _list(req: ApiRequest, rule: str) -> list[dict[str, Any]]:
    req.authorize(rule, {"project_id": req.ctx.project_id})
    return await server_list.list_servers(req.rt, _query(req, rule))


def _links(req: ApiRequest, found: list[dict[str, Any]]) -> dict[str, Any]:
    page = paging.limit(req)
    links = paging.next_links(req, found, page, found[-1]["uuid"] if found else "")
    return {"servers_links": links} if links else {}


@router.get("/v2.1/servers")
async def list_servers(req: ApiRequest) -> Reply:
    found = await _list(req, "os_compute_api:servers:index")
    return {"servers": [server_views.brief(req, s) for s in found], **_links(req, found)}


@router.get("/v2.1/servers/detail")
async def list_servers_detail(req: ApiRequest) -> Reply:
    found = await _list(req, "os_compute_api:servers:detail")
    admin = req.allowed("os_compute_api:os-extended-server-attributes",
                        {"project_id": req.ctx.project_id})
    statuses = await _host_statuses(req, found)
    sgs = await networking.security_groups_of(req.rt, [s["uuid"] for s in found])
    body = [server_views.full(req, s, admin=admin, host_status=statuses.get(s["uuid"]),
                              security_groups=sgs.get(s["uuid"])) for s in found]
    return {"servers": body, **_links(req, found)}


async def _host_statuses(req: ApiRequest, found: list[dict[str, Any]]) -> dict[str, str]:
    if not req.at_least("2.16") or not req.allowed("os_compute_api:servers:show:host_status",
                                                   {"project_id": req.ctx.project_id}):
        return {}
    services = {s["host"]: s for s in await hosts.list_services(req.rt, binary=hosts.COMPUTE)}
    out = {}
    for server in found:
        service = services.get(server["host"]) if server["host"] else None
        if service is None:
            out[server["uuid"]] = ""
        elif service["forced_down"] or not hosts.is_up(req.rt, service):
            out[server["uuid"]] = "DOWN"
        elif service["disabled"]:
            out[server["uuid"]] = "MAINTENANCE"
        else:
            out[server["uuid"]] = "UP"
    return out


async def server_group_ids(req: ApiRequest, uuid: str) -> list[str] | None:
    """The server's group, as the single-server bodies show it from 2.71 (show,
    update, rebuild); None below 2.71."""
    if not req.at_least("2.71"):
        return None
    group = await groups.group_of_instance(req.rt, uuid)
    return [group] if group else []


@router.get("/v2.1/servers/{server_id}")
async def show_server(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:servers:show")
    admin = req.allowed("os_compute_api:os-extended-server-attributes",
                        {"project_id": server["project_id"]})
    statuses = await _host_statuses(req, [server])
    group_ids = await server_group_ids(req, server["uuid"])
    sgs = await networking.security_groups_of(req.rt, [server["uuid"]])
    return {"server": server_views.full(req, server, admin=admin,
                                        host_status=statuses.get(server["uuid"]),
                                        groups=group_ids,
                                        security_groups=sgs.get(server["uuid"]))}


# ------------------------------------------------------------ update/delete


@router.put("/v2.1/servers/{server_id}", target=TARGET)
async def update_server(req: ApiRequest) -> Reply:
    body = await req.json_object("server")
    server = await load(req, "os_compute_api:servers:update")
    allowed = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"}
    if req.at_least("2.19"):
        allowed.add("description")
    if req.at_least("2.90"):
        allowed.add("hostname")
    v.only(body, allowed, "server")
    fields: dict[str, Any] = {}
    if "name" in body:
        fields["display_name"] = v.string("name", body["name"], max_length=255)
    if "description" in body:
        fields["display_description"] = v.string("description", body["description"],
                                                 min_length=0, nullable=True)
    if "accessIPv4" in body:
        fields["access_ip_v4"] = server_create._ip(body["accessIPv4"], "accessIPv4", 4)
    if "accessIPv6" in body:
        fields["access_ip_v6"] = server_create._ip(body["accessIPv6"], "accessIPv6", 6)
    if "hostname" in body:
        fields["hostname"] = server_create._hostname(body["hostname"])
    if "OS-DCF:diskConfig" in body:
        disk = server_create._disk_config(body["OS-DCF:diskConfig"])
        fields["extra"] = {**(server.get("extra") or {}), "disk_config": disk}
    updated = await servers.update_server(req.rt, server["uuid"],
                                          project_id=server["project_id"], fields=fields)
    admin = req.allowed("os_compute_api:os-extended-server-attributes",
                        {"project_id": server["project_id"]})
    group_ids = await server_group_ids(req, server["uuid"])
    sgs = await networking.security_groups_of(req.rt, [server["uuid"]])
    body = server_views.full(req, updated, admin=admin, groups=group_ids,
                             security_groups=sgs.get(server["uuid"]))
    return {"server": body if req.at_least("2.75") else server_views.before_275(body)}


@router.delete("/v2.1/servers/{server_id}", status=204, target=TARGET)
async def delete_server(req: ApiRequest) -> Reply:
    from nubo.compute.service import soft_delete

    server = await load(req, "os_compute_api:servers:delete", extras=False)
    if soft_delete.enabled(req.rt) and await soft_delete.soft_delete(
            req.rt, req.ctx, server["uuid"], project_id=server["project_id"],
            request_id=req.request_id):
        return None
    await servers.delete_server(req.rt, req.ctx, server["uuid"],
                                project_id=server["project_id"], request_id=req.request_id)
    return None


async def force_delete(req: ApiRequest, server: dict[str, Any], body: Any) -> Reply:
    req.authorize("os_compute_api:os-deferred-delete:force",
                  {"project_id": server["project_id"], "user_id": server["user_id"]})
    await servers.delete_server(req.rt, req.ctx, server["uuid"],
                                project_id=server["project_id"], request_id=req.request_id,
                                force=True)
    return None


register_action("forceDelete", force_delete)


@router.post("/v2.1/servers/{server_id}/action", status=202, target=TARGET)
async def server_action(req: ApiRequest) -> Reply:
    body = await req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("There is either no action or more than one action in the "
                         "request body.")
    name, args = next(iter(body.items()))
    if name not in ACTIONS:
        raise BadRequest(f"There is no such action: {name}")
    try:
        uuidlib.UUID(req.params["server_id"])
    except ValueError:
        raise instances.not_found(req.params["server_id"]) from None
    server = await load(req, "os_compute_api:servers:show")
    handler, status = ACTIONS[name]
    reply = await handler(req, server, args)
    if isinstance(reply, Mapping) and status != 202:
        return JSONResponse(reply, status_code=status)
    return reply
