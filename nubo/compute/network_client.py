"""Compute's narrow client of the networking service (Neutron v2.0).

Compute reaches networking only through these functions, each the equivalent of
one Neutron API call Nova makes (list networks, show/create/update/delete a port,
list ports, security groups, floating IPs, the auto-allocated topology). Today they
call ``nubo.network.service`` in-process; they take and return Neutron's JSON
shapes, so they can go over HTTP later without touching the callers.

Errors come back as the networking service raises them: ``NuboError`` subclasses
whose ``details["type"]`` is Neutron's exception type (``error_type``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from nubo.core.auth.context import RequestContext
from nubo.core.errors import Forbidden, NotFound, NuboError
from nubo.core.runtime import Runtime

Filters = Mapping[str, str | bool | Iterable[str]]
NOVA_USER = "nova"


def _service(name: str) -> Any:
    return importlib.import_module(f"nubo.network.service.{name}")


@functools.cache
def available(name: str) -> bool:
    """Whether the networking service has a part (``floating_ips``…) in this build."""
    try:
        _service(name)
    except ImportError:
        return False
    return True


def error_type(e: NuboError) -> str:
    """Neutron's exception type of an error the networking service raised."""
    return str(e.details.get("type") or "")


# ------------------------------------------------------------------- contexts


def user_context(context: Mapping[str, Any]) -> RequestContext:
    """The server owner's context from what compute kept of the request that made
    the server (``user_id``, ``project_id``, ``roles``): Nova calls Neutron as the
    user for what the user may do (create ports, list networks)."""
    roles = tuple(context.get("roles") or ("member", "reader"))
    return RequestContext(user_id=str(context.get("user_id") or ""),
                          project_id=context.get("project_id"), roles=roles)


def admin_context() -> RequestContext:
    """Compute's service credentials: what only an admin may do (port bindings,
    other projects' ports)."""
    return RequestContext(user_id=NOVA_USER, user_name=NOVA_USER, system_scope="all",
                          roles=("admin", "member", "reader", "service"))


def context_record(ctx: RequestContext) -> dict[str, Any]:
    """What to keep of a request's context to act for its user later."""
    return {"user_id": ctx.user_id, "project_id": ctx.project_id, "roles": list(ctx.roles)}


# ------------------------------------------------------------------- queries


def _query(filters: Filters) -> Any:
    listing = _service("listing")
    values: dict[str, list[str]] = {}
    for key, value in filters.items():
        if isinstance(value, bool):
            values[key] = [str(value).lower()]
        elif isinstance(value, str):
            values[key] = [value]
        else:
            values[key] = [str(v) for v in value]
    return listing.ListQuery(filters=values)


async def _list(module: str, function: str, rt: Runtime, ctx: RequestContext,
                filters: Filters) -> list[dict[str, Any]]:
    if any(not isinstance(v, (str, bool)) and not list(v) for v in filters.values()):
        return []           # "any of no values": nothing, without asking
    found, _more = await getattr(_service(module), function)(rt, ctx, _query(filters))
    return [dict(item) for item in found]


# ------------------------------------------------------------------ networks


async def list_networks(rt: Runtime, ctx: RequestContext, **filters: Any
                        ) -> list[dict[str, Any]]:
    return await _list("networks", "list_networks", rt, ctx, filters)


async def show_network(rt: Runtime, ctx: RequestContext, network_id: str) -> dict[str, Any]:
    found: dict[str, Any] = dict(await _service("networks").get_network(rt, ctx, network_id))
    return found


async def list_subnets(rt: Runtime, ctx: RequestContext, **filters: Any
                       ) -> list[dict[str, Any]]:
    return await _list("subnets", "list_subnets", rt, ctx, filters)


# --------------------------------------------------------------------- ports


async def list_ports(rt: Runtime, ctx: RequestContext, **filters: Any
                     ) -> list[dict[str, Any]]:
    if not available("port_queries"):
        return []
    return await _list("port_queries", "list_ports", rt, ctx, filters)


async def show_port(rt: Runtime, ctx: RequestContext, port_id: str) -> dict[str, Any]:
    found: dict[str, Any] = dict(await _service("ports").get_port(rt, ctx, port_id))
    return found


async def create_port(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                      ) -> dict[str, Any]:
    made = await _service("ports").create_ports(rt, ctx, [dict(body)])
    return dict(made[0])


async def update_port(rt: Runtime, ctx: RequestContext, port_id: str,
                      body: Mapping[str, Any]) -> dict[str, Any]:
    updated = await _service("ports").update_port(rt, ctx, port_id, dict(body))
    return dict(updated)


async def delete_port(rt: Runtime, ctx: RequestContext, port_id: str) -> None:
    """Delete a port; one already gone is fine."""
    try:
        await _service("ports").delete_port(rt, ctx, port_id)
    except NotFound:
        pass


async def free_ports(rt: Runtime, project_id: str) -> int | None:
    """How many more ports the project may have (None: no limit)."""
    quotas = _service("quotas")
    async with rt.db.transaction() as tx:
        limit = int(await quotas.limit_of(tx, rt.settings.network, project_id, "port"))
    if limit < 0:
        return None
    used = await list_ports(rt, admin_context(), project_id=project_id)
    return limit - len(used)


# ----------------------------------------------------- security groups, FIPs


async def list_security_groups(rt: Runtime, ctx: RequestContext, **filters: Any
                               ) -> list[dict[str, Any]]:
    return await _list("security_groups", "list_security_groups", rt, ctx, filters)


