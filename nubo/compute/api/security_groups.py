"""Nova's security group proxies to networking: ``/os-security-groups`` and
``/os-security-group-rules`` (up to 2.35), ``/servers/{id}/os-security-groups``, and
the ``addSecurityGroup`` / ``removeSecurityGroup`` server actions.

Groups and rules are networking's, shown in Nova's shape (ingress rules only, with
``from_port``/``to_port``, ``ip_protocol``, ``ip_range`` or ``group``); networking's
own visibility and policy decide what the caller may see and change.
"""

from __future__ import annotations

import ipaddress
import uuid as uuidlib
from collections.abc import Mapping, Sequence
from typing import Any

from nubo.compute import network_client as neutron
from nubo.compute.api import servers
from nubo.compute.api import validation as v
from nubo.compute.service import server_security_groups as sgs
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, Forbidden, NotFound, NuboError

router = Router()
PROXY_MAX = "2.35"
BASE = "/v2.1/os-security-groups"
RULES = "/v2.1/os-security-group-rules"
TARGET = "service/compute/security_group"
RULE = "os_compute_api:os-security-groups:"


def rule_view(rule: Mapping[str, Any], names: Mapping[str, Mapping[str, Any]]
              ) -> dict[str, Any]:
    """A Neutron ingress rule as Nova shows it."""
    protocol = rule.get("protocol")
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if protocol and low is None and high is None:
        low, high = (1, 65535) if str(protocol).upper() in ("TCP", "UDP") else (-1, -1)
    out: dict[str, Any] = {"id": rule["id"], "parent_group_id": rule["security_group_id"],
                           "ip_protocol": protocol, "from_port": low, "to_port": high,
                           "group": {}, "ip_range": {}}
    remote = rule.get("remote_group_id")
    if remote:
        group = names.get(remote, {})
        out["group"] = {"name": group.get("name"), "tenant_id": group.get("project_id")}
    else:
        out["ip_range"] = {"cidr": rule.get("remote_ip_prefix") or "0.0.0.0/0"}
    return out


def group_view(group: Mapping[str, Any], names: Mapping[str, Mapping[str, Any]]
               ) -> dict[str, Any]:
    return {"id": group["id"], "name": group["name"], "description": group["description"],
            "tenant_id": group["project_id"],
            "rules": [rule_view(r, names) for r in group.get("security_group_rules") or []
                      if r["direction"] == "ingress"]}


async def _views(req: ApiRequest, groups: Sequence[Mapping[str, Any]]
                 ) -> list[dict[str, Any]]:
    names: dict[str, Mapping[str, Any]] = {g["id"]: g for g in groups}
    remotes = sorted({r["remote_group_id"] for g in groups
                      for r in g.get("security_group_rules") or []
                      if r.get("remote_group_id") and r["remote_group_id"] not in names})
    if remotes:
        for group in await neutron.list_security_groups(req.rt, req.ctx, id=remotes):
            names[group["id"]] = group
    shown = [group_view(g, names) for g in groups]
    return sorted(shown, key=lambda g: (g["tenant_id"] or "", g["name"]))


def _uuid(value: str, what: str = "Security group id") -> str:
    try:
        uuidlib.UUID(value)
    except ValueError:
        raise BadRequest(f"{what} should be uuid") from None
    return value


async def _group(req: ApiRequest, group_id: str) -> dict[str, Any]:
    try:
        return await neutron.show_security_group(req.rt, req.ctx, _uuid(group_id))
    except NotFound:
        raise NotFound(f"Security group {group_id} not found.") from None


# ------------------------------------------------------------------ groups


@router.get(BASE, max_version=PROXY_MAX)
async def list_groups(req: ApiRequest) -> Reply:
    req.authorize(RULE + "get", {"project_id": req.ctx.project_id})
    filters: dict[str, Any] = {}
    if not ("all_tenants" in req.query and req.allowed("context_is_admin", {})):
        filters["project_id"] = req.ctx.project_id or ""
    groups = await neutron.list_security_groups(req.rt, req.ctx, **filters)
    shown = await _views(req, groups)
    offset = v.integer("offset", req.query.get("offset", 0))
    limit = req.query.get("limit")
    end = offset + v.integer("limit", limit) if limit is not None else None
    return {"security_groups": shown[offset:end]}


