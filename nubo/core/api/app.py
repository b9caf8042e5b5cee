"""The ASGI application: every enabled service mounted at its DevStack-style path.

Middleware order (outermost first): RequestId (request id, access log). Per
service: authentication, policy and fault rendering happen in
``routing.ServiceApp``, because each API renders errors its own way.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from nubo.core.api.middleware import RequestId
from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ServiceApp
from nubo.core.runtime import Runtime


def build_app(rt: Runtime, services: Sequence[ServiceApp]) -> Starlette:
    routes: list[BaseRoute] = [Route("/", _root(services, rt), methods=["GET", "HEAD"])]
    routes += [Mount(svc.prefix, app=svc.build(rt)) for svc in services]
    app = Starlette(routes=routes, middleware=[Middleware(RequestId)])
    app.state.runtime = rt
    return app


def _root(services: Sequence[ServiceApp], rt: Runtime):  # type: ignore[no-untyped-def]
    async def root(request: Request) -> Response:
        return JSONResponse({
            "name": "nubo",
            "services": {svc.name: f"{rt.settings.public_url}{svc.prefix}" for svc in services},
        })

    return root
