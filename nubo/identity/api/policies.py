"""Legacy ``/v3/policies`` and their OS-ENDPOINT-POLICY associations."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.api import crud, links
from nubo.identity.service import policies

router = Router()
POLICY = "service/identity/policy"
ASSOC = "/v3/policies/{policy_id}/OS-ENDPOINT-POLICY"


crud.register(router, crud.Collection(
    "policy", "policies", "policies", POLICY, create=policies.create_policy,
    list=policies.list_policies, get=policies.get_policy, update=policies.update_policy,
    delete=policies.delete_policy))


# ---------------------------------------------------------------- OS-ENDPOINT-POLICY


def _register_associations() -> None:
    """PUT, GET, HEAD and DELETE of an association with an endpoint, a service, or a
    service in a region; Keystone's rules end in the target's name."""
    for suffix, kind in (("endpoints/{endpoint_id}", "endpoint"),
                         ("services/{service_id}", "service"),
                         ("services/{service_id}/regions/{region_id}", "region_and_service")):
        path, ids = f"{ASSOC}/{suffix}", ("endpoint_id", "service_id", "region_id")
        check = crud.call(f"identity:check_policy_association_for_{kind}",
                          policies.check_association, "policy_id", optional=ids)
        router.put(path, status=204, target=POLICY)(crud.call(
            f"identity:create_policy_association_for_{kind}", policies.create_association,
            "policy_id", optional=ids))
        router.get(path, status=204)(check)
        router.head(path, status=204)(check)
        router.delete(path, status=204, target=POLICY)(crud.call(
            f"identity:delete_policy_association_for_{kind}", policies.delete_association,
            "policy_id", optional=ids))


_register_associations()


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
