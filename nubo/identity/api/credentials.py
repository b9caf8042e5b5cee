"""``/v3/credentials``: admins manage anyone's, users their own."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.identity.api import links
from nubo.identity.service import credentials

router = Router()
CREDENTIAL = "service/identity/credential"


def _target(cred: dict[str, Any]) -> dict[str, Any]:
    return {"target": {"credential": cred}}


@router.post("/v3/credentials", status=201, target=CREDENTIAL)
async def create_credential(req: ApiRequest) -> Reply:
    body = await req.json_object("credential")
    req.authorize("identity:create_credential", _target(body))
    scope = {"trust_id": req.ctx.trust_id, "app_cred_id": req.ctx.app_cred_id}
    cred = await credentials.create_credential(req.rt, body, scope)
    return {"credential": links.entity(req, "credentials", cred)}


@router.get("/v3/credentials")
async def list_credentials(req: ApiRequest) -> Reply:
    owner = None if req.ctx.system_scope else req.ctx.user_id
    req.authorize("identity:list_credentials", _target({"user_id": owner}))
    found = await credentials.list_credentials(req.rt, links.filters(req))
    visible = [c for c in found if req.allowed("identity:get_credential", _target(c))]
    return links.collection(req, "credentials", "credentials", visible)


async def _stored(req: ApiRequest, rule: str) -> dict[str, Any]:
    cred = await credentials.get_credential(req.rt, req.params["credential_id"])
    req.authorize(rule, _target(cred))
    return cred


@router.get("/v3/credentials/{credential_id}")
async def get_credential(req: ApiRequest) -> Reply:
    cred = await _stored(req, "identity:get_credential")
    return {"credential": links.entity(req, "credentials", cred)}


@router.patch("/v3/credentials/{credential_id}", target=CREDENTIAL)
async def update_credential(req: ApiRequest) -> Reply:
    body = await req.json_object("credential")
    stored = await _stored(req, "identity:update_credential")
    if "id" in body and body["id"] != stored["id"]:
        raise BadRequest("Cannot change ID")
    # Neither the owner as stored nor the owner after the change may be someone else.
    req.authorize("identity:update_credential", _target({**stored, **body}))
    cred = await credentials.update_credential(req.rt, req.params["credential_id"], body)
    return {"credential": links.entity(req, "credentials", cred)}


@router.delete("/v3/credentials/{credential_id}", status=204, target=CREDENTIAL)
async def delete_credential(req: ApiRequest) -> Reply:
    await _stored(req, "identity:delete_credential")
    await credentials.delete_credential(req.rt, req.params["credential_id"])
    return None
