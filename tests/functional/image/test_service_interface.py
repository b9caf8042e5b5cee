"""The in-process interface compute calls (``nubo.image.service.images``), on
every database back end: same shapes, visibility and policy as the API."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.cli.launcher import load_specs, running
from nubo.core.auth.context import RequestContext
from nubo.core.bus.base import Envelope
from nubo.core.config import load_settings
from nubo.core.errors import BadRequest, Gone, NotFound, PayloadTooLarge, PolicyNotAuthorized
from nubo.core.runtime import Runtime
from nubo.image import recovery
from nubo.image.service import data, images
from tests.conftest import SELECTED
from tests.databases import database


@pytest.fixture(scope="module", params=SELECTED)
async def rt(request: pytest.FixtureRequest) -> AsyncIterator[Runtime]:
    with tempfile.TemporaryDirectory(prefix="nubo-image-") as tmp:
        try:
            ctx = database(request.param, tmp)
            url = await asyncio.to_thread(ctx.__enter__)
        except RuntimeError as e:
            pytest.skip(str(e))
        try:
            settings = load_settings(environ={}, overrides={
                "core": {"state_dir": str(Path(tmp) / "state")},
                "database": {"connection": url}})
            async with running(settings, load_specs(["image"])) as runtime:
                yield runtime
        finally:
            await asyncio.to_thread(ctx.__exit__, None, None, None)


def member(project_id: str | None = None, *roles: str) -> RequestContext:
    return RequestContext(user_id=uuid.uuid4().hex, project_id=project_id or uuid.uuid4().hex,
                          roles=roles or ("member", "reader"))


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_create_upload_read_delete(rt: Runtime) -> None:
    ctx = member()
    image = await images.create_image(rt, ctx, {"name": "snap", "disk_format": "raw",
                                                "container_format": "bare",
                                                "image_type": "snapshot"})
    assert image["status"] == "queued" and image["owner"] == ctx.project_id
    assert image["image_type"] == "snapshot"
    done = await images.upload_image(rt, ctx, image["id"], chunks(b"a" * 1000, b"b" * 24))
    assert done["status"] == "active" and done["size"] == 1024
    assert (await images.get_image(rt, ctx, image["id"]))["checksum"] == done["checksum"]
    data = b"".join([c async for c in images.open_image_data(rt, ctx, image["id"])])
    assert data == b"a" * 1000 + b"b" * 24
    listed = await images.list_images(rt, ctx, {"name": "snap"})
    assert [i["id"] for i in listed] == [image["id"]]
    await images.delete_image(rt, ctx, image["id"])
    with pytest.raises(NotFound):
        await images.get_image(rt, ctx, image["id"])


async def test_other_projects_and_readers(rt: Runtime) -> None:
    owner = member()
    image = await images.create_image(rt, owner, {"visibility": "private",
                                                  "disk_format": "raw",
                                                  "container_format": "bare"})
    with pytest.raises(NotFound):
        await images.get_image(rt, member(), image["id"])
    with pytest.raises(NotFound):
        [c async for c in images.open_image_data(rt, member(), image["id"])]
    assert await images.list_images(rt, member(), {}) == []
    reader = member(owner.project_id, "reader")
    assert (await images.get_image(rt, reader, image["id"]))["id"] == image["id"]
    with pytest.raises(PolicyNotAuthorized):
        await images.delete_image(rt, reader, image["id"])
    with pytest.raises(NotFound):
        [c async for c in images.open_image_data(rt, owner, image["id"])]  # no data yet


async def test_bad_data_leaves_the_image_queued(rt: Runtime) -> None:
    ctx = member()
    image = await images.create_image(rt, ctx, {"disk_format": "qcow2",
                                                "container_format": "bare"})
    with pytest.raises(BadRequest):
        await images.upload_image(rt, ctx, image["id"], chunks(b"not a qcow2" * 10))
    assert (await images.get_image(rt, ctx, image["id"]))["status"] == "queued"
    assert not list((rt.settings.state_path / "images").glob(f"*{image['id']}*"))


async def _crash(rt: Runtime, image_id: str, status: str) -> None:
    """Leave the image as a process that died mid-transfer would have."""
    from sqlalchemy import update

    from nubo.image import tables

    async with rt.db.transaction() as tx:
        await tx.execute(update(tables.image).where(tables.image.c.id == image_id).values(
            status=status, updated_at=dt.datetime(2000, 1, 1)))


async def test_dead_transfers_are_given_back(rt: Runtime) -> None:
    ctx = member()
    store = rt.settings.state_path / "images"
    (store / "staging").mkdir(parents=True, exist_ok=True)
    body = {"disk_format": "raw", "container_format": "bare"}
    saving = (await images.create_image(rt, ctx, body))["id"]
    await _crash(rt, saving, "saving")
    part = store / f".{saving}.abc.part"
    part.write_bytes(b"half")
    os.utime(part, (0, 0))
    importing = (await images.create_image(rt, ctx, body))["id"]
    await _crash(rt, importing, "importing")
    moved = store / "staging" / f".{importing}.importing"
    moved.write_bytes(b"\0" * 512)
    os.utime(moved, (0, 0))
    busy = (await images.create_image(rt, ctx, body))["id"]
    await _crash(rt, busy, "saving")
    (store / f".{busy}.xyz.part").write_bytes(b"still coming")  # touched just now

    recovered = await recovery.sweep(rt)

    assert sorted(recovered) == sorted([saving, importing])
    assert (await images.get_image(rt, ctx, saving))["status"] == "queued"
    assert not part.exists()
    assert (await images.get_image(rt, ctx, importing))["status"] == "uploading"
    assert (store / "staging" / importing).read_bytes() == b"\0" * 512
    assert (await images.get_image(rt, ctx, busy))["status"] == "saving"
    # the import can be retried and completes
    await data.import_image(rt, ctx, importing, {"method": {"name": "glance-direct"}})
    for _ in range(200):
        if (await images.get_image(rt, ctx, importing))["status"] == "active":
            break
        await asyncio.sleep(0.02)
    assert (await images.get_image(rt, ctx, importing))["size"] == 512


async def test_uploading_count_quota(rt: Runtime) -> None:
    ctx = member()
    body = {"disk_format": "raw", "container_format": "bare"}
    first = (await images.create_image(rt, ctx, body))["id"]
    second = (await images.create_image(rt, ctx, body))["id"]
    gate = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"\0" * 10
        await gate.wait()

    rt.settings.image.image_count_uploading = 1
    try:
        upload = asyncio.create_task(images.upload_image(rt, ctx, first, slow()))
        for _ in range(200):
            if (await images.get_image(rt, ctx, first))["status"] == "saving":
                break
            await asyncio.sleep(0.01)
        with pytest.raises(PayloadTooLarge, match="image_count_uploading"):
            await images.upload_image(rt, ctx, second, chunks(b"\0"))
        gate.set()
        assert (await upload)["status"] == "active"
        assert (await images.upload_image(rt, ctx, second, chunks(b"\0")))["size"] == 1
    finally:
        rt.settings.image.image_count_uploading = -1


async def test_notifications(rt: Runtime) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def record(env: Envelope) -> None:
        seen.append((env.topic, env.payload["payload"]))

    subscription = await rt.bus.subscribe("image.#", record)
    try:
        ctx = member()
        image = await images.create_image(rt, ctx, {"name": "n", "disk_format": "raw",
                                                    "container_format": "bare"})
        await images.upload_image(rt, ctx, image["id"], chunks(b"\0" * 512))
        await images.update_image(rt, ctx, image["id"], [("replace", "name", "m")])
        await images.delete_image(rt, ctx, image["id"])
        wanted = ["image.create", "image.upload", "image.activate", "image.update",
                  "image.delete"]
        for _ in range(300):
            mine = [(topic, p) for topic, p in seen if p.get("id") == image["id"]]
            if len(mine) >= len(wanted):
                break
            await asyncio.sleep(0.01)
        assert [topic for topic, _ in mine] == wanted
        assert mine[2][1]["status"] == "active" and mine[2][1]["size"] == 512
        assert mine[3][1]["name"] == "m"
        assert mine[4][1]["status"] == "deleted"
    finally:
        await subscription.cancel()


async def test_image_deleted_during_upload(rt: Runtime) -> None:
    ctx = member()
    image_id = (await images.create_image(rt, ctx, {"disk_format": "raw",
                                                    "container_format": "bare"}))["id"]
    gate = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"\0" * 10
        await gate.wait()
        yield b"\0" * 10

    upload = asyncio.create_task(images.upload_image(rt, ctx, image_id, slow()))
    for _ in range(200):
        if (await images.get_image(rt, ctx, image_id))["status"] == "saving":
            break
        await asyncio.sleep(0.01)
    await images.delete_image(rt, ctx, image_id)
    gate.set()
    with pytest.raises(Gone):
        await upload
    assert not list((rt.settings.state_path / "images").glob(f"*{image_id}*"))
