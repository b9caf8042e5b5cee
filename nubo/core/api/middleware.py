"""Pure-ASGI middleware shared by every API. The order is fixed in ``app.py``."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nubo.core.ids import new_uuid
from nubo.core.log import request_id_var

access_log = logging.getLogger("nubo.access")


class RequestId:
    """Gives each request an ``x-openstack-request-id`` (``req-<uuid>``), sets it for
    logs and bus messages, returns it on the response, and writes the access log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = f"req-{new_uuid()}"
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 0
        header = (b"x-openstack-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s", scope["method"], scope["path"], status,
                    extra={"fields": {
                        "method": scope["method"], "path": scope["path"], "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    }},
                )
            request_id_var.reset(token)
