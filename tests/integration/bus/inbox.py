"""Recording handlers for bus tests."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from nubo.core.bus import Envelope


class Inbox:
    """A handler that records what it receives and lets a test wait for it."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self._changed = asyncio.Event()

    async def __call__(self, env: Envelope) -> None:
        self.received.append(env)
        self._changed.set()

    async def wait_for(self, count: int, within: float = 5.0) -> list[Envelope]:
        async with asyncio.timeout(within):
            while len(self.received) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.received

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [dict(env.payload) for env in self.received]


class Flaky(Inbox):
    """Raises on the first ``failures`` deliveries of every message, then records it."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.attempts: Counter[str] = Counter()
        self.tries = Inbox()

    async def __call__(self, env: Envelope) -> None:
        self.attempts[env.message_id] += 1
        await self.tries(env)
        if self.attempts[env.message_id] <= self.failures:
            raise RuntimeError(f"induced failure {self.attempts[env.message_id]}")
        await super().__call__(env)


class Gate(Inbox):
    """Records a message as started, then holds it until the gate opens."""

    def __init__(self) -> None:
        super().__init__()
        self.open = asyncio.Event()
        self.finished = Inbox()

    async def __call__(self, env: Envelope) -> None:
        await super().__call__(env)
        await self.open.wait()
        await self.finished(env)
