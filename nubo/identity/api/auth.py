"""``/v3/auth``: tokens, and what the caller's token can reach."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import Forbidden
from nubo.identity import tables as t
from nubo.identity.api import links
from nubo.identity.service import assignments, resource, tokens
from nubo.identity.service.catalog import catalog_for

router = Router()
TARGET = "service/security/account/user"


def _flag(req: ApiRequest, name: str) -> bool:
    value = req.query.get(name)
    return value is not None and value.lower() not in ("0", "false", "no")


@router.post("/v3/auth/tokens", public=True, status=201, target=TARGET)
async def create_token(req: ApiRequest) -> Reply:
    body = await req.json()
    auth = body.get("auth") if isinstance(body, dict) else None
    token, data = await tokens.issue(req.rt, auth)
    rendered = await tokens.render(req.rt, data, catalog=not _flag(req, "nocatalog"))
    return JSONResponse(rendered, status_code=201, headers={"X-Subject-Token": token})


async def _subject(req: ApiRequest, rule: str) -> tokens.TokenData:
    subject = await tokens.require_subject(
        req.rt, req.headers.get("x-subject-token"), allow_expired=_flag(req, "allow_expired"))
    req.authorize(rule, {"target": {"token": {"user_id": subject.payload.user_id}},
                         "token": {"user_id": subject.payload.user_id}})
    return subject


@router.get("/v3/auth/tokens")
async def validate_token(req: ApiRequest) -> Reply:
    subject = await _subject(req, "identity:validate_token")
    rendered = await tokens.render(req.rt, subject, catalog=not _flag(req, "nocatalog"))
    return JSONResponse(rendered, headers={"X-Subject-Token": subject.token})


@router.head("/v3/auth/tokens")
async def check_token(req: ApiRequest) -> Reply:
    subject = await _subject(req, "identity:check_token")
    return JSONResponse(None, status_code=200, headers={"X-Subject-Token": subject.token})


@router.delete("/v3/auth/tokens", status=204, target=TARGET)
async def revoke_token(req: ApiRequest) -> Reply:
    subject = await _subject(req, "identity:revoke_token")
    await tokens.revoke_token(req.rt, subject)
    return None


@router.get("/v3/auth/catalog")
async def get_auth_catalog(req: ApiRequest) -> Reply:
    req.authorize("identity:get_auth_catalog")
    ctx = req.ctx
    if ctx.scope == "unscoped":
        raise Forbidden("A scoped token is required to get the catalog.")
    catalog = await catalog_for(req.rt, ctx.project_id, ctx.user_id)
    return {"catalog": catalog, "links": {"self": f"{links.base(req)}/auth/catalog",
                                          "previous": None, "next": None}}


@router.get("/v3/auth/projects")
async def get_auth_projects(req: ApiRequest) -> Reply:
    req.authorize("identity:get_auth_projects")
    async with req.rt.db.read() as conn:
        ids = await assignments.project_ids_for_user(conn, req.ctx.user_id, rt=req.rt)
        rows = await conn.execute(select(t.project.c.id).where(t.project.c.id.in_(ids),
                                                               t.project.c.enabled))
        enabled = {r.id for r in rows}
    projects = [await resource.get_project(req.rt, pid) for pid in ids if pid in enabled]
    return links.collection(req, "projects", "projects", projects)


@router.get("/v3/auth/domains")
async def get_auth_domains(req: ApiRequest) -> Reply:
    req.authorize("identity:get_auth_domains")
    async with req.rt.db.read() as conn:
        ids = await assignments.domain_ids_for_user(conn, req.ctx.user_id, rt=req.rt)
    domains: list[dict[str, Any]] = []
    for did in ids:
        domain = await resource.get_domain(req.rt, did)
        if domain["enabled"]:
            domains.append(domain)
    return links.collection(req, "domains", "domains", domains)


@router.get("/v3/auth/system")
async def get_auth_system(req: ApiRequest) -> Reply:
    req.authorize("identity:get_auth_system")
    async with req.rt.db.read() as conn:
        has = await assignments.has_system_roles(conn, req.ctx.user_id, rt=req.rt)
    return {"system": [{"all": True}] if has else [],
            "links": {"self": f"{links.base(req)}/auth/system", "previous": None, "next": None}}
