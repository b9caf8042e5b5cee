"""``POST /servers/{id}/action``: the server actions, registered into the
dispatcher of ``api/servers.py`` (which has already checked that the caller can
see the server: another project's server is 404 before any of these run)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from nubo.compute import agent_calls, clients
from nubo.compute.api import validation as v
from nubo.compute.api.servers import register_action
from nubo.compute.service import actions, snapshots, soft_delete
from nubo.compute.states import VmState
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


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")     # Nova drops these (not \t, \n)


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
    if not server["host"] or server["vm_state"] not in (VmState.ACTIVE.value,
                                                        VmState.STOPPED.value,
                                                        VmState.PAUSED.value,
                                                        VmState.RESCUED.value):
        raise Conflict(f"Instance {server['uuid']} is not ready")
    answer = await agent_calls.call(req.rt, server["host"], "console_output",
                                    {"instance_uuid": server["uuid"]})
    text = _CONTROL.sub("", str(answer.get("output") or ""))
    if length is not None:
        # Nova's tail: the last ``length`` pieces between newlines, the empty one
        # after a final newline included (clients count lines so)
        text = "\n".join(text.split("\n")[-length:]) if length else ""
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
    """Bring a SOFT_DELETED server back ([compute] reclaim_instance_interval > 0);
    403 when the project's quota no longer has room for it."""
    no_args("restore", args)
    authorize(req, "os_compute_api:os-deferred-delete:restore", server)
    await soft_delete.restore(req.rt, req.ctx, server["uuid"], request_id=req.request_id)
    return None


register_action("rescue", rescue, status=200)
register_action("unrescue", unrescue)
register_action("changePassword", change_password)
register_action("trigger_crash_dump", trigger_crash_dump)
register_action("restore", restore)
