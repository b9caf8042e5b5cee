"""``/servers/{id}/os-interface``: a server's ports — list, show, attach (a network or
the user's port, a fixed IP, a device tag from 2.49), detach (202) — and
``/servers/{id}/ips`` (its addresses per network)."""

from __future__ import annotations

import ipaddress
from typing import Any

from nubo.compute import network_client as neutron
from nubo.compute import network_info
from nubo.compute.api import server_networks, servers
from nubo.compute.api import validation as v
from nubo.compute.api.servers import load
from nubo.compute.service import actions, info_cache, interfaces, networking
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()
BASE = "/v2.1/servers/{server_id}/os-interface"
TARGET = "service/compute/server/interface"


def view(req: ApiRequest, port: dict[str, Any], tags: dict[str, str | None]) -> dict[str, Any]:
    out = {"net_id": port["network_id"], "port_id": port["id"],
           "mac_addr": port["mac_address"], "port_state": port["status"],
           "fixed_ips": [{"subnet_id": ip.get("subnet_id"), "ip_address": ip["ip_address"]}
                         for ip in port.get("fixed_ips") or []]}
    if req.at_least("2.70"):
        out["tag"] = tags.get(port["id"])
    return out


async def _tags(req: ApiRequest, uuid: str) -> dict[str, str | None]:
    async with req.rt.db.read() as conn:
        return {r["port_id"]: r["tag"] for r in await info_cache.records(conn, uuid)}


@router.get(BASE)
async def list_interfaces(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-attach-interfaces:list")
    req.authorize("os_compute_api:os-attach-interfaces:list",
                  {"project_id": server["project_id"]})
    ports = await interfaces.list_interfaces(req.rt, req.ctx, server["uuid"])
    tags = await _tags(req, server["uuid"])
    return {"interfaceAttachments": [view(req, p, tags) for p in ports]}


@router.get(BASE + "/{port_id}")
async def show_interface(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-attach-interfaces:show")
    port_id = req.params["port_id"]
    try:
        port = await neutron.show_port(req.rt, req.ctx, port_id)
    except NotFound:
        raise NotFound(f"Port id {port_id} could not be found.") from None
    if port.get("device_id") != server["uuid"]:
        raise NotFound(f"Instance {server['uuid']} does not have a port with id {port_id}")
    return {"interfaceAttachment": view(req, port, await _tags(req, server["uuid"]))}


def _body(req: ApiRequest, body: Any) -> dict[str, Any]:
    if body is None or body == {}:
        return {}
    if not isinstance(body, dict):
        raise v.invalid("body", body, f"{body!r} is not of type 'object'")
    v.only(body, {"interfaceAttachment"})
    attachment = body.get("interfaceAttachment")
    if not isinstance(attachment, dict):
        raise v.invalid("interfaceAttachment", attachment,
                        f"{attachment!r} is not of type 'object'")
    v.only(attachment, {"net_id", "port_id", "fixed_ips"} | (
        {"tag"} if req.at_least("2.49") else set()), "interfaceAttachment")
    for key in ("net_id", "port_id"):
        value = attachment.get(key)
        if value is not None and not server_networks._is_uuid(value):
            raise v.invalid(key, value, f"{value!r} is not a 'uuid'")
    if "tag" in attachment:
        v.string("tag", attachment["tag"], max_length=60)
    return attachment


async def _json_or_none(req: ApiRequest) -> Any:
    """The body; None when there is none (attaching without one picks the network)."""
    try:
        return await req.json()
    except BadRequest as e:
        if e.message == "The request body is missing.":
            return None
        raise


def _fixed_ip(attachment: dict[str, Any]) -> str | None:
    ips = attachment.get("fixed_ips")
    if ips is None:
        return None
    if not isinstance(ips, list) or len(ips) != 1 or not isinstance(ips[0], dict) or set(
            ips[0]) != {"ip_address"}:
        raise v.invalid("fixed_ips", ips, "exactly one {'ip_address': ...} is expected")
    try:
        return str(ipaddress.ip_address(str(ips[0]["ip_address"])))
    except ValueError:
        raise v.invalid("fixed_ips/0/ip_address", ips[0]["ip_address"],
                        f"{ips[0]['ip_address']!r} is not a 'ip-address'") from None


@router.post(BASE, target=TARGET)
async def attach_interface(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-attach-interfaces:create")
    attachment = _body(req, await _json_or_none(req))
    net_id, port_id = attachment.get("net_id"), attachment.get("port_id")
    fixed_ip = _fixed_ip(attachment)
    if net_id and port_id:
        raise BadRequest("Must not input both network_id and port_id")
    if fixed_ip and not net_id:
        raise BadRequest("Must input network_id when request IP address")
    allowed = req.allowed("network:attach_external_network",
                          {"project_id": server["project_id"]})
    port = await interfaces.attach_interface(
        req.rt, req.ctx, server["uuid"], network_id=net_id, port_id=port_id,
        fixed_ip=fixed_ip, tag=attachment.get("tag"), request_id=req.request_id,
        external_allowed=allowed)
    return {"interfaceAttachment": view(req, port, await _tags(req, server["uuid"]))}


@router.delete(BASE + "/{port_id}", status=202, target=TARGET)
async def detach_interface(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-attach-interfaces:delete")
    await interfaces.detach_interface(req.rt, req.ctx, server["uuid"],
                                      req.params["port_id"], request_id=req.request_id)
    return None


# ------------------------------------------------------------------- ips


@router.get("/v2.1/servers/{server_id}/ips")
async def list_ips(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:ips:index")
    return {"addresses": network_info.ips(server.get("network_info") or [])}


@router.get("/v2.1/servers/{server_id}/ips/{network_label}")
async def show_ips(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:ips:show")
    label = req.params["network_label"]
    found = network_info.ips(server.get("network_info") or [])
    if label not in found:
        raise NotFound("Instance is not a member of specified network")
    return {label: found[label]}


async def inject_network_info(req: ApiRequest, server: dict[str, Any], body: Any) -> Reply:
    """``injectNetworkInfo`` (admin): the server's network info is read again from
    networking (the fake hypervisor has no guest to write it into)."""
    req.authorize("os_compute_api:os-admin-actions:inject_network_info",
                  {"project_id": server["project_id"]})
    actions.check_lock(req.ctx, server)
    await networking.refresh(req.rt, server["uuid"])
    return None


servers.register_action("injectNetworkInfo", inject_network_info)
