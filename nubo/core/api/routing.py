"""Routes, requests and the one place where a handler's outcome becomes a response.

A service declares its operations on a ``Router``::

    router = Router()

    @router.post("/v3/users", status=201, target="service/identity/user")
    async def create_user(req: ApiRequest) -> Reply:
        body = await req.json_object("user")
        req.authorize("identity:create_user", {"user": body})
        return {"user": await service.create_user(req.rt, req.ctx, body)}

Every route is authenticated unless declared ``public``. Errors raised anywhere
below are rendered with the service's fault renderer; every mutating request
leaves a CADF audit record.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.datastructures import URL, Headers, QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from nubo.core.api.faults import FaultRenderer
from nubo.core.api.microversions import Microversions, Version, parse
from nubo.core.api.paths import PathTable
from nubo.core.api.responses import JSONResponse
from nubo.core.audit import AuditEvent
from nubo.core.auth.context import RequestContext
from nubo.core.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    NuboError,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from nubo.core.log import request_id_var
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)

Reply = Mapping[str, Any] | Response | None
Handler = Callable[["ApiRequest"], Awaitable[Reply]]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    status: int = 200
    public: bool = False
    target: str = ""
    # the microversion range in which the route exists (404 outside it)
    min_version: str | None = None
    max_version: str | None = None

    def serves(self, version: Version | None) -> bool:
        if version is None:
            return True
        if self.min_version and version < parse(self.min_version):
            return False
        return not (self.max_version and version > parse(self.max_version))


@dataclass
class Router:
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self, method: str, path: str, *, status: int = 200, public: bool = False,
        target: str = "", min_version: str | None = None, max_version: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, handler, status, public, target,
                                           min_version, max_version))
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def head(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("HEAD", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)


class ApiRequest:
    """One API call as a handler sees it."""

    __slots__ = ("_ctx", "_json", "_version", "raw", "rt", "service")

    def __init__(self, raw: Request, rt: Runtime, service: ServiceApp) -> None:
        self.raw = raw
        self.rt = rt
        self.service = service
        self._ctx: RequestContext | None = None
        self._json: Any = None
        self._version: Version | None = None

    @property
    def version(self) -> Version:
        """The negotiated microversion (only for APIs that have microversions)."""
        if self._version is None:
            raise RuntimeError(f"{self.service.name} has no microversions")
        return self._version

    def at_least(self, version: str) -> bool:
        """Whether the request was made at ``version`` or later."""
        return self.version >= parse(version)

    @property
    def params(self) -> Mapping[str, str]:
        params: Mapping[str, str] = self.raw.path_params
        return params

    @property
    def path(self) -> str:
        """The request's whole path (with the API's prefix), decoded."""
        path: str = self.raw.scope["path"]
        return path

    @property
    def query_string(self) -> str:
        """The query as sent (``a=1&b=2``, still encoded); empty when there is none."""
        raw: bytes = self.raw.scope["query_string"]
        return raw.decode("latin-1")

    @property
    def query(self) -> QueryParams:
        return self.raw.query_params

    @property
    def headers(self) -> Headers:
        return self.raw.headers

    @property
    def method(self) -> str:
        return self.raw.method

    @property
    def request_id(self) -> str:
        return request_id_var.get()

    @property
    def ctx(self) -> RequestContext:
        if self._ctx is None:
            raise Unauthorized("The request you have made requires authentication.")
        return self._ctx

    @property
    def has_ctx(self) -> bool:
        return self._ctx is not None

    async def authenticate(self) -> RequestContext:
        token = self.raw.headers.get("x-auth-token")
        if not token or self.rt.validate_token is None:
            raise Unauthorized("The request you have made requires authentication.")
        self._ctx = await self.rt.validate_token(token, self.request_id)
        return self._ctx

    def authorize(self, rule: str, target: Mapping[str, Any] | None = None) -> None:
        self.rt.policy.authorize(rule, target or {}, self.ctx.to_policy_values())

    def allowed(self, rule: str, target: Mapping[str, Any] | None = None) -> bool:
        return self.rt.policy.enforce(rule, target or {}, self.ctx.to_policy_values())

    async def json(self) -> Any:
        """The parsed body; 400 when it is not JSON, 413 when over the limit."""
        if self._json is None:
            self._json = await self._read_json()
        return self._json

    async def json_object(self, key: str) -> dict[str, Any]:
        """``body[key]``, which must be an object: the shape of most OpenStack requests."""
        body = await self.json()
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        value = body.get(key)
        if not isinstance(value, dict):
            raise BadRequest(f"Invalid input for field '{key}': an object is required.")
        return value

    async def _read_json(self) -> Any:
        ctype = self.raw.headers.get("content-type", "application/json")
        limit = self.rt.settings.api.max_request_body_size
        declared = self.raw.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge("Request Entity Too Large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.raw.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge("Request Entity Too Large")
            chunks.append(chunk)
        data = b"".join(chunks)
        if not data.strip():
            raise BadRequest("The request body is missing.")
        if "json" not in ctype.split(";")[0].lower():
            raise UnsupportedMediaType(
                f"Unsupported content type {ctype!r}: send application/json.")
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise BadRequest(f"Malformed request body: {e}") from None


@dataclass
class ServiceApp:
    """One OpenStack API: its name, mount prefix, routes and fault renderer."""

    name: str
    prefix: str
    routers: list[Router]
    fault: FaultRenderer
    # extra headers on every response
    headers: Mapping[str, str] = field(default_factory=dict)
    # the API's microversion range; None for APIs without microversions
    microversions: Microversions | None = None
    # a header of the API's own that repeats x-openstack-request-id (Nova's
    # x-compute-request-id)
    request_id_header: str | None = None

    def build(self, rt: Runtime) -> ServiceRoutes:
        paths: dict[str, dict[str, Endpoint]] = {}
        for router in self.routers:
            for ep in router.endpoints:
                methods = paths.setdefault(ep.path, {})
                if ep.method in methods:
                    raise ValueError(f"{self.name}: two routes for {ep.method} {ep.path}")
                methods[ep.method] = ep
        table: PathTable[Callable[[Request], Awaitable[Response]]] = PathTable()
        for path, methods in paths.items():
            table.add(path, self._dispatcher(rt, methods))
        return ServiceRoutes(self, rt, table)

    def _dispatcher(
        self, rt: Runtime, methods: dict[str, Endpoint]
    ) -> Callable[[Request], Awaitable[Response]]:
        if "GET" in methods and "HEAD" not in methods:
            methods = {**methods, "HEAD": methods["GET"]}
        allowed = ", ".join(sorted(methods))

        async def dispatch(raw: Request) -> Response:
            ep = methods.get(raw.method)
            if ep is None:
                resp = self.fault(MethodNotAllowed(), rt.settings.public_url)
                resp.headers["allow"] = allowed
                return resp
            return await self._call(rt, ep, raw)

        return dispatch

    async def _call(self, rt: Runtime, ep: Endpoint, raw: Request) -> Response:
        req = ApiRequest(raw, rt, self)
        reply: Reply = None
        try:
            if self.microversions is not None and not ep.public:
                req._version = self.microversions.negotiate(raw.headers)
                if not ep.serves(req._version):
                    raise NotFound("The resource could not be found.")
            if not ep.public:
                await req.authenticate()
            elif raw.headers.get("x-auth-token") and rt.validate_token is not None:
                await _maybe_authenticate(req)
            reply = await ep.handler(req)
            response = self._render(reply, ep.status)
        except NuboError as err:
            response = self.fault(err, rt.settings.public_url)
        except Exception:
            log.exception("unhandled error in %s %s", raw.method, req.path)
            response = self.fault(NuboError("An unexpected error prevented the server from "
                                            "fulfilling your request."), rt.settings.public_url)
        for key, value in self.headers.items():
            response.headers[key] = value
        if self.request_id_header is not None:
            response.headers[self.request_id_header] = req.request_id
        if req._version is not None and self.microversions is not None:
            response.headers.update(self.microversions.response_headers(req._version))
        if raw.method not in READ_METHODS and rt.settings.audit.enabled:
            self._audit(rt, req, ep, response, reply)
        return response

    @staticmethod
    def _render(reply: Reply, status: int) -> Response:
        if isinstance(reply, Response):
            return reply
        if reply is None:
            return Response(status_code=204 if status in (200, 204) else status)
        return JSONResponse(reply, status_code=status)

    def _audit(
        self, rt: Runtime, req: ApiRequest, ep: Endpoint, response: Response, reply: Reply
    ) -> None:
        ctx = req._ctx
        target_id = _target_id(req, reply)
        client = req.raw.client
        rt.audit.record(AuditEvent(
            service=self.name,
            method=req.method,
            path=req.path,
            status=response.status_code,
            request_id=req.request_id,
            initiator_id=ctx.user_id if ctx else None,
            project_id=ctx.project_id if ctx else None,
            domain_id=ctx.domain_id if ctx else None,
            client_addr=client.host if client else "",
            user_agent=req.headers.get("user-agent", ""),
            target_type=ep.target or f"service/{self.name}",
            target_id=target_id,
            action="authenticate" if ep.path.endswith("/auth/tokens") else None,
        ))


class ServiceRoutes:
    """One API as an ASGI app: the route for the path (below the API's prefix) gets
    the request; a path with no route is the API's own 404, or a redirect when the
    same path with or without a trailing slash has one."""

    def __init__(self, service: ServiceApp, rt: Runtime,
                 table: PathTable[Callable[[Request], Awaitable[Response]]]) -> None:
        self.service = service
        self.rt = rt
        self.table = table
        self._cut = len(service.prefix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][self._cut:] or "/"
        found = self.table.match(path)
        if found is not None:
            dispatch, scope["path_params"] = found
            response = await dispatch(Request(scope, receive))
        else:
            response = self._not_found(scope, path)
        await response(scope, receive, send)

    def _not_found(self, scope: Scope, path: str) -> Response:
        other = path[:-1] if path.endswith("/") else f"{path}/"
        if other and self.table.match(other) is not None:
            url = URL(scope=scope)
            return RedirectResponse(url.replace(path=self.service.prefix + other), 307)
        return self.service.fault(NotFound("The resource could not be found."),
                                  self.rt.settings.public_url)


async def _maybe_authenticate(req: ApiRequest) -> None:
    """Public routes still learn who is calling when a valid token is sent."""
    try:
        await req.authenticate()
    except Unauthorized:
        pass


def _target_id(req: ApiRequest, reply: Reply) -> str | None:
    if isinstance(reply, Mapping) and len(reply) == 1:
        inner = next(iter(reply.values()))
        if isinstance(inner, Mapping) and isinstance(inner.get("id"), str):
            return str(inner["id"])
    ids = [v for k, v in req.params.items() if k.endswith("id")]
    return ids[-1] if ids else None
