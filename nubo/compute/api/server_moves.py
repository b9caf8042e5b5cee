"""Server actions that move or remake a server: resize / confirmResize /
revertResize, migrate, os-migrateLive, evacuate, shelve / shelveOffload /
unshelve, rebuild (registered into the dispatcher of ``api/servers.py``)."""

from __future__ import annotations

import secrets
from typing import Any

from nubo.compute.api import server_create, server_views
from nubo.compute.api import validation as v
from nubo.compute.api.server_actions import authorize, no_args
from nubo.compute.api.servers import register_action, server_group_ids
from nubo.compute.service import evacuate as evacuation
from nubo.compute.service import flavors, hosts, networking, quotas, resize, shelve
from nubo.compute.service import live_migration as live
from nubo.compute.service import rebuild as rebuilding
from nubo.compute.service.servers import flavor_dict
from nubo.core.api.responses import JSONResponse, empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()     # the actions need no routes of their own; see register_action


# ------------------------------------------------------- resize / cold migrate


async def _new_flavor(req: ApiRequest, ref: Any) -> dict[str, Any]:
    if not isinstance(ref, (str, int)) or isinstance(ref, bool) or str(ref) == "":
        raise v.invalid("flavorRef", ref, f"{ref!r} is not of type 'string', 'integer'")
    flavor_id = str(ref).rstrip("/").rsplit("/", 1)[-1]
    try:
        return flavor_dict(await flavors.get_flavor(req.rt, req.ctx, flavor_id))
    except NotFound:
        raise BadRequest("Unable to locate requested flavor.") from None


