"""The metadata proxy: guests reach 169.254.169.254 through their router (its
namespace redirects port 80 to 9697, where the proxy listens) or, on networks
without a router, through the DHCP port (which holds the address; the proxy
listens on port 80 there). The proxy runs in the agent's process, on sockets
opened inside those namespaces; it identifies the instance by the networks the
namespace serves and the request's source address, and hands the request to
compute (``MetadataSource``), as Neutron's metadata agent hands it to Nova."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from http import HTTPStatus
from typing import Protocol

from nubo.network.agent.linuxbridge import nat
from nubo.network.agent.linuxbridge.netns import listening_socket

log = logging.getLogger(__name__)
MAX_HEAD = 8192
# a POST's body (a guest's password: at most 1,020 characters) is read up to this
MAX_BODY = 4096
READ_TIMEOUT = 10.0


class MetadataSource(Protocol):
    async def instance_for(self, network_ids: Collection[str], address: str
                           ) -> str | None: ...

    async def answer(self, instance_id: str, path: str) -> tuple[int, str, bytes]: ...

    async def post(self, instance_id: str, path: str, body: bytes
                   ) -> tuple[int, str, bytes]: ...


def request_line(head: bytes) -> tuple[str, str] | None:
    """``(method, path)`` of an HTTP request head, None when it is not one."""
    first = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(first) != 3 or not first[2].startswith("HTTP/"):
        return None
    return first[0], first[1]


def content_length(head: bytes) -> int | None:
    """The ``Content-Length`` of a request head: 0 when there is none, None when it
    is not a number."""
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() else None
    return 0


def response(status: int, content_type: str, body: bytes, *, head_only: bool = False
             ) -> bytes:
    reason = HTTPStatus(status).phrase
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + (
        b"" if head_only else body)


class MetadataProxy:
    def __init__(self, source: MetadataSource) -> None:
        self.source = source
        self.servers: dict[str, asyncio.Server] = {}
        # namespace -> the networks whose guests it serves
        self.networks: dict[str, tuple[str, ...]] = {}

    def serving(self, namespace: str) -> bool:
        return namespace in self.servers

    async def serve_network(self, namespace: str, network_id: str) -> None:
        await self._serve(namespace, nat.METADATA_IP, 80, (network_id,))

    async def serve_router(self, namespace: str, router_id: str,
                           network_ids: tuple[str, ...]) -> None:
        await self._serve(namespace, "0.0.0.0", nat.METADATA_PORT, network_ids)

    async def _serve(self, namespace: str, address: str, port: int,
                     network_ids: tuple[str, ...]) -> None:
        self.networks[namespace] = network_ids
        if namespace in self.servers:
            return
        sock = await listening_socket(namespace, address, port)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._handle(namespace, reader, writer)

        self.servers[namespace] = await asyncio.start_server(handle, sock=sock)

    async def stop(self, namespace: str) -> None:
        server = self.servers.pop(namespace, None)
        self.networks.pop(namespace, None)
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def close(self) -> None:
        for namespace in list(self.servers):
            await self.stop(namespace)

    async def _handle(self, namespace: str, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            writer.write(await self._reply(namespace, head, reader, writer))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ConnectionError):
            pass
        except Exception:
            log.exception("metadata request in %s failed", namespace)
            with contextlib.suppress(Exception):
                writer.write(response(500, "text/plain", b"Internal Server Error"))
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _reply(self, namespace: str, head: bytes, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> bytes:
        parsed = request_line(head[:MAX_HEAD])
        if parsed is None:
            return response(400, "text/plain", b"Bad Request")
        method, path = parsed
        if method not in ("GET", "HEAD", "POST"):
            return response(405, "text/plain", b"Method Not Allowed")
        body = b""
        if method == "POST":
            length = content_length(head)
            if length is None:
                return response(400, "text/plain", b"Bad Request")
            if length > MAX_BODY:
                return response(413, "text/plain", b"Request Entity Too Large")
            body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT)
        peer = str(writer.get_extra_info("peername")[0])
        instance = await self.source.instance_for(self.networks.get(namespace, ()), peer)
        if instance is None:
            log.info("metadata: no instance at %s in %s", peer, namespace)
            return response(404, "text/plain", b"Not Found", head_only=method == "HEAD")
        if method == "POST":
            status, content_type, answer = await self.source.post(instance, path, body)
        else:
            status, content_type, answer = await self.source.answer(instance, path)
        return response(status, content_type, answer, head_only=method == "HEAD")
