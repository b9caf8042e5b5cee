"""Watching a host's devices come and go (``ip -o monitor link``), so that a tap
the hypervisor makes after its port was plugged is put on its bridge at once and
its port reported up (Neutron's Linux bridge agent polls for the same)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nubo.network.agent.linuxbridge.shell import Shell

log = logging.getLogger(__name__)


def device_of(line: str) -> str | None:
    """The device an ``ip -o monitor link`` line is about (``Deleted 7: tapx@if6: …``)."""
    words = line.split()
    if words and words[0] == "Deleted":
        words = words[1:]
    if len(words) < 2 or not words[0].endswith(":"):
        return None
    return words[1].rstrip(":").split("@")[0] or None


class DeviceWatch:
    def __init__(self, shell: Shell, prefix: str,
                 changed: Callable[[str], Awaitable[None]]) -> None:
        self.sh = shell
        self.prefix = prefix
        self.changed = changed
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="linuxbridge-device-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching devices failed; watching again")
            await asyncio.sleep(1)

    async def _watch(self) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self.sh.argv(("ip", "-o", "monitor", "link"), None),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            async for raw in proc.stdout:
                name = device_of(raw.decode(errors="replace"))
                if name and name.startswith(self.prefix):
                    await self.changed(name)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
