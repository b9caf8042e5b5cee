"""OS-EP-FILTER: ``/v3/OS-EP-FILTER/endpoint_groups`` and the endpoint and
endpoint-group associations of projects."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import crud, links
from nubo.identity.service import endpoint_filter as ef

router = Router()
EP = "/v3/OS-EP-FILTER"
GROUP_PATH = "OS-EP-FILTER/endpoint_groups"
ENDPOINT_GROUP = "service/identity/endpoint_group"
PROJECT_ENDPOINT = "service/identity/project_endpoint"


# ---------------------------------------------------------------- endpoint groups


crud.register(router, crud.Collection(
    "endpoint_group", "endpoint_groups", GROUP_PATH, ENDPOINT_GROUP,
    create=ef.create_endpoint_group, list=ef.list_endpoint_groups, get=ef.get_endpoint_group,
    update=ef.update_endpoint_group, delete=ef.delete_endpoint_group, id_param="group_id"))


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


GROUP_PROJECT = f"{EP}/endpoint_groups/{{group_id}}/projects/{{project_id}}"
router.put(GROUP_PROJECT, status=204, target=ENDPOINT_GROUP)(crud.call(
    "identity:add_endpoint_group_to_project", ef.add_endpoint_group_to_project,
    "group_id", "project_id"))
router.delete(GROUP_PROJECT, status=204, target=ENDPOINT_GROUP)(crud.call(
    "identity:remove_endpoint_group_from_project", ef.remove_endpoint_group_from_project,
    "group_id", "project_id"))


@router.get(GROUP_PROJECT)
async def get_endpoint_group_in_project(req: ApiRequest) -> Reply:
    req.authorize("identity:get_endpoint_group_in_project")
    await ef.get_endpoint_group_in_project(req.rt, req.params["group_id"],
                                           req.params["project_id"])
    return {"project_endpoint_group": _association(req)}


@router.get(f"{EP}/projects/{{project_id}}/endpoint_groups")
async def list_endpoint_groups_for_project(req: ApiRequest) -> Reply:
    req.authorize("identity:list_endpoint_groups_for_project")
    found = await ef.list_endpoint_groups_for_project(req.rt, req.params["project_id"])
    return links.collection(req, "endpoint_groups", GROUP_PATH, found)


# ---------------------------------------------------------------- project endpoints


PROJECT_ENDPOINT_PATH = f"{EP}/projects/{{project_id}}/endpoints/{{endpoint_id}}"
_CHECK_ENDPOINT = crud.call("identity:check_endpoint_in_project", ef.check_endpoint_in_project,
                            "project_id", "endpoint_id")
router.put(PROJECT_ENDPOINT_PATH, status=204, target=PROJECT_ENDPOINT)(crud.call(
    "identity:add_endpoint_to_project", ef.add_endpoint_to_project, "project_id", "endpoint_id"))
router.get(PROJECT_ENDPOINT_PATH, status=204)(_CHECK_ENDPOINT)
router.head(PROJECT_ENDPOINT_PATH, status=204)(_CHECK_ENDPOINT)
router.delete(PROJECT_ENDPOINT_PATH, status=204, target=PROJECT_ENDPOINT)(crud.call(
    "identity:remove_endpoint_from_project", ef.remove_endpoint_from_project,
    "project_id", "endpoint_id"))


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
