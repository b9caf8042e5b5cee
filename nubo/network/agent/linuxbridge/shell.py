"""Running the data plane's tools (ip, bridge, nft, sysctl, dnsmasq) for one host.

A host is the machine's root network namespace, or a namespace standing in for
another host (``[network] netns_hosts``): then every command runs in it. The
``qdhcp-``/``qrouter-`` namespaces are named globally, so a command meant for one
of them runs there whatever the host. A tool's failure becomes ``DriverError``
with the command and what it printed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from nubo.network.agent.driver import DriverError

log = logging.getLogger(__name__)


class Shell:
    def __init__(self, netns: str | None = None) -> None:
        # the host's own namespace; None for the machine's root namespace
        self.netns = netns

    def argv(self, argv: tuple[str, ...], ns: str | None) -> list[str]:
        where = ns or self.netns
        return ["ip", "netns", "exec", where, *argv] if where else list(argv)

    async def run(self, *argv: str, ns: str | None = None, stdin: str | None = None,
                  check: bool = True) -> str:
        """The command's output; ``DriverError`` when it fails and ``check``."""
        cmd = self.argv(argv, ns)
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd, stdin=asyncio.subprocess.PIPE if stdin is not None else
                asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
        except OSError as e:
            raise DriverError(f"cannot run {cmd[0]}: {e}") from e
        out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
        if proc.returncode != 0 and check:
            raise DriverError(f"{' '.join(cmd)}: {err.decode(errors='replace').strip()}")
        return out.decode(errors="replace")

    async def daemon(self, *argv: str, ns: str | None = None, output: Path) -> None:
        """Start a program that puts itself in the background (dnsmasq): its
        output goes to ``output``, not to a pipe it would write to after the agent
        is gone; ``DriverError`` with that output when it fails to start."""
        cmd = self.argv(argv, ns)
        with output.open("ab") as out:
            start = out.tell()
            try:
                proc = await asyncio.create_subprocess_exec(
                    *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)
            except OSError as e:
                raise DriverError(f"cannot run {cmd[0]}: {e}") from e
            code = await proc.wait()
        if code != 0:
            with output.open("rb") as f:
                f.seek(start)
                said = f.read().decode(errors="replace").strip()
            raise DriverError(f"{' '.join(cmd)}: {said}")

    async def ok(self, *argv: str, ns: str | None = None) -> bool:
        """Whether the command succeeds (its failure is an answer, not an error)."""
        cmd = self.argv(argv, ns)
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        return await proc.wait() == 0

    async def json(self, *argv: str, ns: str | None = None) -> Any:
        """A tool's ``-j`` output, parsed (``[]`` for no output)."""
        out = await self.run(*argv, ns=ns)
        try:
            return json.loads(out) if out.strip() else []
        except ValueError as e:
            raise DriverError(f"{' '.join(argv)}: unreadable output {out[:200]!r}") from e

    async def ip(self, *args: str, ns: str | None = None, check: bool = True) -> str:
        return await self.run("ip", *args, ns=ns, check=check)

    async def batch(self, lines: list[str], ns: str | None = None) -> None:
        """Several ``ip`` commands in one process (``ip -batch``), in order."""
        if lines:
            await self.run("ip", "-batch", "-", ns=ns, stdin="\n".join(lines) + "\n")

    async def sysctl(self, key: str, value: str, ns: str | None = None) -> None:
        await self.run("sysctl", "-q", "-w", f"{key}={value}", ns=ns)