@router.get(BASE + "/{group_id}", max_version=PROXY_MAX)
async def show_group(req: ApiRequest) -> Reply:
    req.authorize(RULE + "show", {"project_id": req.ctx.project_id})
    group = await _group(req, req.params["group_id"])
    return {"security_group": (await _views(req, [group]))[0]}


def _group_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("security_group"), dict):
        raise BadRequest("Invalid input for field/attribute security_group. "
                         "'security_group' is a required property")
    group = body["security_group"]
    for key in ("name", "description"):
        if key not in group:
            raise BadRequest(f"Invalid input for field/attribute security_group. "
                             f"'{key}' is a required property")
        v.string(key, group[key], min_length=0, max_length=255, name_chars=False)
    return {"name": group["name"], "description": group["description"]}


@router.post(BASE, max_version=PROXY_MAX, target=TARGET)
async def create_group(req: ApiRequest) -> Reply:
    req.authorize(RULE + "create", {"project_id": req.ctx.project_id})
    wanted = _group_body(await req.json())
    try:
        group = await neutron.create_security_group(req.rt, req.ctx, wanted)
    except NuboError as e:
        raise _translated(e) from e
    return {"security_group": (await _views(req, [group]))[0]}


@router.put(BASE + "/{group_id}", max_version=PROXY_MAX, target=TARGET)
async def update_group(req: ApiRequest) -> Reply:
    req.authorize(RULE + "update", {"project_id": req.ctx.project_id})
    group = await _group(req, req.params["group_id"])
    wanted = _group_body(await req.json())
    try:
        updated = await neutron.update_security_group(req.rt, req.ctx, group["id"], wanted)
    except NuboError as e:
        raise _translated(e) from e
    return {"security_group": (await _views(req, [updated]))[0]}


@router.delete(BASE + "/", status=202, max_version=PROXY_MAX, target=TARGET)
async def delete_group_without_id(req: ApiRequest) -> Reply:
    raise NotFound("Security group  not found.")


@router.delete(BASE + "/{group_id}", status=202, max_version=PROXY_MAX, target=TARGET)
async def delete_group(req: ApiRequest) -> Reply:
    req.authorize(RULE + "delete", {"project_id": req.ctx.project_id})
    group = await _group(req, req.params["group_id"])
    try:
        await neutron.delete_security_group(req.rt, req.ctx, group["id"])
    except NuboError as e:
        raise _translated(e) from e
    return None


def _translated(e: NuboError) -> NuboError:
    """Networking's refusals in Nova's codes: its 409s (in use, quota) and bad input
    are 400 here, as Nova's Invalid; quota of groups is 403."""
    if neutron.error_type(e) == "OverQuota":
        return Forbidden(e.message)
    if e.status in (400, 409):
        return BadRequest(e.message)
    return e


# ------------------------------------------------------------------- rules


