"""``/v3/domains`` and ``/v3/projects`` (with tags)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import JSONResponse
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import NotFound, ValidationError
from nubo.identity.api import links
from nubo.identity.service import resource

router = Router()
PROJECT = "service/identity/project"
DOMAIN = "service/identity/domain"


# ---------------------------------------------------------------- domains


@router.post("/v3/domains", status=201, target=DOMAIN)
async def create_domain(req: ApiRequest) -> Reply:
    body = await req.json_object("domain")
    req.authorize("identity:create_domain", {"target": {"domain": body}})
    return {"domain": links.entity(req, "domains", await resource.create_domain(req.rt, body))}


@router.get("/v3/domains")
async def list_domains(req: ApiRequest) -> Reply:
    f = links.filters(req)
    own = req.ctx.domain_id
    req.authorize("identity:list_domains", {"target": {"domain": {"id": own}}})
    found = await resource.list_projects(req.rt, f, domain_only=True)
    if own:
        found = [d for d in found if d["id"] == own]
    return links.collection(req, "domains", "domains", found)


@router.get("/v3/domains/{domain_id}")
async def get_domain(req: ApiRequest) -> Reply:
    domain = await resource.get_domain(req.rt, req.params["domain_id"])
    req.authorize("identity:get_domain", {"target": {"domain": domain}, "domain_id": domain["id"]})
    return {"domain": links.entity(req, "domains", domain)}


@router.patch("/v3/domains/{domain_id}", target=DOMAIN)
async def update_domain(req: ApiRequest) -> Reply:
    body = await req.json_object("domain")
    domain = await resource.get_domain(req.rt, req.params["domain_id"])
    req.authorize("identity:update_domain", {"target": {"domain": domain}})
    updated = await resource.update_project(req.rt, domain["id"], body, as_domain=True)
    for key in ("domain_id", "parent_id", "is_domain"):
        updated.pop(key, None)
    return {"domain": links.entity(req, "domains", updated)}


@router.delete("/v3/domains/{domain_id}", status=204, target=DOMAIN)
async def delete_domain(req: ApiRequest) -> Reply:
    domain = await resource.get_domain(req.rt, req.params["domain_id"])
    req.authorize("identity:delete_domain", {"target": {"domain": domain}})
    await resource.delete_project(req.rt, domain["id"], as_domain=True)
    return None


# ---------------------------------------------------------------- projects


@router.post("/v3/projects", status=201, target=PROJECT)
async def create_project(req: ApiRequest) -> Reply:
    body = await req.json_object("project")
    if not body.get("domain_id") and not body.get("parent_id") and not body.get("is_domain"):
        body["domain_id"] = req.ctx.domain_id or req.ctx.project_domain_id or "default"
    req.authorize("identity:create_project", {"target": {"project": body}})
    project = await resource.create_project(req.rt, body)
    return {"project": links.entity(req, "projects", project)}


@router.get("/v3/projects")
async def list_projects(req: ApiRequest) -> Reply:
    f = links.filters(req)
    if req.ctx.domain_id and "domain_id" not in f:
        f["domain_id"] = req.ctx.domain_id
    req.authorize("identity:list_projects", {"target": {"domain_id": f.get("domain_id")},
                                             "domain_id": f.get("domain_id")})
    # Keystone lists projects acting as domains only when is_domain asks for them
    f.setdefault("is_domain", "false")
    found = await resource.list_projects(req.rt, f)
    return links.collection(req, "projects", "projects", found)


async def _project(req: ApiRequest, rule: str) -> dict[str, Any]:
    project = await resource.get_project(req.rt, req.params["project_id"])
    req.authorize(rule, {"target": {"project": project}, "project_id": project["id"]})
    return project


@router.get("/v3/projects/{project_id}")
async def get_project(req: ApiRequest) -> Reply:
    project = await _project(req, "identity:get_project")
    await _hierarchy(req, project)
    return {"project": links.entity(req, "projects", project)}


async def _hierarchy(req: ApiRequest, project: dict[str, Any]) -> None:
    """``parents_as_list``/``subtree_as_list``/``parents_as_ids``/``subtree_as_ids``."""
    q = req.query
    async with req.rt.db.read() as conn:
        if "parents_as_list" in q or "parents_as_ids" in q:
            parents = [p for p in await resource.parent_ids(conn, project["id"])
                       if p != project["domain_id"]]
        if "subtree_as_list" in q or "subtree_as_ids" in q:
            subtree = await resource.subtree_ids(conn, project["id"])
    if "parents_as_list" in q and "parents_as_ids" in q:
        raise ValidationError("Cannot use parents_as_list and parents_as_ids together.")
    if "subtree_as_list" in q and "subtree_as_ids" in q:
        raise ValidationError("Cannot use subtree_as_list and subtree_as_ids together.")
    if "parents_as_list" in q:
        project["parents"] = [{"project": links.entity(
            req, "projects", await resource.get_project(req.rt, p))} for p in parents]
    if "subtree_as_list" in q:
        project["subtree"] = [{"project": links.entity(
            req, "projects", await resource.get_project(req.rt, p))} for p in subtree]
    if "parents_as_ids" in q:
        project["parents"] = await _nested_ids(req, parents, up=True)
    if "subtree_as_ids" in q:
        project["subtree"] = await _nested_ids(req, [project["id"]], up=False, root=True)


async def _nested_ids(req: ApiRequest, ids: list[str], *, up: bool, root: bool = False
                      ) -> dict[str, Any] | None:
    if up:
        out: dict[str, Any] | None = None
        for pid in reversed(ids):
            out = {pid: out}
        return out
    async with req.rt.db.read() as conn:
        children: dict[str, Any] = {}
        for pid in ids:
            kids = [k for k in await resource.subtree_ids(conn, pid)
                    if (await resource.get_row(conn, k) or {}).get("parent_id") == pid]
            children[pid] = await _nested_ids(req, kids, up=False) if kids else None
    return children[ids[0]] if root else children


@router.patch("/v3/projects/{project_id}", target=PROJECT)
async def update_project(req: ApiRequest) -> Reply:
    body = await req.json_object("project")
    project = await _project(req, "identity:update_project")
    updated = await resource.update_project(req.rt, project["id"], body)
    return {"project": links.entity(req, "projects", updated)}


@router.delete("/v3/projects/{project_id}", status=204, target=PROJECT)
async def delete_project(req: ApiRequest) -> Reply:
    project = await _project(req, "identity:delete_project")
    await resource.delete_project(req.rt, project["id"])
    return None


@router.get("/v3/projects/{project_id}/tags")
async def list_project_tags(req: ApiRequest) -> Reply:
    project = await _project(req, "identity:list_project_tags")
    return {"tags": project["tags"]}


@router.put("/v3/projects/{project_id}/tags", target=PROJECT)
async def update_project_tags(req: ApiRequest) -> Reply:
    body = await req.json()
    await _project(req, "identity:update_project_tags")
    tags = body.get("tags") if isinstance(body, dict) else None
    return {"tags": await resource.set_project_tags(req.rt, req.params["project_id"], tags)}


@router.delete("/v3/projects/{project_id}/tags", status=204, target=PROJECT)
async def delete_project_tags(req: ApiRequest) -> Reply:
    await _project(req, "identity:delete_project_tags")
    await resource.set_project_tags(req.rt, req.params["project_id"], [])
    return None


@router.get("/v3/projects/{project_id}/tags/{tag}", status=204)
async def get_project_tag(req: ApiRequest) -> Reply:
    project = await _project(req, "identity:get_project_tag")
    if req.params["tag"] not in project["tags"]:


        raise NotFound(f"Tag {req.params['tag']} not found for project {project['id']}.")
    return None


@router.put("/v3/projects/{project_id}/tags/{tag}", status=201, target=PROJECT)
async def create_project_tag(req: ApiRequest) -> Reply:
    await _project(req, "identity:create_project_tag")
    tag = req.params["tag"]
    resource._validate_tags([tag])
    await resource.add_project_tag(req.rt, req.params["project_id"], tag)


    url = f"{links.base(req)}/projects/{req.params['project_id']}/tags/{tag}"
    return JSONResponse(None, status_code=201, headers={"Location": url})


@router.delete("/v3/projects/{project_id}/tags/{tag}", status=204, target=PROJECT)
async def delete_project_tag(req: ApiRequest) -> Reply:
    await _project(req, "identity:delete_project_tag")
    await resource.delete_project_tag(req.rt, req.params["project_id"], req.params["tag"])
    return None
