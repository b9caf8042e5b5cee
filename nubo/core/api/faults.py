"""Each API's OpenStack fault body, produced in one place.

A renderer turns a ``NuboError`` into the response the reference service would
send: Keystone ``{"error": {...}}``, Nova ``{"itemNotFound": {...}}``, Neutron
``{"NeutronError": {...}}``.
"""

from __future__ import annotations

from collections.abc import Callable

from nubo.core.api.responses import JSONResponse
from nubo.core.errors import NuboError
from nubo.core.log import request_id_var

FaultRenderer = Callable[[NuboError, str], JSONResponse]


def keystone_fault(err: NuboError, public_url: str) -> JSONResponse:
    body = {"error": {"code": err.status, "title": err.title, "message": err.message}}
    headers = {}
    if err.status == 401:
        headers["WWW-Authenticate"] = f'Keystone uri="{public_url}/identity"'
    return JSONResponse(body, status_code=err.status, headers=headers)


NOVA_KEYS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def nova_fault(err: NuboError, public_url: str) -> JSONResponse:
    key = NOVA_KEYS.get(err.status, "computeFault")
    return JSONResponse({key: {"code": err.status, "message": err.message}}, status_code=err.status)


def neutron_fault(err: NuboError, public_url: str) -> JSONResponse:
    kind = str(err.details.get("type") or type(err).__name__)
    body = {"NeutronError": {"type": kind, "message": err.message, "detail": ""}}
    return JSONResponse(body, status_code=err.status)


def placement_fault(err: NuboError, public_url: str) -> JSONResponse:
    """Placement's ``{"errors": [...]}`` with a machine-readable ``code``."""
    error = {"status": err.status, "title": err.title, "detail": err.message,
             "code": str(err.details.get("code") or "placement.undefined_code"),
             "request_id": request_id_var.get()}
    return JSONResponse({"errors": [error]}, status_code=err.status)


def glance_fault(err: NuboError, public_url: str) -> JSONResponse:
    """Glance's errors as webob renders them for JSON clients."""
    body = {"code": f"{err.status} {err.title}", "title": err.title, "message": err.message}
    return JSONResponse(body, status_code=err.status)
