"""``/v3/OS-TRUST/trusts``: a trustor delegates roles on a project to a trustee."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import links
from nubo.identity.service import trusts

router = Router()
TRUSTS = "/v3/OS-TRUST/trusts"
TRUST = "service/identity/trust"


def _target(trust: dict[str, Any]) -> dict[str, Any]:
    return {"target": {"trust": trust}}


def _render(req: ApiRequest, trust: dict[str, Any]) -> dict[str, Any]:
    for role in trust["roles"]:
        links.entity(req, "roles", role)
    trust["roles_links"] = {"self": f"{links.base(req)}/OS-TRUST/trusts/{trust['id']}/roles",
                            "previous": None, "next": None}
    return links.entity(req, "OS-TRUST/trusts", trust)


@router.post(TRUSTS, status=201, target=TRUST)
async def create_trust(req: ApiRequest) -> Reply:
    body = await req.json_object("trust")
    req.authorize("identity:create_trust", _target(body))
    return {"trust": _render(req, await trusts.create(req.rt, req.ctx, body))}


@router.get(TRUSTS)
async def list_trusts(req: ApiRequest) -> Reply:
    query = links.filters(req)
    if query.get("trustor_user_id"):
        req.authorize("identity:list_trusts_for_trustor", _target(
            {"trustor_user_id": query["trustor_user_id"]}))
    if query.get("trustee_user_id"):
        req.authorize("identity:list_trusts_for_trustee", _target(
            {"trustee_user_id": query["trustee_user_id"]}))
    if not query.get("trustor_user_id") and not query.get("trustee_user_id"):
        req.authorize("identity:list_trusts")
    found = [_render(req, tr) for tr in await trusts.list_trusts(req.rt, query)]
    return links.collection(req, "trusts", "OS-TRUST/trusts", found)


async def _stored(req: ApiRequest, rule: str) -> dict[str, Any]:
    trust = await trusts.get_trust(req.rt, req.params["trust_id"])
    req.authorize(rule, _target(trust))
    return trust


@router.get(f"{TRUSTS}/{{trust_id}}")
async def get_trust(req: ApiRequest) -> Reply:
    return {"trust": _render(req, await _stored(req, "identity:get_trust"))}


@router.delete(f"{TRUSTS}/{{trust_id}}", status=204, target=TRUST)
async def delete_trust(req: ApiRequest) -> Reply:
    await _stored(req, "identity:delete_trust")
    trusts.refuse_restricted(req.ctx)
    await trusts.delete_trust(req.rt, req.params["trust_id"])
    return None


@router.get(f"{TRUSTS}/{{trust_id}}/roles")
async def list_roles_for_trust(req: ApiRequest) -> Reply:
    trust = await _stored(req, "identity:list_roles_for_trust")
    return links.collection(req, "roles", "roles", trust["roles"], truncate=False)


@router.get(f"{TRUSTS}/{{trust_id}}/roles/{{role_id}}")
async def get_role_for_trust(req: ApiRequest) -> Reply:
    await _stored(req, "identity:get_role_for_trust")
    role = await trusts.get_role(req.rt, req.params["trust_id"], req.params["role_id"])
    return {"role": links.entity(req, "roles", role)}


@router.head(f"{TRUSTS}/{{trust_id}}/roles/{{role_id}}")
async def check_role_for_trust(req: ApiRequest) -> Reply:
    await get_role_for_trust(req)
    return JSONResponse(None, status_code=200)
