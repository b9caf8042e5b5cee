"""Nova's floating IP and network proxies to networking: ``/os-floating-ips``,
``/os-floating-ip-pools``, ``/os-networks`` and ``/os-tenant-networks`` (up to 2.35),
and the
``addFloatingIp`` / ``removeFloatingIp`` server actions (up to 2.43)."""

from __future__ import annotations

import ipaddress
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from nubo.compute import network_client as neutron
from nubo.compute.api import servers
from nubo.compute.api import validation as v
from nubo.compute.service import networking
from nubo.compute.service import server_floating_ips as fips
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()
PROXY_MAX = "2.35"
ACTIONS_MAX = "2.43"
BASE = "/v2.1/os-floating-ips"
TARGET = "service/compute/floating_ip"
RULE = "os_compute_api:os-floating-ips:"


def view(fip: Mapping[str, Any], pool: Mapping[str, Any] | None) -> dict[str, Any]:
    details = fip.get("port_details") or {}
    return {"id": fip["id"], "ip": fip["floating_ip_address"],
            "fixed_ip": fip.get("fixed_ip_address"),
            "instance_id": details.get("device_id") or None,
            "pool": (pool or {}).get("name") or fip["floating_network_id"]}


async def _pools_of(req: ApiRequest, found: list[dict[str, Any]]
                    ) -> dict[str, dict[str, Any]]:
    ids = sorted({f["floating_network_id"] for f in found})
    nets = await neutron.list_networks(req.rt, neutron.admin_context(), id=ids)
    return {n["id"]: n for n in nets}


async def _one(req: ApiRequest, fip_id: str) -> dict[str, Any]:
    try:
        uuidlib.UUID(fip_id)
        return await neutron.show_floating_ip(req.rt, req.ctx, fip_id)
    except (ValueError, NotFound):
        raise NotFound(f"Floating IP not found for ID {fip_id}") from None


@router.get(BASE, max_version=PROXY_MAX)
async def list_floating_ips(req: ApiRequest) -> Reply:
    req.authorize(RULE + "list", {"project_id": req.ctx.project_id})
    found = await neutron.list_floating_ips(req.rt, req.ctx,
                                            project_id=req.ctx.project_id or "")
    pools = await _pools_of(req, found)
    return {"floating_ips": [view(f, pools.get(f["floating_network_id"])) for f in found]}


@router.get(BASE + "/{fip_id}", max_version=PROXY_MAX)
async def show_floating_ip(req: ApiRequest) -> Reply:
    req.authorize(RULE + "show", {"project_id": req.ctx.project_id})
    fip = await _one(req, req.params["fip_id"])
    pools = await _pools_of(req, [fip])
    return {"floating_ip": view(fip, pools.get(fip["floating_network_id"]))}


@router.post(BASE, max_version=PROXY_MAX, target=TARGET)
async def create_floating_ip(req: ApiRequest) -> Reply:
    req.authorize(RULE + "create", {"project_id": req.ctx.project_id})
    body = await _optional_json(req)
    pool = None
    if isinstance(body, dict) and body.get("pool") is not None:
        pool = v.string("pool", body["pool"], max_length=255)
    fip = await fips.allocate(req.rt, req.ctx, pool)
    pools = await _pools_of(req, [fip])
    return {"floating_ip": view(fip, pools.get(fip["floating_network_id"]))}


async def _optional_json(req: ApiRequest) -> Any:
    try:
        return await req.json()
    except BadRequest as e:
        if e.message == "The request body is missing.":
            return None
        raise


@router.delete(BASE + "/{fip_id}", status=202, max_version=PROXY_MAX, target=TARGET)
async def delete_floating_ip(req: ApiRequest) -> Reply:
    req.authorize(RULE + "delete", {"project_id": req.ctx.project_id})
    fip = await _one(req, req.params["fip_id"])
    await neutron.delete_floating_ip(req.rt, req.ctx, fip["id"])
    device = (fip.get("port_details") or {}).get("device_id")
    if fip.get("port_id") and device:
        await networking.refresh(req.rt, device)
    return None


