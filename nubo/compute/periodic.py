"""The compute service's periodic tasks, run by the conductor's process:

- reclaim: every ``[compute] reclaim_instance_interval`` seconds (when positive),
  servers soft-deleted longer than that are deleted for good;
- shelved offload: every ``shelved_poll_interval`` seconds, when
  ``shelved_offload_time`` is positive, servers shelved longer than that are
  offloaded.

Each pass is idempotent (every change is a compare-and-set on the server's task
state), so several conductors running them at once do no harm.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from nubo.compute.service import shelve, soft_delete
from nubo.core.db.base import utcnow
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)


async def reclaim_pass(rt: Runtime) -> None:
    count = await soft_delete.reclaim_due(rt, request_id=_request_id())
    if count:
        log.info("reclaimed %d soft-deleted server(s)", count)


async def offload_pass(rt: Runtime) -> None:
    for server in await shelve.shelved_too_long(rt, utcnow()):
        try:
            if await shelve.offload_shelved(rt, server):
                log.info("offloading %s: shelved longer than %ss", server,
                         rt.settings.compute.shelved_offload_time)
        except Exception:       # one server's trouble must not stop the others
            log.exception("offloading shelved server %s failed", server)


def _request_id() -> str:
    return f"req-{uuid.uuid4()}"


async def _every(rt: Runtime, seconds: float, work: Callable[[Runtime], Awaitable[None]],
                 name: str) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work(rt)
        except Exception:       # a failed pass is retried at the next period
            log.exception("periodic task %s failed", name)


def start(rt: Runtime) -> list[asyncio.Task[None]]:
    """The periodic tasks the settings ask for (none with the defaults, Nova's
    reclaim_instance_interval = 0 and shelved_offload_time = 0)."""
    compute = rt.settings.compute
    tasks = []
    if compute.reclaim_instance_interval > 0:
        tasks.append(asyncio.create_task(_every(
            rt, compute.reclaim_instance_interval, reclaim_pass, "reclaim"),
            name="compute-reclaim"))
    if compute.shelved_offload_time > 0:
        tasks.append(asyncio.create_task(_every(
            rt, compute.shelved_poll_interval, offload_pass, "shelved-offload"),
            name="compute-shelved-offload"))
    return tasks
