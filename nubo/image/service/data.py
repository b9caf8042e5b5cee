"""Image data: upload, download, and the interoperable import (stage, then import).

Data is streamed end to end: the request body goes chunk by chunk into a
temporary file in the store (hashed with md5 and sha512 as it arrives), is
inspected with qemu-img, and only then renamed into place and the image made
active. Any failure sends the image back to ``queued`` with nothing left behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import update

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, Conflict, Forbidden, Gone, NotFound
from nubo.core.runtime import Runtime
from nubo.image import tables as t
from nubo.image.inspect import inspect
from nubo.image.notifications import image_event
from nubo.image.service import quotas
from nubo.image.service import tasks as image_tasks
from nubo.image.service.access import authorize, is_admin, load_row, visible_row
from nubo.image.service.records import STORE_ID, Status, render
from nubo.image.store import FileStore, TooLarge, Written

log = logging.getLogger(__name__)
IMPORT_METHODS = ("glance-direct",)
TASKS_KEY = "image.import_tasks"


def _store(rt: Runtime) -> FileStore:
    return FileStore.from_settings(rt.settings)


async def _move(rt: Runtime, image_id: str, frm: str, to: str, *, events: tuple[str, ...] = (),
                **values: Any) -> bool:
    """Compare-and-set the image's status; False when it was not in ``frm`` (or is gone).
    ``events`` are published about the image as it is after the move."""
    async with rt.db.transaction() as tx:
        result = await tx.execute(update(t.image).where(
            t.image.c.id == image_id, t.image.c.status == frm).values(
            status=to, updated_at=utcnow(), **values))
        moved = bool(result.rowcount == 1)
        if moved and events:
            row = await load_row(tx.conn, image_id)
            for event in events:
                image_event(tx, event, row or {"id": image_id, "status": to})
        return moved


async def _begin(rt: Runtime, ctx: RequestContext, image_id: str, to: Status, *,
                 staging: bool, size: int | None) -> tuple[dict[str, Any], int | None]:
    """Check and claim a queued image for incoming data; returns it and the byte room.

    ``size``, when the caller knows it (Content-Length), is refused at once if it
    cannot fit in the project's quota."""
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        authorize(rt, ctx, "upload_image", tgt)
        if row["status"] != Status.QUEUED:
            raise Conflict(f"Image status transition from {row['status']} to {to.value} "
                           "is not allowed")
        if not staging and (not row["disk_format"] or not row["container_format"]):
            raise BadRequest("Properties disk_format, container_format must be set prior "
                             "to saving data.")
        await quotas.check_uploading(rt, tx.conn, row["owner"])
        room = await (quotas.stage_room if staging else quotas.size_room)(
            rt, tx.conn, row["owner"])
        if room is not None and size is not None and size > room:
            name = "image_stage_total" if staging else "image_size_total"
            raise quotas.OverQuota(name)
        claimed = await tx.execute(update(t.image).where(
            t.image.c.id == image_id, t.image.c.status == Status.QUEUED.value).values(
            status=to.value, updated_at=utcnow()))
        if claimed.rowcount != 1:
            raise Conflict(f"Image {image_id} is already receiving data.")
    return row, room


async def _receive(rt: Runtime, row: dict[str, Any], chunks: AsyncIterator[bytes],
                   room: int | None, *, staging: bool, claimed: Status) -> Written:
    try:
        return await _store(rt).write(row["id"], chunks, limit=room, staging=staging)
    except TooLarge:
        await _move(rt, row["id"], claimed.value, Status.QUEUED.value)
        raise quotas.OverQuota("image_stage_total" if staging else "image_size_total"
                               ) from None
    except BaseException:
        await _move(rt, row["id"], claimed.value, Status.QUEUED.value)
        raise


async def _activate(rt: Runtime, row: dict[str, Any], written: Written, frm: Status) -> None:
    """Inspect the data, put it in place and make the image active; or undo everything."""
    store, image_id = _store(rt), row["id"]
    try:
        found = await inspect(written.path, row["disk_format"] or "raw")
    except BaseException:
        await store.discard(written.path)
        await _move(rt, image_id, frm.value, Status.QUEUED.value)
        raise
    await store.commit(written.path, image_id)
    events = ("image.upload", "image.activate") if frm == Status.SAVING else (
        "image.activate",)
    done = await _move(rt, image_id, frm.value, Status.ACTIVE.value, events=events,
                       size=written.size,
                       checksum=written.md5, os_hash_algo="sha512",
                       os_hash_value=written.sha512, virtual_size=found.virtual_size,
                       staged_size=None)
    if not done:
        await store.delete(image_id)
        raise Gone(f"Image {image_id} could not be found after upload: it was deleted "
                   "during the upload.")


async def upload_image(rt: Runtime, ctx: RequestContext, image_id: str,
                       chunks: AsyncIterator[bytes], *, size: int | None = None
                       ) -> dict[str, Any]:
    """``PUT /v2/images/{id}/file``: queued -> saving -> active; the image after.

    ``size``: the number of bytes announced, if known (checked against the quota)."""
    row, room = await _begin(rt, ctx, image_id, Status.SAVING, staging=False, size=size)
    written = await _receive(rt, row, chunks, room, staging=False, claimed=Status.SAVING)
    await _activate(rt, row, written, Status.SAVING)
    async with rt.db.read() as conn:
        row, _ = await visible_row(rt, ctx, conn, image_id)
    return render(row)


