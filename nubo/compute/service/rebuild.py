"""rebuild: the same server (id, host, flavor) spawned again from an image, with
new name, metadata, key, user data or description if given.

The new fields are written at once (the API answers with them); the server's
agent destroys the guest and spawns it again (task ``rebuilding`` then
``rebuild_spawning``). A stopped server stays stopped afterwards, as in Nova.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nubo.compute import clients, notifications
from nubo.compute.service import instance_actions, instances, keypairs
from nubo.compute.service.actions import check_up, claim_task, load_for, need_host
from nubo.compute.service.servers import agent_topic
from nubo.compute.states import PowerState, TaskState, VmState
from nubo.compute.tables import instance_system_metadata
from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, NotFound
from nubo.core.runtime import Runtime

EVENT = "compute_rebuild_instance"
UNSET = object()


@dataclass
class RebuildRequest:
    image_ref: str
    fields: dict[str, Any] = field(default_factory=dict)     # instance columns
    metadata: dict[str, str] | None = None                    # replaces all when given
    key_name: Any = UNSET                                      # None unsets (2.54)
    trusted_certs: Any = UNSET                                 # 2.63; None unsets
    preserve_ephemeral: bool = False
    disk_config: str | None = None                             # AUTO / MANUAL


async def _image(rt: Runtime, ctx: RequestContext, ref: str,
                 flavor: Mapping[str, Any]) -> dict[str, Any]:
    image = await clients.get_image(rt, ctx, ref)
    size_gb = -(-int(image.get("size") or 0) // (1024 ** 3))
    if flavor["disk"] and max(size_gb, int(image.get("min_disk") or 0)) > flavor["disk"]:
        raise BadRequest("Flavor's disk is too small for requested image.")
    if int(image.get("min_ram") or 0) > flavor["ram"]:
        raise BadRequest("Flavor's memory is too small for requested image.")
    return image


def _sysmeta(image: Mapping[str, Any]) -> dict[str, str]:
    out = {f"image_{k}": str(v) for k, v in clients.image_properties(image).items()}
    out.update({"image_min_disk": str(image.get("min_disk") or 0),
                "image_min_ram": str(image.get("min_ram") or 0),
                "image_disk_format": str(image.get("disk_format") or ""),
                "image_name": str(image.get("name") or "")})
    return out


async def rebuild(rt: Runtime, ctx: RequestContext, uuid: str, req: RebuildRequest, *,
                  request_id: str) -> dict[str, Any]:
    """Start rebuilding; the server as it is now (with the new fields)."""
    async with rt.db.read() as conn:
        current = await instances.get(conn, uuid)
    image = await _image(rt, ctx, req.image_ref, current["flavor"])
    fields = dict(req.fields)
    if req.key_name is not UNSET:
        fields["key_name"] = req.key_name
        fields["key_data"] = None
        if req.key_name is not None:
            try:
                key = await keypairs.get_keypair(rt, current["user_id"], str(req.key_name))
            except NotFound:
                raise BadRequest("Invalid key_name provided.") from None
            fields["key_data"] = key.public_key
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, "rebuild")
        host = need_host(server)
        await check_up(rt, host)
        extra = {**(server.get("extra") or {}), "old_vm_state": server["vm_state"]}
        if req.trusted_certs is not UNSET:
            extra["trusted_certs"] = req.trusted_certs
        if req.disk_config is not None:
            extra["disk_config"] = req.disk_config
        await claim_task(tx, server, TaskState.REBUILDING, image_ref=image["id"],
                         extra=extra, **fields)
        if req.metadata is not None:
            await instances.set_metadata(tx, uuid, req.metadata, replace=True)
        sysmeta = {k: v for k, v in server["system_metadata"].items()
                   if not k.startswith("image_")}
        await instances.set_metadata(tx, uuid, {**sysmeta, **_sysmeta(image)}, replace=True,
                                     table=instance_system_metadata)
        await instance_actions.start_action(tx, uuid, "rebuild", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, EVENT, host=host)
        notifications.emit(tx, "compute.instance.rebuild.start", server)
        tx.publish(agent_topic(host, "rebuild"), {
            "instance_uuid": uuid, "preserve_ephemeral": req.preserve_ephemeral})
        return await instances.get(tx, uuid)


def wants_power(server: Mapping[str, Any]) -> bool:
    return (server.get("extra") or {}).get("old_vm_state") != VmState.STOPPED.value


async def set_spawning(rt: Runtime, uuid: str) -> bool:
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != TaskState.REBUILDING.value:
            return False
        await instances.set_fields(tx, uuid, task_state=TaskState.REBUILD_SPAWNING.value)
        return True


async def rebuilt(rt: Runtime, uuid: str, *, host: str, power_state: int,
                  error: str | None = None) -> None:
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != TaskState.REBUILD_SPAWNING.value:
            return
        if error:
            fields: dict[str, Any] = {"vm_state": VmState.ERROR.value, "task_state": None,
                                      "power_state": PowerState.NOSTATE}
            await instances.add_fault(tx, uuid, code=500, message=error, host=host)
        else:
            vm = VmState.ACTIVE if wants_power(server) else VmState.STOPPED
            fields = {"vm_state": vm.value, "task_state": None, "power_state": power_state,
                      "launched_at": utcnow()}
        await instances.set_fields(tx, uuid, **fields)
        await instance_actions.finish_event(tx, uuid, EVENT, host=host,
                                            result="Error" if error else "Success",
                                            details=error)
        notifications.emit(tx, "compute.instance.rebuild." + ("error" if error else "end"),
                           {**server, **fields})
