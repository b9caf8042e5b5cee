"""Network namespaces (``qdhcp-``, ``qrouter-``): made, tagged on their ``lo``
(``names.Tag``), listed with their tags, emptied of processes and removed; and
sockets opened inside one, for servers the agent runs there itself (the metadata
proxy)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

from nubo.network.agent.driver import DriverError
from nubo.network.agent.linuxbridge.links import Links
from nubo.network.agent.linuxbridge.names import Tag
from nubo.network.agent.linuxbridge.shell import Shell

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"


class Namespaces:
    def __init__(self, shell: Shell, links: Links) -> None:
        self.sh = shell
        self.links = links

    async def names(self, prefix: str) -> list[str]:
        found = await self.sh.json("ip", "-j", "netns", "list", ns=None)
        return sorted(str(n["name"]) for n in found if str(n["name"]).startswith(prefix))

    async def exists(self, name: str) -> bool:
        return exists(name)

    async def ensure(self, name: str, tag: Tag) -> None:
        """The namespace with its loopback up, made when missing; tagged as ``tag``
        (without a digest) when it is not tagged yet, so it is never lost."""
        if not await self.exists(name):
            await self.sh.ip("netns", "add", name, ns=None)
        await self.sh.ip("link", "set", "lo", "up", ns=name)
        if await self.tag(name) is None:
            await self.set_tag(name, tag)

    async def tag(self, name: str) -> Tag | None:
        link = await self.links.get("lo", ns=name)
        return link.tag if link else None

    async def set_tag(self, name: str, tag: Tag) -> None:
        await self.links.set_tag("lo", tag, ns=name)

    async def pids(self, name: str) -> list[int]:
        out = await self.sh.run("ip", "netns", "pids", name, ns=None, check=False)
        return [int(p) for p in out.split() if p.isdigit()]

    async def delete(self, name: str) -> None:
        """Kill what runs in the namespace, then remove it."""
        if not await self.exists(name):
            return
        for pid in await self.pids(name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        await self.sh.ip("netns", "del", name, ns=None)


def exists(name: str) -> bool:
    """Whether a named namespace exists (its file in /run/netns, a tmpfs)."""
    return os.path.exists(os.path.join(NETNS_DIR, name))


def _run_in(name: str, fn: Callable[[], T]) -> T:
    """``fn()`` on a thread that entered namespace ``name`` (and left it after):
    what it opens belongs to the namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    result: list[T] = []
    error: list[BaseException] = []

    def work() -> None:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
        except OSError as e:
            os.close(own)
            error.append(e)
            return
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {name}")
            try:
                result.append(fn())
            finally:
                if libc.setns(own, CLONE_NEWNET) != 0:     # pragma: no cover
                    os._exit(70)    # a thread stuck in a guest's namespace must not go on
        except BaseException as e:
            error.append(e)
        finally:
            os.close(own)
            os.close(target)

    thread = threading.Thread(target=work, name=f"netns-{name}")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


async def listening_socket(namespace: str, address: str, port: int) -> socket.socket:
    """A TCP socket listening on ``address:port`` inside ``namespace``."""
    def make() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_IP, 15, 1)      # IP_FREEBIND
            sock.bind((address, port))
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    try:
        return await asyncio.to_thread(_run_in, namespace, make)
    except OSError as e:
        raise DriverError(f"cannot listen on {address}:{port} in {namespace}: {e}") from e
