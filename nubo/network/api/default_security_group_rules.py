"""``/v2.0/default-security-group-rules``: the rule templates new security groups get
(extension ``security-groups-default-rules``; admins add and delete them)."""

from __future__ import annotations

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import default_security_group_rules as templates

router = Router()
TARGET = "service/network/default_security_group_rule"
PATH = "/v2.0/default-security-group-rules"


@router.get(PATH)
async def list_default_security_group_rules(req: ApiRequest) -> Reply:
    req.authorize("get_default_security_group_rule", {})
    query = q.list_query(req)
    found, more = await templates.list_templates(req.rt, query)
    return q.page(req, "default_security_group_rules", found, more, query)


@router.get(PATH + "/{rule_id}")
async def show_default_security_group_rule(req: ApiRequest) -> Reply:
    req.authorize("get_default_security_group_rule", {})
    found = await templates.get_template(req.rt, req.params["rule_id"])
    return {"default_security_group_rule": q.project(found, q.fields(req))}


@router.post(PATH, status=201, target=TARGET)
async def create_default_security_group_rule(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "default_security_group_rule")
    project_id = body.get("project_id", body.get("tenant_id", req.ctx.project_id))
    req.authorize("create_default_security_group_rule",
                  {"project_id": project_id, "tenant_id": project_id})
    return {"default_security_group_rule": await templates.create_template(req.rt, body)}


@router.delete(PATH + "/{rule_id}", status=204, target=TARGET)
async def delete_default_security_group_rule(req: ApiRequest) -> Reply:
    req.authorize("delete_default_security_group_rule", {})
    await templates.delete_template(req.rt, req.params["rule_id"])
    return empty()
