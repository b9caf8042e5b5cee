"""Legacy ``/v3/policies`` and their OS-ENDPOINT-POLICY associations."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import links
from nubo.identity.service import policies

router = Router()
POLICY = "service/identity/policy"
ASSOC = "/v3/policies/{policy_id}/OS-ENDPOINT-POLICY"


@router.post("/v3/policies", status=201, target=POLICY)
async def create_policy(req: ApiRequest) -> Reply:
    body = await req.json_object("policy")
    req.authorize("identity:create_policy")
    return {"policy": links.entity(req, "policies", await policies.create_policy(req.rt, body))}


@router.get("/v3/policies")
async def list_policies(req: ApiRequest) -> Reply:
    req.authorize("identity:list_policies")
    found = await policies.list_policies(req.rt, links.filters(req))
    return links.collection(req, "policies", "policies", found)


@router.get("/v3/policies/{policy_id}")
async def get_policy(req: ApiRequest) -> Reply:
    req.authorize("identity:get_policy")
    policy = await policies.get_policy(req.rt, req.params["policy_id"])
    return {"policy": links.entity(req, "policies", policy)}


@router.patch("/v3/policies/{policy_id}", target=POLICY)
async def update_policy(req: ApiRequest) -> Reply:
    body = await req.json_object("policy")
    req.authorize("identity:update_policy")
    policy = await policies.update_policy(req.rt, req.params["policy_id"], body)
    return {"policy": links.entity(req, "policies", policy)}


@router.delete("/v3/policies/{policy_id}", status=204, target=POLICY)
async def delete_policy(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_policy")
    await policies.delete_policy(req.rt, req.params["policy_id"])
    return None


# ---------------------------------------------------------------- OS-ENDPOINT-POLICY


def _targets(req: ApiRequest) -> dict[str, str | None]:
    p = req.params
    return {"endpoint_id": p.get("endpoint_id"), "service_id": p.get("service_id"),
            "region_id": p.get("region_id")}


async def _associate(req: ApiRequest, rule: str) -> Reply:
    req.authorize(rule)
    await policies.create_association(req.rt, req.params["policy_id"], **_targets(req))
    return None


async def _check(req: ApiRequest, rule: str) -> Reply:
    req.authorize(rule)
    await policies.check_association(req.rt, req.params["policy_id"], **_targets(req))
    return None


async def _dissociate(req: ApiRequest, rule: str) -> Reply:
    req.authorize(rule)
    await policies.delete_association(req.rt, req.params["policy_id"], **_targets(req))
    return None


@router.put(f"{ASSOC}/endpoints/{{endpoint_id}}", status=204, target=POLICY)
async def create_policy_association_for_endpoint(req: ApiRequest) -> Reply:
    return await _associate(req, "identity:create_policy_association_for_endpoint")


@router.get(f"{ASSOC}/endpoints/{{endpoint_id}}", status=204)
async def check_policy_association_for_endpoint(req: ApiRequest) -> Reply:
    return await _check(req, "identity:check_policy_association_for_endpoint")


@router.head(f"{ASSOC}/endpoints/{{endpoint_id}}", status=204)
async def check_policy_association_for_endpoint_head(req: ApiRequest) -> Reply:
    return await _check(req, "identity:check_policy_association_for_endpoint")


@router.delete(f"{ASSOC}/endpoints/{{endpoint_id}}", status=204, target=POLICY)
async def delete_policy_association_for_endpoint(req: ApiRequest) -> Reply:
    return await _dissociate(req, "identity:delete_policy_association_for_endpoint")


@router.put(f"{ASSOC}/services/{{service_id}}", status=204, target=POLICY)
async def create_policy_association_for_service(req: ApiRequest) -> Reply:
    return await _associate(req, "identity:create_policy_association_for_service")


@router.get(f"{ASSOC}/services/{{service_id}}", status=204)
async def check_policy_association_for_service(req: ApiRequest) -> Reply:
    return await _check(req, "identity:check_policy_association_for_service")


@router.head(f"{ASSOC}/services/{{service_id}}", status=204)
async def check_policy_association_for_service_head(req: ApiRequest) -> Reply:
    return await _check(req, "identity:check_policy_association_for_service")


@router.delete(f"{ASSOC}/services/{{service_id}}", status=204, target=POLICY)
async def delete_policy_association_for_service(req: ApiRequest) -> Reply:
    return await _dissociate(req, "identity:delete_policy_association_for_service")


@router.put(f"{ASSOC}/services/{{service_id}}/regions/{{region_id}}", status=204, target=POLICY)
async def create_policy_association_for_region_and_service(req: ApiRequest) -> Reply:
    return await _associate(req, "identity:create_policy_association_for_region_and_service")


@router.get(f"{ASSOC}/services/{{service_id}}/regions/{{region_id}}", status=204)
async def check_policy_association_for_region_and_service(req: ApiRequest) -> Reply:
    return await _check(req, "identity:check_policy_association_for_region_and_service")


@router.head(f"{ASSOC}/services/{{service_id}}/regions/{{region_id}}", status=204)
async def check_policy_association_for_region_and_service_head(req: ApiRequest) -> Reply:
    return await _check(req, "identity:check_policy_association_for_region_and_service")


@router.delete(f"{ASSOC}/services/{{service_id}}/regions/{{region_id}}", status=204, target=POLICY)
async def delete_policy_association_for_region_and_service(req: ApiRequest) -> Reply:
    return await _dissociate(req, "identity:delete_policy_association_for_region_and_service")


@router.get("/v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy")
async def get_policy_for_endpoint(req: ApiRequest) -> Reply:
    req.authorize("identity:get_policy_for_endpoint")
    policy = await policies.get_policy_for_endpoint(req.rt, req.params["endpoint_id"])
    return {"policy": links.entity(req, "policies", policy)}


@router.get(f"{ASSOC}/endpoints")
async def list_endpoints_for_policy(req: ApiRequest) -> Reply:
    req.authorize("identity:list_endpoints_for_policy")
    found = await policies.list_endpoints_for_policy(req.rt, req.params["policy_id"])
    return links.collection(req, "endpoints", "endpoints", found)
