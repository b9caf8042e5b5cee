"""``/v3/users/{user_id}/credentials/OS-EC2``: a user's EC2 key pairs."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import NotFound
from nubo.identity.api import links
from nubo.identity.service import ec2

router = Router()
CREDENTIAL = "service/identity/credential"
PATH = "/v3/users/{user_id}/credentials/OS-EC2"


def _render(req: ApiRequest, cred: dict[str, Any]) -> dict[str, Any]:
    cred["links"] = {"self": f"{links.base(req)}/users/{cred['user_id']}/credentials/OS-EC2/"
                             f"{cred['access']}"}
    return cred


@router.post(PATH, status=201, target=CREDENTIAL)
async def ec2_create_credential(req: ApiRequest) -> Reply:
    body = await req.json()
    user_id = req.params["user_id"]
    req.authorize("identity:ec2_create_credential",
                  {"target": {"credential": {"user_id": user_id}}})
    tenant_id = body.get("tenant_id") if isinstance(body, dict) else None
    cred = await ec2.create_ec2_credential(req.rt, user_id, tenant_id, req.ctx.trust_id)
    return {"credential": _render(req, cred)}


@router.get(PATH)
async def ec2_list_credentials(req: ApiRequest) -> Reply:
    user_id = req.params["user_id"]
    req.authorize("identity:ec2_list_credentials", {"user_id": user_id})
    found = [_render(req, c) for c in await ec2.list_ec2_credentials(req.rt, user_id)]
    return {"credentials": found, "links": {
        "self": f"{links.base(req)}/users/{user_id}/credentials/OS-EC2",
        "previous": None, "next": None}}


async def _stored(req: ApiRequest, rule: str) -> dict[str, Any]:
    """The credential named by the path's access key, checked against the stored owner
    (not the path's user, which the caller chooses)."""
    cred = await ec2.get_ec2_credential(req.rt, req.params["access"])
    req.authorize(rule, {"target": {"credential": cred}})
    if cred["user_id"] != req.params["user_id"]:
        raise NotFound(f"Could not find credential: {req.params['access']}.")
    return cred


@router.get(PATH + "/{access}")
async def ec2_get_credential(req: ApiRequest) -> Reply:
    cred = await _stored(req, "identity:ec2_get_credential")
    return {"credential": _render(req, ec2.to_ec2(cred))}


@router.delete(PATH + "/{access}", status=204, target=CREDENTIAL)
async def ec2_delete_credential(req: ApiRequest) -> Reply:
    await _stored(req, "identity:ec2_delete_credential")
    await ec2.delete_ec2_credential(req.rt, req.params["access"])
    return None