async def resize_server(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if not isinstance(args, dict) or "flavorRef" not in args:
        raise BadRequest(f"Invalid input for field/attribute resize. Value: {args}. "
                         "'flavorRef' is a required property")
    v.only(args, {"flavorRef", "OS-DCF:diskConfig"}, "resize")
    disk_config = (server_create._disk_config(args["OS-DCF:diskConfig"])
                   if "OS-DCF:diskConfig" in args else None)
    authorize(req, "os_compute_api:servers:resize", server)
    flavor = await _new_flavor(req, args["flavorRef"])
    old = server["flavor"]
    if flavor["id"] == old["id"]:
        raise BadRequest("When resizing, instances must change flavor!")
    if server["image_ref"] and flavor["disk"] < old["disk"]:
        raise BadRequest("Resize error: Unable to resize disk down.")
    await resize.begin_move(req.rt, req.ctx, server["uuid"], new_flavor=flavor,
                            request_id=req.request_id, disk_config=disk_config)
    return None


async def confirm_resize(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    no_args("confirmResize", args)
    authorize(req, "os_compute_api:servers:confirm_resize", server)
    await resize.confirm(req.rt, req.ctx, server["uuid"], request_id=req.request_id)
    return empty(204)


async def revert_resize(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    no_args("revertResize", args)
    authorize(req, "os_compute_api:servers:revert_resize", server)
    await resize.revert(req.rt, req.ctx, server["uuid"], request_id=req.request_id)
    return None


async def migrate(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    host = None
    if req.at_least("2.56") and isinstance(args, dict):
        v.only(args, {"host"}, "migrate")
        if args.get("host") is not None:
            host = v.string("host", args["host"], max_length=255)
    else:
        no_args("migrate", args)
    authorize(req, "os_compute_api:os-migrate-server:migrate", server)
    if host is not None:
        authorize(req, "os_compute_api:os-migrate-server:migrate:host", server)
        if await hosts.get_service(req.rt, host) is None:
            raise BadRequest(f"Compute host {host} could not be found.")
        if host == server["host"]:
            raise BadRequest(f"Unable to migrate instance ({server['uuid']}) to current "
                             f"host ({host}).")
    await resize.begin_move(req.rt, req.ctx, server["uuid"], new_flavor=None,
                            request_id=req.request_id, host=host)
    return None


register_action("resize", resize_server)
register_action("confirmResize", confirm_resize)
register_action("revertResize", revert_resize)
register_action("migrate", migrate)


# ------------------------------------------------------------------- shelve


async def shelve_server(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    no_args("shelve", args)
    authorize(req, "os_compute_api:os-shelve:shelve", server)
    await shelve.shelve(req.rt, req.ctx, server["uuid"], request_id=req.request_id)
    return None


async def shelve_offload(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    no_args("shelveOffload", args)
    authorize(req, "os_compute_api:os-shelve:shelve_offload", server)
    await shelve.shelve_offload(req.rt, req.ctx, server["uuid"], request_id=req.request_id)
    return None


async def unshelve_server(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    zone = None
    if req.at_least("2.77") and isinstance(args, dict):
        v.only(args, {"availability_zone"}, "unshelve")
        if "availability_zone" not in args:
            raise BadRequest("Invalid input for field/attribute unshelve. Value: "
                             f"{args}. 'availability_zone' is a required property")
        zone = v.string("availability_zone", args["availability_zone"], max_length=255)
    else:
        no_args("unshelve", args)
    authorize(req, "os_compute_api:os-shelve:unshelve", server)
    await shelve.unshelve(req.rt, req.ctx, server["uuid"], request_id=req.request_id,
                          availability_zone=zone)
    return None


register_action("shelve", shelve_server)
register_action("shelveOffload", shelve_offload)
register_action("unshelve", unshelve_server)


# ------------------------------------------------------------------ rebuild

# what the rebuild answer lacked before 2.75 made it the full GET body
def _rebuild_fields(req: ApiRequest, args: dict[str, Any]) -> rebuilding.RebuildRequest:
    allowed = {"imageRef", "name", "adminPass", "metadata", "OS-DCF:diskConfig",
               "preserve_ephemeral", "accessIPv4", "accessIPv6"}
    for key, version in (("description", "2.19"), ("key_name", "2.54"),
                         ("user_data", "2.57"), ("trusted_image_certificates", "2.63"),
                         ("hostname", "2.90")):
        if req.at_least(version):
            allowed.add(key)
    if not req.at_least("2.57"):
        allowed.add("personality")
    v.only(args, allowed, "rebuild")
    ref = args["imageRef"]
    if not isinstance(ref, str) or not ref:
        raise v.invalid("imageRef", ref, f"{ref!r} is not a valid image reference")
    out = rebuilding.RebuildRequest(image_ref=ref.rstrip("/").rsplit("/", 1)[-1])
    if "name" in args:
        out.fields["display_name"] = v.string("name", args["name"], max_length=255)
    if "description" in args:
        out.fields["display_description"] = v.string(
            "description", args["description"], min_length=0, nullable=True)
    if "accessIPv4" in args:
        out.fields["access_ip_v4"] = server_create._ip(args["accessIPv4"], "accessIPv4", 4)
    if "accessIPv6" in args:
        out.fields["access_ip_v6"] = server_create._ip(args["accessIPv6"], "accessIPv6", 6)
    if "user_data" in args:
        out.fields["user_data"] = server_create._user_data(args["user_data"])
    if "hostname" in args:
        out.fields["hostname"] = server_create._hostname(args["hostname"])
    if "metadata" in args:
        out.metadata = server_create._metadata(args["metadata"])
    if "key_name" in args:
        out.key_name = None if args["key_name"] is None else v.string(
            "key_name", args["key_name"], max_length=255)
    if "trusted_image_certificates" in args:
        out.trusted_certs = _trusted_certs(args["trusted_image_certificates"])
    if "preserve_ephemeral" in args:
        out.preserve_ephemeral = v.boolean("preserve_ephemeral", args["preserve_ephemeral"])
    if "OS-DCF:diskConfig" in args:
        out.disk_config = server_create._disk_config(args["OS-DCF:diskConfig"])
    return out


def _trusted_certs(value: Any) -> list[str] | None:
    if value is None:
        return None
    if (not isinstance(value, list) or not 1 <= len(value) <= 50
            or not all(isinstance(c, str) and c for c in value)
            or len(set(value)) != len(value)):
        raise v.invalid("trusted_image_certificates", value, "it must be null or 1 to 50 "
                        "unique non-empty strings")
    return list(value)


async def rebuild(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if not isinstance(args, dict) or "imageRef" not in args:
        raise BadRequest(f"Invalid input for field/attribute rebuild. Value: {args}. "
                         "'imageRef' is a required property")
    wanted = _rebuild_fields(req, args)
    password = args.get("adminPass")
    if password is not None and not isinstance(password, str):
        raise v.invalid("adminPass", password, f"{password!r} is not of type 'string'")
    authorize(req, "os_compute_api:servers:rebuild", server)
    if wanted.metadata is not None:
        async with req.rt.db.read() as conn:
            limits = await quotas.project_limits(conn, req.rt, server["project_id"])
        limit = int(limits.get("metadata_items", 128))
        if limit >= 0:
            server_create.check_quota_free_fields(wanted.metadata, limit)
    done = await rebuilding.rebuild(req.rt, req.ctx, server["uuid"], wanted,
                                    request_id=req.request_id)
    admin = req.allowed("os_compute_api:os-extended-server-attributes",
                        {"project_id": server["project_id"]})
    groups = await networking.security_groups_of(req.rt, [server["uuid"]])
    body = server_views.full(req, done, admin=admin,
                             groups=await server_group_ids(req, server["uuid"]),
                             security_groups=groups.get(server["uuid"]))
    if not req.at_least("2.75"):
        body = server_views.before_275(body)
        if req.at_least("2.54"):
            body["key_name"] = done.get("key_name")
    else:       # the GET body, but user data as below
        body.pop("OS-EXT-SRV-ATTR:user_data", None)
    if req.at_least("2.57"):
        body["user_data"] = done.get("user_data")
    if req.rt.settings.compute.enable_instance_password:
        body["adminPass"] = password or secrets.token_urlsafe(9)
    return {"server": body}


register_action("rebuild", rebuild)


# ------------------------------------------------- live migration, evacuation


def _bool_arg(args: dict[str, Any], name: str, required: bool) -> bool:
    if name not in args:
        if required:
            raise BadRequest(f"Invalid input for field/attribute {name}. Value: None. "
                             f"'{name}' is a required property")
        return False
    return v.boolean(name, args[name])


async def _target_host(req: ApiRequest, server: dict[str, Any], args: dict[str, Any]
                       ) -> str | None:
    host = args.get("host")
    if host is None:
        return None
    host = v.string("host", host, max_length=255)
    if await hosts.get_service(req.rt, str(host)) is None:
        raise BadRequest(f"Compute host {host} could not be found.")
    if host == server["host"]:
        raise BadRequest(f"Unable to migrate instance ({server['uuid']}) to current host "
                         f"({host}).")
    return host


async def live_migrate(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if not isinstance(args, dict) or "host" not in args:
        raise BadRequest(f"Invalid input for field/attribute os-migrateLive. Value: {args}. "
                         "'host' is a required property")
    allowed = {"host", "block_migration"}
    if not req.at_least("2.25"):
        allowed.add("disk_over_commit")
    if req.at_least("2.30") and not req.at_least("2.68"):
        allowed.add("force")
    v.only(args, allowed, "os-migrateLive")
    if req.at_least("2.25"):
        if "block_migration" not in args:
            raise BadRequest("Invalid input for field/attribute block_migration. Value: "
                             "None. 'block_migration' is a required property")
        if args["block_migration"] != "auto":
            v.boolean("block_migration", args["block_migration"])
    else:
        _bool_arg(args, "block_migration", True)
        _bool_arg(args, "disk_over_commit", True)
    force = _bool_arg(args, "force", False)
    authorize(req, "os_compute_api:os-migrate-server:migrate_live", server)
    host = await _target_host(req, server, args)
    await live.live_migrate(req.rt, req.ctx, server["uuid"], host=host,
                            force=force and host is not None, request_id=req.request_id,
                            raise_no_host=not req.at_least("2.34"))
    return None


async def evacuate(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if not isinstance(args, dict):
        raise BadRequest(f"Invalid input for field/attribute evacuate. Value: {args}. "
                         f"{args!r} is not of type 'object'")
    allowed = {"host", "adminPass"}
    if not req.at_least("2.14"):
        allowed.add("onSharedStorage")
    if req.at_least("2.29") and not req.at_least("2.68"):
        allowed.add("force")
    v.only(args, allowed, "evacuate")
    shared = _bool_arg(args, "onSharedStorage", not req.at_least("2.14"))
    force = _bool_arg(args, "force", False)
    password = args.get("adminPass")
    if password is not None and not isinstance(password, str):
        raise v.invalid("adminPass", password, f"{password!r} is not of type 'string'")
    if shared and password is not None:
        raise BadRequest("admin password can't be changed on existing disk")
    authorize(req, "os_compute_api:os-evacuate", server)
    host = args.get("host")
    if host is not None:
        host = v.string("host", host, max_length=255)
        if await hosts.get_service(req.rt, str(host)) is None:
            raise NotFound(f"Compute host {host} not found.")
        if host == server["host"]:
            raise BadRequest("The target host can't be the same one.")
    await evacuation.evacuate(req.rt, req.ctx, server["uuid"], host=host,
                              force=force and host is not None, request_id=req.request_id)
    if not req.at_least("2.14") and req.rt.settings.compute.enable_instance_password:
        return JSONResponse({"adminPass": password or secrets.token_urlsafe(9)},
                            status_code=200)
    return empty(200)


register_action("os-migrateLive", live_migrate)
register_action("evacuate", evacuate, status=200)