def _port(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(what) from None


def _rule_body(rule: Mapping[str, Any]) -> dict[str, Any]:
    """Nova's rule (ingress; ip_protocol, ports, cidr or group_id) as Neutron's."""
    protocol = rule.get("ip_protocol")
    group_id = rule.get("group_id")
    cidr = rule.get("cidr")
    icmp = str(protocol or "").upper() == "ICMP"
    words = ("Invalid input received: Type and Code must be integers for ICMP protocol "
             "type" if icmp else "Invalid input received: To and From ports must be "
             "integers")
    low, high = _port(rule.get("from_port"), words), _port(rule.get("to_port"), words)
    if group_id and protocol and low is None and high is None:
        low, high = (-1, -1) if icmp else (1, 65535)
    if not group_id:
        cidr = str(cidr or "0.0.0.0/0")
        try:
            ipaddress.ip_network(cidr, strict=False)      # checked, kept as given
        except ValueError:
            raise BadRequest(f"Invalid cidr {cidr}.") from None
        if not (protocol and low is not None and high is not None):
            raise BadRequest("Not enough parameters to build a valid rule.")
    _check_ports(protocol, low, high)
    version = ipaddress.ip_network(cidr, strict=False).version if cidr else 4
    body: dict[str, Any] = {"security_group_id": rule["parent_group_id"],
                            "direction": "ingress", "protocol": protocol,
                            "ethertype": f"IPv{version}", "remote_ip_prefix": cidr,
                            "remote_group_id": group_id}
    if low is not None and low != -1:
        body["port_range_min"] = low
    if high is not None and high != -1:
        body["port_range_max"] = high
    return body


def _check_ports(protocol: Any, low: int | None, high: int | None) -> None:
    if not protocol or low is None or high is None:
        return
    kind = str(protocol).upper()
    if kind not in ("TCP", "UDP", "ICMP"):
        raise BadRequest(f"Invalid IP protocol {protocol}.")
    if kind in ("TCP", "UDP") and low > high:
        raise BadRequest(f"Invalid port range {low}:{high}. Former value cannot be greater "
                         "than the later")
    if kind in ("TCP", "UDP") and (low < 1 or high > 65535):
        raise BadRequest(f"Invalid port range {low}:{high}. Valid {kind} ports should be "
                         "between 1-65535")
    if kind == "ICMP" and not (-1 <= low <= 255 and -1 <= high <= 255):
        raise BadRequest(f"Invalid port range {low}:{high}. For ICMP, the type:code must "
                         "be valid")


@router.post(RULES, max_version=PROXY_MAX, target=TARGET)
async def create_rule(req: ApiRequest) -> Reply:
    req.authorize(RULE + "rule:create", {"project_id": req.ctx.project_id})
    body = await req.json()
    if not isinstance(body, dict) or not isinstance(body.get("security_group_rule"), dict):
        raise BadRequest("Invalid input for field/attribute security_group_rule. "
                         "'security_group_rule' is a required property")
    rule = body["security_group_rule"]
    if not isinstance(rule.get("parent_group_id"), str):
        raise BadRequest("Invalid input for field/attribute security_group_rule. "
                         "'parent_group_id' is a required property")
    parent = await _group(req, rule["parent_group_id"])
    names: dict[str, Mapping[str, Any]] = {parent["id"]: parent}
    if rule.get("group_id"):
        names[rule["group_id"]] = await _group(req, rule["group_id"])
    try:
        made = await neutron.create_security_group_rule(req.rt, req.ctx, _rule_body(rule))
    except NuboError as e:
        raise _translated(e) from e
    return {"security_group_rule": rule_view(made, names)}


@router.delete(RULES + "/{rule_id}", status=202, max_version=PROXY_MAX, target=TARGET)
async def delete_rule(req: ApiRequest) -> Reply:
    req.authorize(RULE + "rule:delete", {"project_id": req.ctx.project_id})
    rule_id = _uuid(req.params["rule_id"], "Security group rule id")
    try:
        await neutron.delete_security_group_rule(req.rt, req.ctx, rule_id)
    except NotFound:
        raise NotFound(f"Security group rule {rule_id} not found.") from None
    return None


# ---------------------------------------------------------------- servers


@router.get("/v2.1/servers/{server_id}/os-security-groups")
async def list_server_groups(req: ApiRequest) -> Reply:
    server = await servers.load(req, RULE + "list")
    groups = await sgs.groups_of_server(req.rt, req.ctx, server["uuid"])
    return {"security_groups": await _views(req, groups)}


def _action_name(body: Any, action: str) -> str:
    if not isinstance(body, dict):
        raise BadRequest("Missing parameter dict")
    v.only(body, {"name"}, action)
    if "name" not in body:
        raise BadRequest("Security group not specified")
    name = body["name"]
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("Security group name cannot be empty")
    return name


async def add_security_group(req: ApiRequest, server: dict[str, Any], body: Any) -> Reply:
    req.authorize(RULE + "add", {"project_id": server["project_id"]})
    await sgs.add_to_server(req.rt, req.ctx, server, _action_name(body, "addSecurityGroup"))
    return None


async def remove_security_group(req: ApiRequest, server: dict[str, Any], body: Any) -> Reply:
    req.authorize(RULE + "remove", {"project_id": server["project_id"]})
    await sgs.remove_from_server(req.rt, req.ctx, server,
                                 _action_name(body, "removeSecurityGroup"))
    return None


servers.register_action("addSecurityGroup", add_security_group)
servers.register_action("removeSecurityGroup", remove_security_group)