@router.get("/v2.1/os-floating-ip-pools", max_version=PROXY_MAX)
async def list_pools(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-floating-ip-pools", {"project_id": req.ctx.project_id})
    return {"floating_ip_pools": [{"name": n["name"]} for n in
                                  await fips.pools(req.rt, req.ctx)]}


# ------------------------------------------------------------ os-networks


def network_view(req: ApiRequest, net: Mapping[str, Any]) -> dict[str, Any]:
    """Nova's network dict: only ``id`` and ``label`` are known since nova-network."""
    fields = ["id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6",
              "gateway_v6", "label", "netmask_v6"]
    if req.allowed("context_is_admin", {}):
        fields += ["created_at", "updated_at", "deleted_at", "deleted", "injected",
                   "bridge", "vlan", "vpn_public_address", "vpn_public_port",
                   "vpn_private_address", "dhcp_start", "project_id", "host",
                   "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu",
                   "dhcp_server", "enable_dhcp", "share_address"]
    known = {"id": net["id"], "label": net["name"]}
    return {f: known.get(f) for f in fields}


@router.get("/v2.1/os-networks", max_version=PROXY_MAX)
async def list_networks(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-networks:list", {"project_id": req.ctx.project_id})
    # every network the caller sees in the network service (its own, shared and
    # external ones; all of them for an admin), as Nova lists them through Neutron
    nets = await neutron.list_networks(req.rt, req.ctx)
    return {"networks": [network_view(req, n) for n in nets]}


@router.get("/v2.1/os-networks/{network_id}", max_version=PROXY_MAX)
async def show_network(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-networks:show", {"project_id": req.ctx.project_id})
    try:
        net = await neutron.show_network(req.rt, req.ctx, req.params["network_id"])
    except NotFound:
        raise NotFound("Network not found") from None
    return {"network": network_view(req, net)}


def tenant_network_view(net: Mapping[str, Any]) -> dict[str, Any]:
    """``os-tenant-networks``: what Nova answered with Neutron (``cidr`` "None")."""
    return {"id": net["id"], "cidr": "None", "label": net["name"]}


@router.get("/v2.1/os-tenant-networks", max_version=PROXY_MAX)
async def list_tenant_networks(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-tenant-networks:list",
                  {"project_id": req.ctx.project_id})
    own = await neutron.list_networks(req.rt, req.ctx, project_id=req.ctx.project_id or "",
                                      shared=False)
    nets = own + await neutron.list_networks(req.rt, req.ctx, shared=True)
    return {"networks": [tenant_network_view(n) for n in nets]}


@router.get("/v2.1/os-tenant-networks/{network_id}", max_version=PROXY_MAX)
async def show_tenant_network(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-tenant-networks:show",
                  {"project_id": req.ctx.project_id})
    try:
        net = await neutron.show_network(req.rt, req.ctx, req.params["network_id"])
    except NotFound:
        raise NotFound("Network not found") from None
    return {"network": tenant_network_view(net)}


# ---------------------------------------------------------------- actions


def _address(body: Any, action: str, extra: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise v.invalid(action, body, f"{body!r} is not of type 'object'")
    v.only(body, {"address"} | extra, action)
    for key in ("address", *extra):
        if key in body:
            try:
                ipaddress.ip_address(str(body[key]))
            except ValueError:
                raise v.invalid(key, body[key], f"{body[key]!r} is not a 'ipv4'") from None
    if "address" not in body:
        raise BadRequest(f"Invalid input for field/attribute {action}. 'address' is a "
                         "required property")
    return body


async def add_floating_ip(req: ApiRequest, server: dict[str, Any], body: Any) -> Reply:
    if req.at_least("2.44"):
        raise NotFound("The resource could not be found.")
    req.authorize(RULE + "add", {"project_id": server["project_id"]})
    wanted = _address(body, "addFloatingIp", {"fixed_address"})
    await fips.associate(req.rt, req.ctx, server, str(wanted["address"]),
                         wanted.get("fixed_address"))
    return None


async def remove_floating_ip(req: ApiRequest, server: dict[str, Any], body: Any) -> Reply:
    if req.at_least("2.44"):
        raise NotFound("The resource could not be found.")
    req.authorize(RULE + "remove", {"project_id": server["project_id"]})
    wanted = _address(body, "removeFloatingIp", set())
    await fips.disassociate(req.rt, req.ctx, server, str(wanted["address"]))
    return None


servers.register_action("addFloatingIp", add_floating_ip)
servers.register_action("removeFloatingIp", remove_floating_ip)
