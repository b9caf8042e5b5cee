"""``/v2.0/subnets``."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import NotFound
from nubo.network import subnet_request
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.api.owner import requested_project, required
from nubo.network.service import networks, standard, subnet_writes, subnets

router = Router()
TARGET = "service/network/subnet"
UPDATABLE = ("name", "gateway_ip", "allocation_pools", "dns_nameservers", "host_routes",
             "enable_dhcp", "description", "service_types", "segment_id",
             "dns_publish_fixed_ip")
READ_ONLY = ("id", "network_id", "ip_version", "cidr", "ipv6_ra_mode", "ipv6_address_mode",
             "subnetpool_id", "prefixlen", "use_default_subnetpool", "project_id",
             "tenant_id", "tags")
CREATABLE = (*UPDATABLE, "network_id", "ip_version", "cidr", "ipv6_ra_mode",
             "ipv6_address_mode", "subnetpool_id", "use_default_subnetpool", "prefixlen",
             "project_id", "tenant_id", "tags")
ADMIN_ONLY_VIEW = ("segment_id",)


def _check(body: dict[str, Any], *, create: bool) -> None:
    if not create:
        b.forbid_update(body, READ_ONLY, "subnet")
    b.only(body, CREATABLE if create else UPDATABLE)
    b.string(body, "name")
    for key in ("enable_dhcp", "use_default_subnetpool", "dns_publish_fixed_ip"):
        value = b.boolean(body, key)
        if value is not b.MISSING:
            body[key] = value
    for key in ("subnetpool_id", "segment_id"):
        b.uuid_value(body, key, nullable=True)
    if "service_types" in body:
        body["service_types"] = subnet_request.service_types(body["service_types"])
    if create:
        required(body, "network_id", "ip_version")
        b.uuid_value(body, "network_id")
        body["ip_version"] = b.integer(body, "ip_version")
        if body["ip_version"] not in (4, 6):
            raise b.invalid("ip_version", f"{body['ip_version']} is not in [4, 6]")
        prefixlen = b.integer(body, "prefixlen", minimum=0, nullable=True)
        if prefixlen is not b.MISSING:
            body["prefixlen"] = prefixlen
    b.string_list(body, "tags")


def render(req: ApiRequest, subnet: dict[str, Any], target: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    """The subnet without the attributes the caller may not see (``segment_id``)."""
    target = target or {"project_id": subnet["project_id"]}
    return {k: v for k, v in subnet.items()
            if k not in ADMIN_ONLY_VIEW or q.visible_attribute(req, "subnet", k, target)}


@router.get("/v2.0/subnets")
async def list_subnets(req: ApiRequest) -> Reply:
    req.authorize("get_subnet", {"project_id": req.ctx.project_id,
                                 "network:project_id": req.ctx.project_id})
    query = q.list_query(req)
    found, more = await subnets.list_subnets(req.rt, req.ctx, query)
    return q.page(req, "subnets", [render(req, s) for s in found], more, query)


@router.get("/v2.0/subnets/{subnet_id}")
async def show_subnet(req: ApiRequest) -> Reply:
    target = await subnets.get_target(req.rt, req.ctx, req.params["subnet_id"])
    req.authorize("get_subnet", target)
    subnet = await subnets.get_subnet(req.rt, req.ctx, target["id"])
    return {"subnet": q.project(render(req, subnet, target), q.fields(req))}


async def _create_target(req: ApiRequest, body: dict[str, Any]) -> dict[str, Any]:
    """Neutron's checks before a subnet is made on a network: the caller sees the
    network (404 NetworkNotFound), and a network not shared with the caller has
    the subnet's owner as its owner (404, hiding it), unless the caller is admin."""
    project_id = requested_project(req, body)
    net = await networks.network_target(req.rt, req.ctx, body["network_id"])
    if (not standard.is_admin(req.rt, req.ctx) and not net["shared"]
            and net["project_id"] != project_id):
        raise NotFound("The resource could not be found.", type="HTTPNotFound")
    return {"project_id": project_id, "tenant_id": project_id, "network_id": net["id"],
            "network:project_id": net["project_id"], "network:tenant_id": net["project_id"],
            "shared": net["shared"], "router:external": net["router:external"]}


@router.post("/v2.0/subnets", status=201, target=TARGET)
async def create_subnet(req: ApiRequest) -> Reply:
    """One subnet, or several (``{"subnets": [...]}``) all or none."""
    bodies, bulk = await b.one_or_many(req, "subnet", "subnets")
    targets = []
    for body in bodies:
        _check(body, create=True)
        target = await _create_target(req, body)
        req.authorize("create_subnet", target)
        q.authorize_attributes(req, "create", "subnet", body, target)
        targets.append(target)
    made = await subnet_writes.create_subnets(req.rt, req.ctx, bodies)
    if bulk:
        return {"subnets": [render(req, s, t) for s, t in zip(made, targets, strict=True)]}
    return {"subnet": render(req, made[0], targets[0])}


@router.put("/v2.0/subnets/{subnet_id}", target=TARGET)
async def update_subnet(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "subnet")
    _check(body, create=False)
    target = await subnets.get_target(req.rt, req.ctx, req.params["subnet_id"])
    req.authorize("update_subnet", target)
    q.authorize_attributes(req, "update", "subnet", body, target)
    subnet = await subnet_writes.update_subnet(req.rt, req.ctx, target["id"], body,
                                               if_match=q.if_match(req))
    return {"subnet": render(req, subnet, target)}


@router.delete("/v2.0/subnets/{subnet_id}", status=204, target=TARGET)
async def delete_subnet(req: ApiRequest) -> Reply:
    target = await subnets.get_target(req.rt, req.ctx, req.params["subnet_id"])
    req.authorize("delete_subnet", target)
    await subnet_writes.delete_subnet(req.rt, req.ctx, target["id"], if_match=q.if_match(req))
    return empty()
