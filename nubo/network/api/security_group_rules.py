"""``/v2.0/security-group-rules``: create (one rule, or ``security_group_rules``: several
of one group and project at once), list, show, delete."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import security_group_rules, security_groups, standard
from nubo.network.sg_rules import Rule, parse_rule

router = Router()
TARGET = "service/network/security_group_rule"


def _target(project_id: str | None, group_owner: str | None) -> dict[str, Any]:
    return {"project_id": project_id, "tenant_id": project_id,
            "security_group:project_id": group_owner}


async def _bodies(req: ApiRequest) -> tuple[list[dict[str, Any]], bool]:
    """The rule objects a create sends, and whether it was a bulk request."""
    body = await req.json()
    if isinstance(body, dict) and "security_group_rules" in body:
        items = body["security_group_rules"]
        if not isinstance(items, list) or not items or not all(
                isinstance(i, dict) for i in items):
            raise BadRequest("Resources required: 'security_group_rules' must be a list of "
                             "rule objects", type="HTTPBadRequest")
        return [dict(i) for i in items], True
    return [await b.resource_body(req, "security_group_rule")], False


def _parse(req: ApiRequest, items: list[dict[str, Any]]) -> tuple[str, str, list[Rule]]:
    """(group, project, rules): a bulk request is for one group and one project."""
    parsed = [(parse_rule(item), standard.owner(req.ctx, item)) for item in items]
    groups = {group for (group, _), _ in parsed}
    projects = {project for _, project in parsed}
    if len(groups) > 1:
        raise BadRequest("Only allowed to update rules for one security profile at a time",
                         type="SecurityGroupNotSingleGroupRules")
    if len(projects) > 1:
        raise BadRequest("Multiple project_ids in bulk security group rule create not "
                         "allowed", type="SecurityGroupRulesNotSingleProject")
    return groups.pop(), projects.pop(), [rule for (_, rule), _ in parsed]


@router.post("/v2.0/security-group-rules", status=201, target=TARGET)
async def create_security_group_rule(req: ApiRequest) -> Reply:
    items, bulk = await _bodies(req)
    group_id, project_id, rules = _parse(req, items)
    owner = await security_groups.owner_of(req.rt, req.ctx, group_id)
    req.authorize("create_security_group_rule", _target(project_id, owner))
    made = await security_group_rules.create_rules(req.rt, req.ctx, project_id, group_id,
                                                   rules)
    return {"security_group_rules": made} if bulk else {"security_group_rule": made[0]}


@router.get("/v2.0/security-group-rules")
async def list_security_group_rules(req: ApiRequest) -> Reply:
    mine = req.ctx.project_id
    req.authorize("get_security_group_rule", _target(mine, mine))
    query = q.list_query(req)
    found, more = await security_group_rules.list_rules(req.rt, req.ctx, query)
    return q.page(req, "security_group_rules", found, more, query)


@router.get("/v2.0/security-group-rules/{rule_id}")
async def show_security_group_rule(req: ApiRequest) -> Reply:
    rule, owner = await security_group_rules.get_rule(req.rt, req.ctx, req.params["rule_id"])
    req.authorize("get_security_group_rule", _target(rule["project_id"], owner))
    return {"security_group_rule": q.project(rule, q.fields(req))}


@router.delete("/v2.0/security-group-rules/{rule_id}", status=204, target=TARGET)
async def delete_security_group_rule(req: ApiRequest) -> Reply:
    rule, owner = await security_group_rules.get_rule(req.rt, req.ctx, req.params["rule_id"])
    req.authorize("delete_security_group_rule", _target(rule["project_id"], owner))
    await security_group_rules.delete_rule(req.rt, req.ctx, rule["id"])
    return empty()
