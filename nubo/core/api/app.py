"""The ASGI application: every enabled service mounted at its DevStack-style path.

Outermost is ``RequestId`` (request id, access log); then ``Services`` hands each
request to the API whose prefix its path starts with (``routing.ServiceRoutes``),
where authentication, policy and fault rendering happen, because each API renders
errors its own way. Starlette supplies the request and response objects; its
router and middleware stack are not used: one request went through two nested
Starlette applications (a mount, then the API's routes), whose layers cost a
fifth of a cheap call's CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from nubo.core.api.middleware import RequestId
from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ServiceApp
from nubo.core.runtime import Runtime


class Services:
    """Dispatch by the first segment of the path to the API mounted there; ``/``
    lists the APIs."""

    def __init__(self, rt: Runtime, services: Sequence[ServiceApp]) -> None:
        self.mounts: dict[str, ASGIApp] = {}
        for svc in services:
            prefix = svc.prefix.strip("/")
            if not prefix or "/" in prefix:
                raise ValueError(f"an API is mounted at one path segment, not {svc.prefix!r}")
            self.mounts[prefix] = svc.build(rt)
        self.index = {svc.name: f"{rt.settings.public_url}{svc.prefix}" for svc in services}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return      # no websockets; uvicorn runs with lifespan off
        path: str = scope["path"]
        app = self.mounts.get(path[1:].partition("/")[0])
        if app is not None:
            await app(scope, receive, send)
            return
        response: Response
        if path != "/":
            response = PlainTextResponse("Not Found", status_code=404)
        elif scope["method"] in ("GET", "HEAD"):
            response = JSONResponse({"name": "nubo", "services": self.index})
        else:
            response = PlainTextResponse("Method Not Allowed", status_code=405,
                                         headers={"Allow": "GET, HEAD"})
        await response(scope, receive, send)


def build_app(rt: Runtime, services: Sequence[ServiceApp]) -> ASGIApp:
    return RequestId(Services(rt, services))