async def stage_image(rt: Runtime, ctx: RequestContext, image_id: str,
                      chunks: AsyncIterator[bytes], *, size: int | None = None) -> None:
    """``PUT /v2/images/{id}/stage``: queued -> uploading, the data in the staging area."""
    row, room = await _begin(rt, ctx, image_id, Status.UPLOADING, staging=True, size=size)
    written = await _receive(rt, row, chunks, room, staging=True, claimed=Status.UPLOADING)
    await _store(rt).commit(written.path, image_id, staging=True)
    async with rt.db.transaction() as tx:
        await tx.execute(update(t.image).where(t.image.c.id == image_id).values(
            staged_size=written.size))


async def import_image(rt: Runtime, ctx: RequestContext, image_id: str,
                       body: dict[str, Any], request_id: str = "") -> None:
    """``POST /v2/images/{id}/import``: uploading -> importing, then active in the
    background (the caller has its 202 by then); an import task follows it."""
    method = body.get("method")
    name = method.get("name") if isinstance(method, dict) else None
    if name not in IMPORT_METHODS:
        raise BadRequest(f"Import method {name!r} is not valid: use one of "
                         f"{list(IMPORT_METHODS)}.")
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        authorize(rt, ctx, "modify_image", tgt)
        if row["status"] != Status.UPLOADING or not _store(rt).staged(image_id).exists():
            raise Conflict("Image needs to be staged before 'glance-direct' method can be "
                           "used")
        if not row["disk_format"] or not row["container_format"]:
            raise Conflict("'disk_format' needs to be set before import")
        claimed = await tx.execute(update(t.image).where(
            t.image.c.id == image_id, t.image.c.status == Status.UPLOADING.value).values(
            status=Status.IMPORTING.value, updated_at=utcnow()))
        if claimed.rowcount != 1:
            raise Conflict(f"Image {image_id} is already being imported.")
        task_id = await image_tasks.record_import(tx, ctx, image_id, body, request_id)
    task = asyncio.create_task(_finish_import(rt, row, task_id))
    tasks: set[asyncio.Task[None]] = rt.state.setdefault(TASKS_KEY, set())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _finish_import(rt: Runtime, row: dict[str, Any], task_id: str) -> None:
    store, image_id = _store(rt), row["id"]
    try:
        written = await asyncio.to_thread(_hash_file, store.staged(image_id))
        await _activate(rt, row, written, Status.IMPORTING)
    except Exception as e:  # the import task's failure is the image's, not the caller's
        log.warning("import of image %s failed: %s", image_id, e)
        await store.delete(image_id)
        await _move(rt, image_id, Status.IMPORTING.value, Status.QUEUED.value)
        await _mark_failed_import(rt, image_id)
        await image_tasks.finish(rt, task_id, failed=getattr(e, "message", None) or str(e)
                                 or type(e).__name__)
        return
    await image_tasks.finish(rt, task_id)


async def _mark_failed_import(rt: Runtime, image_id: str) -> None:
    """Record the failure as Glance does, in ``os_glance_failed_import``."""
    async with rt.db.transaction() as tx:
        row = await load_row(tx.conn, image_id)
        if row is None:
            return
        properties = {**(row["properties"] or {}), "os_glance_failed_import": STORE_ID}
        await tx.execute(update(t.image).where(t.image.c.id == image_id).values(
            staged_size=None, properties=properties))


def _hash_file(path: Path) -> Written:
    """Move a staged file to a temporary name beside it, hashing it on the way."""
    md5, sha512, size = hashlib.md5(usedforsecurity=False), hashlib.sha512(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            size += len(chunk)
            md5.update(chunk)
            sha512.update(chunk)
    tmp = path.with_name(f".{path.name}.importing")
    path.replace(tmp)
    return Written(tmp, size, md5.hexdigest(), sha512.hexdigest())


async def downloadable(rt: Runtime, ctx: RequestContext, image_id: str) -> dict[str, Any]:
    """The image if ``ctx`` may download it now; its size is None when it has no data."""
    async with rt.db.read() as conn:
        row, tgt = await visible_row(rt, ctx, conn, image_id)
    authorize(rt, ctx, "download_image", tgt)
    if row["status"] == Status.DEACTIVATED and not is_admin(rt, ctx):
        raise Forbidden("The requested image has been deactivated. Image data download "
                        "is forbidden.")
    image = render(row)
    if row["status"] not in (Status.ACTIVE, Status.DEACTIVATED) or not _store(rt).has_data(
            image_id):
        image["size"] = None
    return image


def read_data(rt: Runtime, image_id: str, start: int = 0, end: int | None = None
              ) -> AsyncIterator[bytes]:
    return _store(rt).read(image_id, start, end)


async def open_image_data(rt: Runtime, ctx: RequestContext, image_id: str
                          ) -> AsyncIterator[bytes]:
    """Stream an active image's bytes (NotFound when it has none)."""
    image = await downloadable(rt, ctx, image_id)
    if image["size"] is None:
        raise NotFound(f"Image {image_id} has no data.")
    async for chunk in read_data(rt, image_id):
        yield chunk
