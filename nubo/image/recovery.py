"""Give back images whose upload or import died with its process.

An upload holds the image in ``saving`` (or ``uploading`` while staging) and an
import in ``importing``; a crash leaves it there. A sweep, at start and then
periodically, finds such images that have made no progress for
``[image] stale_transfer_after`` seconds (neither the row nor a temporary file in
the store changed), removes their temporary files and returns them: ``saving`` and
an unfinished ``uploading`` to ``queued``; ``importing`` to ``uploading`` with its
staged data put back, so the import can be retried. Progress is judged by time, so
sweeps in several API processes agree without talking to each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from pathlib import Path

from sqlalchemy import select, update

from nubo.core.db.base import utcnow
from nubo.core.runtime import Runtime
from nubo.image import tables as t
from nubo.image.service import tasks
from nubo.image.service.records import IN_PROGRESS, Status
from nubo.image.store import FileStore

log = logging.getLogger(__name__)
TASK_KEY = "image.recovery"


def _temporaries(store: FileStore, image_id: str) -> list[Path]:
    found: list[Path] = []
    for folder in (store.root, store.root / "staging"):
        if folder.is_dir():
            found.extend(folder.glob(f".{image_id}.*"))
    return found


def _active_since(paths: list[Path], cutoff: float) -> bool:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime >= cutoff:
                return True
    return False


async def sweep(rt: Runtime) -> list[str]:
    """Recover every stale transfer now; returns the ids of the images given back."""
    stale = rt.settings.image.stale_transfer_after
    store = FileStore.from_settings(rt.settings)
    before = utcnow() - dt.timedelta(seconds=stale)
    async with rt.db.read() as conn:
        rows = (await conn.execute(select(t.image.c.id, t.image.c.status).where(
            t.image.c.status.in_([str(s) for s in IN_PROGRESS]),
            t.image.c.updated_at <= before))).all()
    recovered = []
    for image_id, status in rows:
        temporaries = await asyncio.to_thread(_temporaries, store, image_id)
        if await asyncio.to_thread(_active_since, temporaries, time.time() - stale):
            continue
        if await _give_back(rt, store, image_id, status, temporaries):
            recovered.append(image_id)
    return recovered


async def _give_back(rt: Runtime, store: FileStore, image_id: str, status: str,
                     temporaries: list[Path]) -> bool:
    staged = store.staged(image_id)
    importing = [p for p in temporaries if p.name.endswith(".importing")]
    if status == Status.IMPORTING and importing:
        await asyncio.to_thread(importing[0].replace, staged)
    for path in temporaries:
        await store.discard(path)
    has_staged = await asyncio.to_thread(staged.exists)
    target = Status.UPLOADING if status != Status.SAVING and has_staged else Status.QUEUED
    if status == Status.UPLOADING and target == Status.UPLOADING:
        return False  # staged and waiting for its import: nothing died
    async with rt.db.transaction() as tx:
        result = await tx.execute(update(t.image).where(
            t.image.c.id == image_id, t.image.c.status == status).values(
            status=target.value, updated_at=utcnow(),
            **({} if target == Status.UPLOADING else {"staged_size": None})))
        if status == Status.IMPORTING and result.rowcount == 1:
            await tasks.finish_image_imports(tx, image_id, "The import was cut off; the "
                                             "staged data can be imported again.")
    if target == Status.QUEUED:
        await asyncio.to_thread(staged.unlink, missing_ok=True)
    log.warning("image %s: %s transfer found dead, now %s", image_id, status, target.value)
    return bool(result.rowcount == 1)


async def _loop(rt: Runtime) -> None:
    period = max(rt.settings.image.stale_transfer_after / 2, 1)
    while True:
        try:
            await sweep(rt)
        except Exception:  # a failed sweep is retried at the next period
            log.exception("image recovery sweep failed")
        await asyncio.sleep(period)


async def start(rt: Runtime) -> None:
    rt.state[TASK_KEY] = asyncio.create_task(_loop(rt))


async def stop(rt: Runtime) -> None:
    """Stop the sweeps and cancel any import still running: its image goes back to
    ``queued``, or, if cut off elsewhere, is given back by a later sweep."""
    from nubo.image.service.data import TASKS_KEY

    tasks = [rt.state.pop(TASK_KEY, None), *rt.state.pop(TASKS_KEY, set())]
    for task in tasks:
        if task is not None:
            task.cancel()
    for task in tasks:
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
