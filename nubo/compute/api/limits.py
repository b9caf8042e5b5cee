"""``GET /v2.1/limits``: a project's absolute limits and what it uses of them."""

from __future__ import annotations

from nubo.compute.api import quotas as quota_api
from nubo.compute.service import quotas
from nubo.core.api.routing import ApiRequest, Reply, Router

router = Router()

# absolute limit name -> quota; "total*Used" name -> quota
LIMITS = {
    "maxServerMeta": "metadata_items", "maxImageMeta": "metadata_items",
    "maxPersonality": "injected_files", "maxPersonalitySize": "injected_file_content_bytes",
    "maxTotalKeypairs": "key_pairs", "maxTotalCores": "cores",
    "maxTotalInstances": "instances", "maxTotalRAMSize": "ram",
    "maxSecurityGroups": "security_groups", "maxSecurityGroupRules": "security_group_rules",
    "maxTotalFloatingIps": "floating_ips", "maxServerGroups": "server_groups",
    "maxServerGroupMembers": "server_group_members",
}
USED = {
    "totalCoresUsed": "cores", "totalRAMUsed": "ram", "totalInstancesUsed": "instances",
    "totalFloatingIpsUsed": "floating_ips", "totalSecurityGroupsUsed": "security_groups",
    "totalServerGroupsUsed": "server_groups",
}
GONE_2_36 = {"maxSecurityGroups", "maxSecurityGroupRules", "maxTotalFloatingIps",
             "totalFloatingIpsUsed", "totalSecurityGroupsUsed"}


def _hidden(req: ApiRequest) -> set[str]:
    hidden: set[str] = set()
    if req.at_least("2.36"):
        hidden |= GONE_2_36
    if req.at_least("2.39"):
        hidden.add("maxImageMeta")
    if req.at_least("2.57"):
        hidden |= {"maxPersonality", "maxPersonalitySize"}
    return hidden


@router.get("/v2.1/limits")
async def show_limits(req: ApiRequest) -> Reply:
    project_id = req.ctx.project_id or ""
    req.authorize("os_compute_api:limits", {"project_id": project_id})
    asked = req.query.get("tenant_id")
    if asked is not None and req.at_least("2.1"):
        req.authorize("os_compute_api:limits:other_project", {"project_id": asked})
        project_id = asked
    async with req.rt.db.read() as conn:
        limits = await quotas.project_limits(conn, req.rt, project_id)
    used = await quota_api.in_use(req, project_id, None)
    hidden = _hidden(req)
    absolute = {name: limits[q] for name, q in LIMITS.items() if name not in hidden}
    absolute.update({name: used.get(q, 0) for name, q in USED.items() if name not in hidden})
    return {"limits": {"rate": [], "absolute": absolute}}