async def show_security_group(rt: Runtime, ctx: RequestContext, group_id: str
                              ) -> dict[str, Any]:
    found: dict[str, Any] = dict(await _service("security_groups").get_security_group(
        rt, ctx, group_id))
    return found


async def create_security_group(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                                ) -> dict[str, Any]:
    _authorize(rt, ctx, "create_security_group", ctx.project_id)
    made: dict[str, Any] = dict(await _service("security_groups").create_security_group(
        rt, ctx, dict(body)))
    return made


async def update_security_group(rt: Runtime, ctx: RequestContext, group_id: str,
                                body: Mapping[str, Any]) -> dict[str, Any]:
    group = await show_security_group(rt, ctx, group_id)
    _authorize(rt, ctx, "update_security_group", group["project_id"])
    updated: dict[str, Any] = dict(await _service("security_groups").update_security_group(
        rt, ctx, group_id, dict(body)))
    return updated


async def delete_security_group(rt: Runtime, ctx: RequestContext, group_id: str) -> None:
    group = await show_security_group(rt, ctx, group_id)
    _authorize(rt, ctx, "delete_security_group", group["project_id"])
    await _service("security_groups").delete_security_group(rt, ctx, group_id)


async def show_security_group_rule(rt: Runtime, ctx: RequestContext, rule_id: str
                                   ) -> dict[str, Any]:
    rule, _owner = await _service("security_group_rules").get_rule(rt, ctx, rule_id)
    return dict(rule)


async def create_security_group_rule(rt: Runtime, ctx: RequestContext,
                                     body: Mapping[str, Any]) -> dict[str, Any]:
    group_id, rule = importlib.import_module("nubo.network.sg_rules").parse_rule(dict(body))
    group = await show_security_group(rt, ctx, group_id)
    _authorize(rt, ctx, "create_security_group_rule", group["project_id"])
    made = await _service("security_group_rules").create_rules(
        rt, ctx, group["project_id"], group_id, [rule])
    return dict(made[0])


async def delete_security_group_rule(rt: Runtime, ctx: RequestContext, rule_id: str
                                     ) -> None:
    _rule, owner = await _service("security_group_rules").get_rule(rt, ctx, rule_id)
    _authorize(rt, ctx, "delete_security_group_rule", owner)
    await _service("security_group_rules").delete_rule(rt, ctx, rule_id)


def _authorize(rt: Runtime, ctx: RequestContext, rule: str, owner: str | None) -> None:
    """Networking's own policy for a change made through compute's proxies, as the
    Neutron API would apply it (403 PolicyNotAuthorized)."""
    target = {"project_id": owner, "tenant_id": owner, "security_group:project_id": owner}
    if not rt.policy.enforce(rule, target, ctx.to_policy_values()):
        raise Forbidden(f"rule:{rule} is disallowed by policy", type="PolicyNotAuthorized")


async def list_floating_ips(rt: Runtime, ctx: RequestContext, **filters: Any
                            ) -> list[dict[str, Any]]:
    if not available("floating_ips"):
        return []
    return await _list("floating_ips", "list_floatingips", rt, ctx, filters)


async def show_floating_ip(rt: Runtime, ctx: RequestContext, fip_id: str) -> dict[str, Any]:
    found: dict[str, Any] = dict(await _service("floating_ips").get_floatingip(
        rt, ctx, fip_id))
    return found


async def create_floating_ip(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                             ) -> dict[str, Any]:
    _authorize(rt, ctx, "create_floatingip", ctx.project_id)
    made: dict[str, Any] = dict(await _service("floating_ips").create_floatingip(
        rt, ctx, dict(body)))
    return made


async def update_floating_ip(rt: Runtime, ctx: RequestContext, fip_id: str,
                             body: Mapping[str, Any]) -> dict[str, Any]:
    fip = await show_floating_ip(rt, ctx, fip_id)
    _authorize(rt, ctx, "update_floatingip", fip["project_id"])
    updated: dict[str, Any] = dict(await _service("floating_ips").update_floatingip(
        rt, ctx, fip_id, dict(body)))
    return updated


async def delete_floating_ip(rt: Runtime, ctx: RequestContext, fip_id: str) -> None:
    fip = await show_floating_ip(rt, ctx, fip_id)
    _authorize(rt, ctx, "delete_floatingip", fip["project_id"])
    await _service("floating_ips").delete_floatingip(rt, ctx, fip_id)


# ------------------------------------------------- auto-allocated topology


async def can_auto_allocate(rt: Runtime, ctx: RequestContext, project_id: str) -> bool:
    """Whether networking could make the project an auto-allocated topology (its
    dry run: a default external network and default subnet pools exist)."""
    if not available("auto_allocated_topology"):
        return False
    topology = _service("auto_allocated_topology")
    try:
        await topology.get_auto_allocated_topology(rt, ctx, project_id, dry_run=True)
    except NuboError as e:
        if e.status in (400, 403, 404, 409):
            return False
        raise
    return True


async def auto_allocated_network(rt: Runtime, ctx: RequestContext, project_id: str
                                 ) -> str | None:
    """The network of the project's auto-allocated topology (made on first use), or
    None when networking cannot make one (no default external network or subnet
    pool, or no such feature in this build)."""
    if not available("auto_allocated_topology"):
        return None
    topology = _service("auto_allocated_topology")
    try:
        found = await topology.get_auto_allocated_topology(rt, ctx, project_id)
    except NuboError as e:
        if e.status in (400, 404, 409):
            return None
        raise
    return str(found["id"])
