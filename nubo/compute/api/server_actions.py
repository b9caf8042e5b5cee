"""``POST /servers/{id}/action``: the server actions, registered into the
dispatcher of ``api/servers.py`` (which has already checked that the caller can
see the server: another project's server is 404 before any of these run)."""

from __future__ import annotations

import secrets
from typing import Any

from nubo.compute import clients
from nubo.compute.agent.actions import local_driver
from nubo.compute.api import validation as v
from nubo.compute.api.servers import register_action
from nubo.compute.service import actions, flavors, hosts, resize, shelve, snapshots
from nubo.compute.service.servers import flavor_dict
from nubo.compute.states import VmState, check_allowed
from nubo.core.api.responses import JSONResponse, empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, Conflict, NotFound

router = Router()     # the actions need no routes of their own; see register_action


def authorize(req: ApiRequest, rule: str, server: dict[str, Any]) -> None:
    req.authorize(rule, {"project_id": server["project_id"], "user_id": server["user_id"]})


def no_args(name: str, args: Any) -> None:
    if args not in (None, {}):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {args}. "
                         f"{args!r} is not of type 'null'")


def power_action(name: str, rule: str, agent_action: str | None = None) -> Any:
    async def handler(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
        authorize(req, rule, server)
        await actions.begin_action(req.rt, req.ctx, server["uuid"], agent_action or name,
                                   request_id=req.request_id, op=name)
        return None
    return handler


for _api_name, _op, _rule in (
    ("os-stop", "stop", "os_compute_api:servers:stop"),
    ("os-start", "start", "os_compute_api:servers:start"),
    ("pause", "pause", "os_compute_api:os-pause-server:pause"),
    ("unpause", "unpause", "os_compute_api:os-pause-server:unpause"),
    ("suspend", "suspend", "os_compute_api:os-suspend-server:suspend"),
    ("resume", "resume", "os_compute_api:os-suspend-server:resume"),
):
    register_action(_api_name, power_action(_op, _rule))


async def reboot(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if not isinstance(args, dict) or "type" not in args:
        raise BadRequest("Invalid input for field/attribute reboot. Value: "
                         f"{args}. 'type' is a required property")
    v.only(args, {"type"}, "reboot")
    kind = args["type"]
    if kind not in ("HARD", "Hard", "hard", "SOFT", "Soft", "soft"):
        raise v.invalid("type", kind, f"{kind!r} is not one of ['HARD', 'Hard', 'hard', "
                                      "'SOFT', 'Soft', 'soft']")
    authorize(req, "os_compute_api:servers:reboot", server)
    hard = kind.upper() == "HARD"
    if not hard and server["vm_state"] != VmState.ACTIVE.value:
        raise Conflict(f"Cannot 'reboot' instance {server['uuid']} while it is in vm_state "
                       f"{server['vm_state']}")
    await actions.begin_action(req.rt, req.ctx, server["uuid"],
                               "reboot_hard" if hard else "reboot",
                               request_id=req.request_id, op="reboot")
    return None


register_action("reboot", reboot)


# ----------------------------------------------------------- lock / unlock


async def lock(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    reason = None
    if req.at_least("2.73") and isinstance(args, dict):
        v.only(args, {"locked_reason"}, "lock")
        if "locked_reason" in args:
            reason = v.string("locked_reason", args["locked_reason"], min_length=0,
                              max_length=255, name_chars=False)
    else:
        no_args("lock", args)
    authorize(req, "os_compute_api:os-lock-server:lock", server)
    await actions.lock_server(req.rt, req.ctx, server["uuid"], request_id=req.request_id,
                              reason=reason)
    return None


async def unlock(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    no_args("unlock", args)
    authorize(req, "os_compute_api:os-lock-server:unlock", server)
    if server["locked"] and server["locked_by"] == "admin" and \
            req.ctx.project_id == server["project_id"]:
        # the owner cannot undo an admin's lock without the override
        authorize(req, "os_compute_api:os-lock-server:unlock:unlock_override", server)
    await actions.unlock_server(req.rt, req.ctx, server["uuid"], request_id=req.request_id)
    return None


register_action("lock", lock)
register_action("unlock", unlock)


# ------------------------------------------------------------ admin actions


async def reset_state(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if not isinstance(args, dict) or "state" not in args:
        raise BadRequest("Invalid input for field/attribute os-resetState. Value: "
                         f"{args}. 'state' is a required property")
    v.only(args, {"state"}, "os-resetState")
    authorize(req, "os_compute_api:os-admin-actions:reset_state", server)
    await actions.reset_state(req.rt, req.ctx, server["uuid"], str(args["state"]),
                              request_id=req.request_id)
    return None


register_action("os-resetState", reset_state)


# ----------------------------------------------------------- console output


def _length(args: Any) -> int | None:
    if args is None:
        return None
    if not isinstance(args, dict):
        raise BadRequest(f"Invalid input for field/attribute os-getConsoleOutput. Value: "
                         f"{args}. {args!r} is not of type 'object'")
    v.only(args, {"length"}, "os-getConsoleOutput")
    raw = args.get("length")
    if raw is None:
        return None
    length = v.integer("length", raw, minimum=-1)
    return None if length == -1 else length


async def console_output(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    length = _length(args)
    authorize(req, "os_compute_api:os-console-output", server)
    driver = local_driver(req.rt, server["host"]) if server["host"] else None
    if driver is None or server["vm_state"] not in (VmState.ACTIVE.value,
                                                    VmState.STOPPED.value,
                                                    VmState.PAUSED.value,
                                                    VmState.RESCUED.value):
        raise Conflict(f"Instance {server['uuid']} is not ready")
    text = await driver.get_console_output(server["uuid"])
    if length is not None:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[-length:]) if length else ""
    return {"output": text}


register_action("os-getConsoleOutput", console_output, status=200)


# ------------------------------------------------------ createImage / createBackup


def _image_reply(req: ApiRequest, image_id: str) -> Reply:
    if req.at_least("2.45"):
        return {"image_id": image_id}
    location = f"{req.rt.settings.public_url}/image/v2/images/{image_id}"
    return empty(202, {"Location": location})


def _image_args(name: str, args: Any, required: set[str], allowed: set[str]
                ) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {args}. "
                         f"{args!r} is not of type 'object'")
    missing = sorted(required - set(args))
    if missing:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {args}. "
                         f"'{missing[0]}' is a required property")
    v.only(args, allowed, name)
    v.string("name", args["name"], max_length=255)
    meta = args.get("metadata", {})
    if not isinstance(meta, dict) or not all(isinstance(x, str) and len(x) <= 255
                                             for x in meta.values()):
        raise v.invalid("metadata", meta, "metadata is an object of strings (at most 255 "
                                          "characters)")
    return args


async def create_image(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    args = _image_args("createImage", args, {"name"}, {"name", "metadata"})
    authorize(req, "os_compute_api:servers:create_image", server)
    image_id = await snapshots.create_image(req.rt, req.ctx, server["uuid"],
                                            name=args["name"],
                                            metadata=args.get("metadata", {}),
                                            request_id=req.request_id)
    return _image_reply(req, image_id)


async def create_backup(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    args = _image_args("createBackup", args, {"name", "backup_type", "rotation"},
                       {"name", "backup_type", "rotation", "metadata"})
    backup_type = v.string("backup_type", args["backup_type"], max_length=255,
                           name_chars=False)
    rotation = v.integer("rotation", args["rotation"], minimum=0)
    authorize(req, "os_compute_api:os-create-backup", server)
    image_id = await snapshots.create_image(
        req.rt, req.ctx, server["uuid"], name=args["name"],
        metadata=args.get("metadata", {}), request_id=req.request_id, kind="backup",
        backup_type=backup_type, rotation=rotation)
    if rotation == 0:
        return None
    return _image_reply(req, image_id)


register_action("createImage", create_image)
register_action("createBackup", create_backup)


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
    if args.get("OS-DCF:diskConfig", "MANUAL") not in ("AUTO", "MANUAL"):
        raise v.invalid("OS-DCF:diskConfig", args["OS-DCF:diskConfig"],
                        "is not one of ['AUTO', 'MANUAL']")
    authorize(req, "os_compute_api:servers:resize", server)
    flavor = await _new_flavor(req, args["flavorRef"])
    old = server["flavor"]
    if flavor["id"] == old["id"]:
        raise BadRequest("When resizing, instances must change flavor!")
    if server["image_ref"] and flavor["disk"] < old["disk"]:
        raise BadRequest("Resize error: Unable to resize disk down.")
    await resize.begin_move(req.rt, req.ctx, server["uuid"], new_flavor=flavor,
                            request_id=req.request_id)
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


# ---------------------------------------- rescue, password, crash dump, restore


def _admin_pass(value: Any) -> str:
    if not isinstance(value, str):
        raise v.invalid("adminPass", value, f"{value!r} is not of type 'string'")
    return value


async def rescue(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if args is not None and not isinstance(args, dict):
        raise BadRequest(f"Invalid input for field/attribute rescue. Value: {args}. "
                         f"{args!r} is not of type 'object', 'null'")
    args = args or {}
    v.only(args, {"adminPass", "rescue_image_ref"}, "rescue")
    password = _admin_pass(args["adminPass"]) if "adminPass" in args else None
    authorize(req, "os_compute_api:os-rescue", server)
    image = None
    if "rescue_image_ref" in args:
        image = (await clients.get_image(req.rt, req.ctx, str(args["rescue_image_ref"])))["id"]
    if password is None and req.rt.settings.compute.enable_instance_password:
        password = secrets.token_urlsafe(9)
    await actions.begin_action(req.rt, req.ctx, server["uuid"], "rescue",
                               request_id=req.request_id, args={"rescue_image": image})
    if not req.rt.settings.compute.enable_instance_password:
        return JSONResponse({}, status_code=200)
    return JSONResponse({"adminPass": password}, status_code=200)


async def unrescue(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    no_args("unrescue", args)
    authorize(req, "os_compute_api:os-unrescue", server)
    await actions.begin_action(req.rt, req.ctx, server["uuid"], "unrescue",
                               request_id=req.request_id)
    return None


async def change_password(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if not isinstance(args, dict) or "adminPass" not in args:
        raise BadRequest(f"Invalid input for field/attribute changePassword. Value: {args}. "
                         "'adminPass' is a required property")
    v.only(args, {"adminPass"}, "changePassword")
    password = _admin_pass(args["adminPass"])
    authorize(req, "os_compute_api:os-admin-password", server)
    await actions.begin_action(req.rt, req.ctx, server["uuid"], "changePassword",
                               request_id=req.request_id, args={"password": password})
    return None


async def trigger_crash_dump(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    if not req.at_least("2.17"):
        raise NotFound("The resource could not be found.")   # Nova: not in this version
    no_args("trigger_crash_dump", args)
    authorize(req, "os_compute_api:servers:trigger_crash_dump", server)
    await actions.begin_action(req.rt, req.ctx, server["uuid"], "trigger_crash_dump",
                               request_id=req.request_id)
    return None


async def restore(req: ApiRequest, server: dict[str, Any], args: Any) -> Reply:
    """Soft delete is not offered ([compute] reclaim_instance_interval is 0), so no
    server is ever SOFT_DELETED: this is always Nova's 409."""
    no_args("restore", args)
    authorize(req, "os_compute_api:os-deferred-delete:restore", server)
    check_allowed("restore", server["uuid"], server["vm_state"], server["task_state"])
    raise Conflict(f"Instance {server['uuid']} cannot be restored: soft delete is off.")


register_action("rescue", rescue, status=200)
register_action("unrescue", unrescue)
register_action("changePassword", change_password)
register_action("trigger_crash_dump", trigger_crash_dump)
register_action("restore", restore)
