"""External events at the agent: what it waits for (``network-vif-plugged`` of the
ports of a guest it is starting) and what it does on the others.

An agent registers the events it expects *before* the action that causes them
and then waits, with a deadline, for them all; an event that arrives without a
waiter is dropped, as in Nova (the caller re-checks the port's status after
registering, so an event that came early is not waited for in vain).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)

Key = tuple[str, str]           # (event name, tag: the port id)
Handler = Callable[["ComputeAgent", str, Mapping[str, Any]], Awaitable[None]]
# event name -> what the agent does with it (besides waking a waiter)
HANDLERS: dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    HANDLERS[name] = handler


class InstanceEvents:
    """Waiters of one agent, by instance and (event name, tag)."""

    def __init__(self) -> None:
        self._waiting: dict[str, dict[Key, asyncio.Future[str]]] = {}

    def prepare(self, uuid: str, keys: Iterable[Key]) -> dict[Key, asyncio.Future[str]]:
        """Start expecting ``keys`` for the instance (before causing them); the
        futures to ``wait`` on."""
        loop = asyncio.get_running_loop()
        mine = self._waiting.setdefault(uuid, {})
        out = {}
        for key in keys:
            if key not in mine:
                mine[key] = loop.create_future()
            out[key] = mine[key]
        return out

    def pop(self, uuid: str, key: Key, status: str) -> bool:
        """Wake the waiter of ``key`` with the event's status; False when none waits."""
        mine = self._waiting.get(uuid, {})
        future = mine.pop(key, None)
        if not mine:
            self._waiting.pop(uuid, None)
        if future is None or future.done():
            return False
        future.set_result(status)
        return True

    def clear(self, uuid: str) -> None:
        """Stop waiting for anything about the instance (deleted, failed)."""
        for future in self._waiting.pop(uuid, {}).values():
            if not future.done():
                future.cancel()

    def forget(self, uuid: str, keys: Iterable[Key]) -> None:
        mine = self._waiting.get(uuid, {})
        for key in keys:
            mine.pop(key, None)
        if not mine:
            self._waiting.pop(uuid, None)


async def wait(futures: Mapping[Key, asyncio.Future[str]], seconds: float
               ) -> tuple[list[Key], list[Key]]:
    """Wait up to ``seconds`` for the prepared ``futures``; the keys whose event said
    ``failed`` and those that never came."""
    pending = [f for f in futures.values() if not f.done()]
    if pending and seconds > 0:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await asyncio.wait(pending)
    failed = [k for k, f in futures.items()
              if f.done() and not f.cancelled() and f.result() == "failed"]
    missing = [k for k, f in futures.items() if not f.done() or f.cancelled()]
    return failed, missing


async def on_event(agent: ComputeAgent, uuid: str, event: Mapping[str, Any]) -> None:
    """One event from ``compute.events-<host>.external``."""
    name = str(event.get("name", ""))
    tag = str(event.get("tag") or "")
    log.info("%s on %s: event %s-%s %s", uuid, agent.host, name, tag,
             event.get("status", "completed"))
    handler = HANDLERS.get(name)
    if handler is not None:
        await handler(agent, uuid, event)
    agent.events.pop(uuid, (name, tag), str(event.get("status", "completed")))
