"""createImage and createBackup: a server's disk stored as an image.

As in Nova, the image record is made at once in the image service (queued, so
its id can be answered), the server goes to task ``image_snapshot`` (or
``image_backup``), and its agent streams the driver's snapshot into the image
(``image_uploading``), then reports here. A backup then rotates: only the
``rotation`` newest backups of that server and ``backup_type`` are kept.

The caller's identity travels with the work (as Nova's request context does over
RPC), so the upload and the rotation are done with the caller's rights.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from nubo.compute import clients, notifications
from nubo.compute.service import instance_actions, instances
from nubo.compute.service.actions import check_up, claim_task, load_for, need_host
from nubo.compute.service.servers import agent_topic
from nubo.compute.states import TaskState
from nubo.core.auth.context import RequestContext
from nubo.core.errors import NuboError
from nubo.core.runtime import Runtime

AGENT_OP = "snapshot"
EVENTS = {"snapshot": "compute_snapshot_instance", "backup": "compute_backup_instance"}
# image properties a snapshot does not inherit from the server's image
NOT_INHERITED = frozenset({"min_disk", "min_ram", "disk_format", "name",
                           "container_format", "base_image_ref", "instance_uuid",
                           "image_type", "backup_type", "user_id"})


def context_payload(ctx: RequestContext) -> dict[str, Any]:
    return {"user_id": ctx.user_id, "project_id": ctx.project_id, "roles": list(ctx.roles)}


def context_from(payload: Mapping[str, Any]) -> RequestContext:
    return RequestContext(user_id=str(payload["user_id"]),
                          project_id=payload.get("project_id"),
                          roles=tuple(payload.get("roles") or ()))


def image_body(server: Mapping[str, Any], name: str, metadata: Mapping[str, str], *,
               kind: str, backup_type: str | None = None) -> dict[str, Any]:
    sysmeta = server.get("system_metadata") or {}
    inherited = {k[len("image_"):]: v for k, v in sysmeta.items()
                 if k.startswith("image_") and k[len("image_"):] not in NOT_INHERITED}
    flavor = server.get("flavor") or {}
    body: dict[str, Any] = {
        **inherited, "instance_uuid": server["uuid"], "user_id": server["user_id"],
        "image_type": kind,
        **({"base_image_ref": server["image_ref"]} if server.get("image_ref") else {}),
        # as Nova, the caller's metadata wins over the properties above
        **metadata, "name": name, "container_format": "bare",
        # raw until the driver's data comes (upload_data sets its format: qcow2 for libvirt)
        "disk_format": "raw", "visibility": "private",
        "min_ram": int(sysmeta.get("image_min_ram") or 0),
        "min_disk": max(int(flavor.get("disk") or 0), int(sysmeta.get("image_min_disk") or 0)),
    }
    if backup_type is not None:
        body["backup_type"] = backup_type
    return body


async def create_image(rt: Runtime, ctx: RequestContext, uuid: str, *, name: str,
                       metadata: Mapping[str, str], request_id: str, kind: str = "snapshot",
                       backup_type: str | None = None, rotation: int | None = None
                       ) -> str:
    """Start a snapshot (or backup) of a server; the new image's id."""
    op = "createImage" if kind == "snapshot" else "createBackup"
    async with rt.db.read() as conn:
        server = await instances.get(conn, uuid)
    image = await clients.create_image(rt, ctx, image_body(server, name, metadata,
                                                           kind=kind, backup_type=backup_type))
    try:
        await _begin(rt, ctx, uuid, op, image["id"], request_id=request_id, kind=kind,
                     backup_type=backup_type, rotation=rotation)
    except NuboError:
        await clients.delete_image(rt, ctx, image["id"])
        raise
    return str(image["id"])


async def _begin(rt: Runtime, ctx: RequestContext, uuid: str, op: str, image_id: str, *,
                 request_id: str, kind: str, backup_type: str | None,
                 rotation: int | None) -> None:
    task = TaskState.IMAGE_SNAPSHOT if kind == "snapshot" else TaskState.IMAGE_BACKUP
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, op)
        host = need_host(server)
        await check_up(rt, host)
        await claim_task(tx, server, task)
        await instance_actions.start_action(tx, uuid, op, request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, EVENTS[kind], host=host)
        notifications.emit(tx, "compute.instance.snapshot.start",
                           {**server, "task_state": task.value})
        tx.publish(agent_topic(host, AGENT_OP), {
            "instance_uuid": uuid, "image_id": image_id, "kind": kind,
            "backup_type": backup_type, "rotation": rotation,
            "context": context_payload(ctx)})


async def set_uploading(rt: Runtime, uuid: str, kind: str) -> bool:
    """image_snapshot/image_backup -> image_uploading; False if no longer wanted."""
    task = TaskState.IMAGE_SNAPSHOT if kind == "snapshot" else TaskState.IMAGE_BACKUP
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != task.value:
            return False
        await instances.set_fields(tx, uuid, task_state=TaskState.IMAGE_UPLOADING.value)
        return True


async def upload_data(rt: Runtime, payload: Mapping[str, Any], disk_format: str,
                      chunks: AsyncIterator[bytes]) -> None:
    """Stream a driver's snapshot into the image made for it, first giving the image
    the snapshot's disk format (as Nova's libvirt driver does; the image is still
    queued, so it may change)."""
    ctx, image_id = context_from(payload["context"]), str(payload["image_id"])
    if disk_format != "raw":
        await clients.set_disk_format(rt, ctx, image_id, disk_format)
    await clients.upload_image(rt, ctx, image_id, chunks)


async def finish(rt: Runtime, uuid: str, payload: Mapping[str, Any], *, host: str,
                 error: str | None = None) -> None:
    """The upload ended (``error`` when it failed): clear the task, record it, and
    rotate backups; a failed snapshot's image is deleted."""
    kind = str(payload.get("kind", "snapshot"))
    ctx = context_from(payload["context"])
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if not server["deleted"] and server["task_state"] == TaskState.IMAGE_UPLOADING.value:
            await instances.set_fields(tx, uuid, task_state=None)
        await instance_actions.finish_event(tx, uuid, EVENTS[kind], host=host,
                                            result="Error" if error else "Success",
                                            details=error)
        notifications.emit(tx, "compute.instance.snapshot."
                           + ("error" if error else "end"), {**server, "task_state": None})
    if error:
        await clients.delete_image(rt, ctx, str(payload["image_id"]))
    elif kind == "backup" and payload.get("rotation") is not None:
        await rotate(rt, ctx, uuid, str(payload["backup_type"]), int(payload["rotation"]),
                     str(payload["image_id"]))


async def rotate(rt: Runtime, ctx: RequestContext, uuid: str, backup_type: str,
                 rotation: int, newest: str) -> None:
    """Delete all but the ``rotation`` newest backups of ``backup_type`` (``newest``,
    the one just made, first: creation times can tie)."""
    found = [i for i in await clients.list_images(rt, ctx, {})
             if i.get("instance_uuid") == uuid and i.get("image_type") == "backup"
             and i.get("backup_type") == backup_type]
    found.sort(key=lambda i: (i["id"] == newest, str(i.get("created_at")), str(i["id"])),
               reverse=True)
    for image in found[rotation:]:
        await clients.delete_image(rt, ctx, str(image["id"]))
