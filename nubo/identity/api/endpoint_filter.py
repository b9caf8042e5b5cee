"""OS-EP-FILTER: ``/v3/OS-EP-FILTER/endpoint_groups`` and the endpoint and
endpoint-group associations of projects."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import links
from nubo.identity.service import endpoint_filter as ef

router = Router()
EP = "/v3/OS-EP-FILTER"
GROUP_PATH = "OS-EP-FILTER/endpoint_groups"
ENDPOINT_GROUP = "service/identity/endpoint_group"
PROJECT_ENDPOINT = "service/identity/project_endpoint"


# ---------------------------------------------------------------- endpoint groups


@router.post(f"{EP}/endpoint_groups", status=201, target=ENDPOINT_GROUP)
async def create_endpoint_group(req: ApiRequest) -> Reply:
    body = await req.json_object("endpoint_group")
    req.authorize("identity:create_endpoint_group")
    group = await ef.create_endpoint_group(req.rt, body)
    return {"endpoint_group": links.entity(req, GROUP_PATH, group)}


@router.get(f"{EP}/endpoint_groups")
async def list_endpoint_groups(req: ApiRequest) -> Reply:
    req.authorize("identity:list_endpoint_groups")
    found = await ef.list_endpoint_groups(req.rt, links.filters(req))
    return links.collection(req, "endpoint_groups", GROUP_PATH, found)


@router.get(f"{EP}/endpoint_groups/{{group_id}}")
async def get_endpoint_group(req: ApiRequest) -> Reply:
    req.authorize("identity:get_endpoint_group")
    group = await ef.get_endpoint_group(req.rt, req.params["group_id"])
    return {"endpoint_group": links.entity(req, GROUP_PATH, group)}


@router.patch(f"{EP}/endpoint_groups/{{group_id}}", target=ENDPOINT_GROUP)
async def update_endpoint_group(req: ApiRequest) -> Reply:
    body = await req.json_object("endpoint_group")
    req.authorize("identity:update_endpoint_group")
    group = await ef.update_endpoint_group(req.rt, req.params["group_id"], body)
    return {"endpoint_group": links.entity(req, GROUP_PATH, group)}


@router.delete(f"{EP}/endpoint_groups/{{group_id}}", status=204, target=ENDPOINT_GROUP)
async def delete_endpoint_group(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_endpoint_group")
    await ef.delete_endpoint_group(req.rt, req.params["group_id"])
    return None


@router.get(f"{EP}/endpoint_groups/{{group_id}}/endpoints")
async def list_endpoints_associated_with_endpoint_group(req: ApiRequest) -> Reply:
    req.authorize("identity:list_endpoints_associated_with_endpoint_group")
    found = await ef.list_endpoints_in_group(req.rt, req.params["group_id"])
    return links.collection(req, "endpoints", "endpoints", found)


@router.get(f"{EP}/endpoint_groups/{{group_id}}/projects")
async def list_projects_associated_with_endpoint_group(req: ApiRequest) -> Reply:
    req.authorize("identity:list_projects_associated_with_endpoint_group")
    found = await ef.list_projects_for_endpoint_group(req.rt, req.params["group_id"])
    return links.collection(req, "projects", "projects", found)


def _association(req: ApiRequest) -> dict[str, object]:
    gid, pid = req.params["group_id"], req.params["project_id"]
    return {"endpoint_group_id": gid, "project_id": pid,
            "links": {"self": f"{links.base(req)}/{GROUP_PATH}/{gid}/projects/{pid}"}}


@router.put(f"{EP}/endpoint_groups/{{group_id}}/projects/{{project_id}}", status=204,
            target=ENDPOINT_GROUP)
async def add_endpoint_group_to_project(req: ApiRequest) -> Reply:
    req.authorize("identity:add_endpoint_group_to_project")
    await ef.add_endpoint_group_to_project(req.rt, req.params["group_id"],
                                           req.params["project_id"])
    return None


@router.get(f"{EP}/endpoint_groups/{{group_id}}/projects/{{project_id}}")
async def get_endpoint_group_in_project(req: ApiRequest) -> Reply:
    req.authorize("identity:get_endpoint_group_in_project")
    await ef.get_endpoint_group_in_project(req.rt, req.params["group_id"],
                                           req.params["project_id"])
    return {"project_endpoint_group": _association(req)}


@router.delete(f"{EP}/endpoint_groups/{{group_id}}/projects/{{project_id}}", status=204,
               target=ENDPOINT_GROUP)
async def remove_endpoint_group_from_project(req: ApiRequest) -> Reply:
    req.authorize("identity:remove_endpoint_group_from_project")
    await ef.remove_endpoint_group_from_project(req.rt, req.params["group_id"],
                                                req.params["project_id"])
    return None


@router.get(f"{EP}/projects/{{project_id}}/endpoint_groups")
async def list_endpoint_groups_for_project(req: ApiRequest) -> Reply:
    req.authorize("identity:list_endpoint_groups_for_project")
    found = await ef.list_endpoint_groups_for_project(req.rt, req.params["project_id"])
    return links.collection(req, "endpoint_groups", GROUP_PATH, found)


# ---------------------------------------------------------------- project endpoints


@router.put(f"{EP}/projects/{{project_id}}/endpoints/{{endpoint_id}}", status=204,
            target=PROJECT_ENDPOINT)
async def add_endpoint_to_project(req: ApiRequest) -> Reply:
    req.authorize("identity:add_endpoint_to_project")
    await ef.add_endpoint_to_project(req.rt, req.params["project_id"], req.params["endpoint_id"])
    return None


@router.get(f"{EP}/projects/{{project_id}}/endpoints/{{endpoint_id}}", status=204)
async def check_endpoint_in_project(req: ApiRequest) -> Reply:
    req.authorize("identity:check_endpoint_in_project")
    await ef.check_endpoint_in_project(req.rt, req.params["project_id"],
                                       req.params["endpoint_id"])
    return None


@router.head(f"{EP}/projects/{{project_id}}/endpoints/{{endpoint_id}}", status=204)
async def check_endpoint_in_project_head(req: ApiRequest) -> Reply:
    return await check_endpoint_in_project(req)


@router.delete(f"{EP}/projects/{{project_id}}/endpoints/{{endpoint_id}}", status=204,
               target=PROJECT_ENDPOINT)
async def remove_endpoint_from_project(req: ApiRequest) -> Reply:
    req.authorize("identity:remove_endpoint_from_project")
    await ef.remove_endpoint_from_project(req.rt, req.params["project_id"],
                                          req.params["endpoint_id"])
    return None


@router.get(f"{EP}/projects/{{project_id}}/endpoints")
async def list_endpoints_for_project(req: ApiRequest) -> Reply:
    req.authorize("identity:list_endpoints_for_project")
    found = await ef.list_endpoints_for_project(req.rt, req.params["project_id"])
    return links.collection(req, "endpoints", "endpoints", found)


@router.get(f"{EP}/endpoints/{{endpoint_id}}/projects")
async def list_projects_for_endpoint(req: ApiRequest) -> Reply:
    req.authorize("identity:list_projects_for_endpoint")
    found = await ef.list_projects_for_endpoint(req.rt, req.params["endpoint_id"])
    return links.collection(req, "projects", "projects", found)
