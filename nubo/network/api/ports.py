"""``/v2.0/ports``: list, show, create (one, or in bulk), update, delete.

The policy target of a port carries its network's owner and sharing, so the
``network_owner`` rules apply; attribute rules (``create_port:mac_address``, and the
nested ``create_port:fixed_ips:ip_address``) are checked for what the body sets, as
Neutron checks them (on create only when the value is not the default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import networks, port_queries, ports, standard

router = Router()
TARGET = "service/network/port"
HIDDEN = ("binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details")
UPDATABLE = ("name", "description", "admin_state_up", "mac_address", "fixed_ips",
             "device_id", "device_owner", "security_groups", "port_security_enabled",
             "allowed_address_pairs", "extra_dhcp_opts", "dns_name", "binding:host_id",
             "binding:vnic_type", "binding:profile")
CREATABLE = (*UPDATABLE, "network_id", "project_id", "tenant_id", "tags")
READ_ONLY = ("id", "network_id", "project_id", "tenant_id", "status", "binding:vif_type",
             "binding:vif_details", "dns_assignment", "ip_allocation", "created_at",
             "updated_at", "revision_number", "tags")
# attributes whose rule Neutron skips on create when they keep their default
DEFAULTS: Mapping[str, Any] = {"name": "", "admin_state_up": True, "device_id": "",
                               "device_owner": "", "binding:vnic_type": "normal",
                               "dns_name": "", "description": ""}


def _check(body: dict[str, Any], *, create: bool) -> None:
    if not create:
        b.forbid_update(body, READ_ONLY, "port")
    b.only(body, CREATABLE if create else UPDATABLE)
    if create and "network_id" not in body:
        raise BadRequest("Failed to parse request. Required attribute 'network_id' not "
                         "specified", type="HTTPBadRequest")
    b.uuid_value(body, "network_id")
    if create and body.get("mac_address", "") is None:
        raise b.invalid("mac_address", "'None' is not a valid MAC address")
    if body.get("binding:vnic_type", "") is None:
        raise b.invalid("binding:vnic_type", "None is not a valid VNIC type")
    for key in ("name", "device_id", "device_owner", "binding:host_id", "dns_name"):
        b.string(body, key, nullable=key in ("binding:host_id", "dns_name"))
    for key in ("admin_state_up", "port_security_enabled"):
        value = b.boolean(body, key)
        if value is not b.MISSING:
            body[key] = value
    if body.get("security_groups", []) is None:
        body["security_groups"] = []
    groups = b.string_list(body, "security_groups")
    if groups is not b.MISSING:
        for group in groups:
            if not b.is_uuid(group):
                raise b.invalid("security_groups", f"'{group}' is not a valid UUID")
    b.string_list(body, "tags")


def _project(req: ApiRequest, body: Mapping[str, Any]) -> str:
    """The new port's project; only admins name another one (Neutron's 400)."""
    project = standard.owner(req.ctx, body)
    if project != req.ctx.project_id and not _privileged(req):
        raise BadRequest("Specifying 'project_id' or 'tenant_id' other than the "
                         "authenticated project in request requires admin privileges",
                         type="HTTPBadRequest")
    return project


def _privileged(req: ApiRequest) -> bool:
    return standard.is_admin(req.rt, req.ctx) or req.allowed("service_api")


def _explicit(body: Mapping[str, Any], create: bool) -> list[str]:
    return [k for k in body if not create or k not in DEFAULTS or body[k] != DEFAULTS[k]]


def _authorize(req: ApiRequest, action: str, body: Mapping[str, Any],
               target: Mapping[str, Any]) -> None:
    """The action's rule and the rules of the attributes the body sets, nested ones
    (``fixed_ips:ip_address``, ``allowed_address_pairs:mac_address``) included."""
    req.authorize(f"{action}_port", target)
    q.authorize_attributes(req, action, "port", _explicit(body, action == "create"), target)
    for attribute in ("fixed_ips", "allowed_address_pairs"):
        items = body.get(attribute)
        keys = {k for item in items if isinstance(item, dict) for k in item} \
            if isinstance(items, list) else set()
        q.authorize_attributes(req, action, "port", [f"{attribute}:{k}" for k in sorted(keys)],
                               target)


def render(port: dict[str, Any], hidden: tuple[str, ...]) -> dict[str, Any]:
    """The port without the attributes the caller may not see."""
    return {k: v for k, v in port.items() if k not in hidden}


def _hidden(req: ApiRequest) -> tuple[str, ...]:
    target = {"project_id": req.ctx.project_id}
    return tuple(a for a in HIDDEN if not q.visible_attribute(req, "port", a, target))


async def _create_target(req: ApiRequest, body: dict[str, Any]) -> dict[str, Any]:
    """Check the network a new port goes on (visible; another project's only when
    shared with the caller) and the body's rules; the policy target."""
    project = _project(req, body)
    body["project_id"] = project
    body.pop("tenant_id", None)
    net = await networks.network_target(req.rt, req.ctx, body["network_id"])
    if not _privileged(req) and not net["shared"] and net["project_id"] != project:
        raise NotFound("The resource could not be found.", type="HTTPNotFound")
    network = {"network_id": net["id"], "network:project_id": net["project_id"],
               "network:tenant_id": net["project_id"], "shared": net["shared"]}
    target = port_queries.target({"project_id": project, **body}, network)
    _authorize(req, "create", body, target)
    return target


@router.get("/v2.0/ports")
async def list_ports(req: ApiRequest) -> Reply:
    req.authorize("get_port", {"project_id": req.ctx.project_id})
    query = q.list_query(req)
    found, more = await port_queries.list_ports(req.rt, req.ctx, query)
    hidden = _hidden(req)
    return q.page(req, "ports", [render(p, hidden) for p in found], more, query)


@router.get("/v2.0/ports/{port_id}")
async def show_port(req: ApiRequest) -> Reply:
    target = await port_queries.get_target(req.rt, req.ctx, req.params["port_id"])
    req.authorize("get_port", target)
    port = await ports.get_port(req.rt, req.ctx, target["id"])
    return {"port": q.project(render(port, _hidden(req)), q.fields(req))}


@router.post("/v2.0/ports", status=201, target=TARGET)
async def create_port(req: ApiRequest) -> Reply:
    bodies, bulk = await b.one_or_many(req, "port", "ports")
    for body in bodies:
        _check(body, create=True)
        await _create_target(req, body)
    made = await ports.create_ports(req.rt, req.ctx, bodies)
    hidden = _hidden(req)
    if bulk:
        return {"ports": [render(p, hidden) for p in made]}
    return {"port": render(made[0], hidden)}


@router.put("/v2.0/ports/{port_id}", target=TARGET)
async def update_port(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "port")
    _check(body, create=False)
    target = await port_queries.get_target(req.rt, req.ctx, req.params["port_id"])
    merged = port_queries.target({**target, **body}, target)
    _authorize(req, "update", body, merged)
    port = await ports.update_port(req.rt, req.ctx, target["id"], body,
                                   if_match=q.if_match(req))
    return {"port": render(port, _hidden(req))}


@router.delete("/v2.0/ports/{port_id}", status=204, target=TARGET)
async def delete_port(req: ApiRequest) -> Reply:
    target = await port_queries.get_target(req.rt, req.ctx, req.params["port_id"])
    req.authorize("delete_port", target)
    await ports.delete_port(req.rt, req.ctx, target["id"], if_match=q.if_match(req))
    return empty()
