"""``/v2.1/os-keypairs``: a user's keypairs (admins reach other users' from 2.10)."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from nubo.compute.api import paging
from nubo.compute.api import validation as v
from nubo.compute.service import keypairs
from nubo.compute.service.keypairs import Keypair
from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest

router = Router()
KEYPAIR = "service/compute/keypair"
SAFE_NAME = re.compile(r"^[a-zA-Z0-9 _-]+$")
SAFE_NAME_2_92 = re.compile(r"^[a-zA-Z0-9 _.@-]+$")


def _user(req: ApiRequest, from_body: Any = None) -> str:
    """The keypairs' owner: the caller, or (2.10+) the user_id asked for."""
    asked = from_body if from_body is not None else req.query.get("user_id")
    if asked is not None and req.at_least("2.10"):
        return str(asked)
    return req.ctx.user_id


def _target(user_id: str) -> dict[str, str]:
    return {"user_id": user_id}


def _summary(req: ApiRequest, k: Keypair) -> dict[str, Any]:
    out: dict[str, Any] = {"name": k.name, "public_key": k.public_key,
                           "fingerprint": k.fingerprint}
    if req.at_least("2.2"):
        out["type"] = k.type
    return {"keypair": out}


@router.get("/v2.1/os-keypairs")
async def list_keypairs(req: ApiRequest) -> Reply:
    user_id = _user(req)
    req.authorize("os_compute_api:os-keypairs:index", _target(user_id))
    paged = req.at_least("2.35")
    page = paging.limit(req) if paged else None
    found = await keypairs.list_keypairs(req.rt, user_id, limit=page,
                                         marker=paging.marker(req) if paged else None)
    out: dict[str, Any] = {"keypairs": [_summary(req, k) for k in found]}
    if page is not None:
        links = paging.next_links(req, found, page, found[-1].name if found else "")
        if links:
            out["keypairs_links"] = links
    return out


@router.get("/v2.1/os-keypairs/{name}")
async def show_keypair(req: ApiRequest) -> Reply:
    user_id = _user(req)
    req.authorize("os_compute_api:os-keypairs:show", _target(user_id))
    k = await keypairs.get_keypair(req.rt, user_id, req.params["name"])
    out: dict[str, Any] = {
        "name": k.name, "public_key": k.public_key, "fingerprint": k.fingerprint,
        "user_id": k.user_id, "id": k.id, "deleted": False, "deleted_at": None,
        "updated_at": None,
        "created_at": k.created_at.isoformat(timespec="microseconds") if k.created_at else None,
    }
    if req.at_least("2.2"):
        out["type"] = k.type
    return {"keypair": out}


def _check_body(req: ApiRequest, body: dict[str, Any]) -> tuple[str, str | None, str]:
    allowed = ["name", "public_key"]
    if req.at_least("2.2"):
        allowed.append("type")
    if req.at_least("2.10"):
        allowed.append("user_id")
    v.only(body, allowed, "keypair")
    if "name" not in body:
        raise BadRequest("Invalid input for field/attribute keypair. 'name' is a required "
                         "property")
    name = v.string("name", body["name"], name_chars=False) or ""
    pattern = SAFE_NAME_2_92 if req.at_least("2.92") else SAFE_NAME
    if not pattern.match(name):
        raise BadRequest("Keypair data is invalid: Keypair name contains unsafe characters")
    public_key = body.get("public_key")
    if public_key is not None and not isinstance(public_key, str):
        raise v.invalid("public_key", public_key, "is not of type 'string'")
    if public_key is None and req.at_least("2.92"):
        raise BadRequest("Invalid input for field/attribute keypair. 'public_key' is a "
                         "required property")
    key_type = body.get("type", "ssh")
    if key_type not in ("ssh", "x509"):
        raise v.invalid("type", key_type, "is not one of ['ssh', 'x509']")
    return name, public_key, key_type


@router.post("/v2.1/os-keypairs", target=KEYPAIR)
async def create_keypair(req: ApiRequest) -> Reply:
    body = await req.json_object("keypair")
    user_id = _user(req, body.get("user_id") if req.at_least("2.10") else None)
    req.authorize("os_compute_api:os-keypairs:create", _target(user_id))
    name, public_key, key_type = _check_body(req, body)
    private_key = None
    if public_key is None:
        private_key, public_key = await keypairs.generate(key_type, f"{user_id}-{name}")
    k = await keypairs.create_keypair(req.rt, project_id=req.ctx.project_id or "",
                                      user_id=user_id, name=name,
                                      public_key=public_key.strip(), key_type=key_type)
    out: dict[str, Any] = {"name": k.name, "public_key": k.public_key,
                           "fingerprint": k.fingerprint, "user_id": k.user_id}
    if private_key is not None:
        out["private_key"] = private_key
    if req.at_least("2.2"):
        out["type"] = k.type
    return JSONResponse({"keypair": out}, status_code=201 if req.at_least("2.2") else 200)


@router.delete("/v2.1/os-keypairs/{name}", target=KEYPAIR)
async def delete_keypair(req: ApiRequest) -> Reply:
    user_id = _user(req)
    req.authorize("os_compute_api:os-keypairs:delete", _target(user_id))
    await keypairs.delete_keypair(req.rt, user_id, req.params["name"])
    return Response(status_code=204 if req.at_least("2.2") else 202)
