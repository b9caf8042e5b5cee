"""How a server is shown, microversion by microversion."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from nubo.compute import network_info
from nubo.compute.states import api_status
from nubo.core.api.routing import ApiRequest


def timestamp(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def usg_timestamp(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def links(req: ApiRequest, kind: str, ident: str) -> list[dict[str, str]]:
    base = f"{req.rt.settings.public_url}/compute"
    return [{"rel": "self", "href": f"{base}/v2.1/{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{base}/{kind}/{ident}"}]


def host_id(project_id: str, host: str | None) -> str:
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def instance_name(server: Mapping[str, Any]) -> str:
    return f"instance-{int(server['id']):08x}"


def brief(req: ApiRequest, server: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": server["uuid"], "name": server["display_name"],
            "links": links(req, "servers", server["uuid"])}


def _flavor(req: ApiRequest, flavor: Mapping[str, Any]) -> dict[str, Any]:
    if not req.at_least("2.47"):
        base = f"{req.rt.settings.public_url}/compute"
        return {"id": str(flavor["id"]),
                "links": [{"rel": "bookmark", "href": f"{base}/flavors/{flavor['id']}"}]}
    out = {"vcpus": flavor["vcpus"], "ram": flavor["ram"], "disk": flavor["disk"],
           "ephemeral": flavor.get("ephemeral", 0), "swap": flavor.get("swap", 0),
           "original_name": flavor["name"]}
    if req.allowed("os_compute_api:servers:show:flavor-extra-specs",
                   {"project_id": req.ctx.project_id}):
        out["extra_specs"] = dict(flavor.get("extra_specs") or {})
    return out


def _image(req: ApiRequest, server: Mapping[str, Any]) -> Any:
    if not server.get("image_ref"):
        return ""
    base = f"{req.rt.settings.public_url}/compute"
    return {"id": server["image_ref"],
            "links": [{"rel": "bookmark", "href": f"{base}/images/{server['image_ref']}"}]}


def _fault(req: ApiRequest, server: Mapping[str, Any], admin: bool) -> dict[str, Any] | None:
    fault = server.get("fault")
    if not fault:
        return None
    out = {"code": fault["code"], "created": timestamp(fault["created_at"]),
           "message": fault["message"]}
    if admin or fault["code"] != 500:
        out["details"] = fault.get("details") or ""
    return out


def full(req: ApiRequest, server: Mapping[str, Any], *, admin: bool,
         host_status: str | None = None, groups: list[str] | None = None,
         security_groups: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The ``server`` object of show and detail at the request's microversion;
    ``security_groups`` those of its ports (absent when it has none, as in Nova)."""
    status = api_status(server["vm_state"], server["task_state"])
    extra = server.get("extra") or {}
    out: dict[str, Any] = {
        "id": server["uuid"], "name": server["display_name"], "status": status,
        "tenant_id": server["project_id"], "user_id": server["user_id"],
        "metadata": dict(server.get("metadata") or {}),
        "hostId": host_id(server["project_id"], server["host"]),
        "image": _image(req, server), "flavor": _flavor(req, server["flavor"]),
        "created": timestamp(server["created_at"]), "updated": timestamp(server["updated_at"]),
        "addresses": network_info.addresses(server.get("network_info") or []),
        "accessIPv4": server.get("access_ip_v4") or "",
        "accessIPv6": server.get("access_ip_v6") or "",
        "links": links(req, "servers", server["uuid"]),
        "OS-DCF:diskConfig": extra.get("disk_config", "MANUAL"),
        "OS-EXT-AZ:availability_zone": server.get("availability_zone") or "",
        "config_drive": server.get("config_drive") or "",
        "key_name": server.get("key_name"),
        "OS-SRV-USG:launched_at": usg_timestamp(server.get("launched_at")),
        "OS-SRV-USG:terminated_at": usg_timestamp(server.get("terminated_at")),
        "OS-EXT-STS:task_state": server["task_state"],
        "OS-EXT-STS:vm_state": server["vm_state"],
        "OS-EXT-STS:power_state": server["power_state"],
        "os-extended-volumes:volumes_attached": [],
    }
    if security_groups:
        out["security_groups"] = security_groups
    if status in ("BUILD", "ACTIVE"):       # Nova shows progress only for these
        out["progress"] = server.get("progress") or 0
    fault = _fault(req, server, admin)
    if fault and status in ("ERROR", "DELETED"):
        out["fault"] = fault
    if admin:
        out.update(_admin_attrs(req, server))
    elif req.at_least("2.90"):
        out["OS-EXT-SRV-ATTR:hostname"] = server.get("hostname")
    if req.at_least("2.9"):
        out["locked"] = bool(server.get("locked"))
    if req.at_least("2.73"):
        out["locked_reason"] = server.get("locked_reason")
    if req.at_least("2.16") and host_status is not None:
        out["host_status"] = host_status
    if req.at_least("2.19"):
        out["description"] = server.get("display_description")
    if req.at_least("2.26"):
        out["tags"] = list(server.get("tags") or [])
    if req.at_least("2.63"):
        out["trusted_image_certificates"] = extra.get("trusted_certs")
    if req.at_least("2.71") and groups is not None:
        out["server_groups"] = groups
    return out


def _admin_attrs(req: ApiRequest, server: Mapping[str, Any]) -> dict[str, Any]:
    out = {"OS-EXT-SRV-ATTR:host": server["host"],
           "OS-EXT-SRV-ATTR:instance_name": instance_name(server),
           "OS-EXT-SRV-ATTR:hypervisor_hostname": server["node"]}
    if req.at_least("2.3"):
        out.update({
            "OS-EXT-SRV-ATTR:reservation_id": server["reservation_id"],
            "OS-EXT-SRV-ATTR:launch_index": server["launch_index"],
            "OS-EXT-SRV-ATTR:hostname": server.get("hostname"),
            "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
            "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda" if server["host"] else None,
            "OS-EXT-SRV-ATTR:user_data": server.get("user_data"),
        })
    return out


# what the answers of PUT /servers/{id} and rebuild leave out before 2.75 (Nova shows
# them only from 2.75, where both answer as GET does)
BEFORE_275 = ("OS-EXT-AZ:availability_zone", "config_drive", "OS-SRV-USG:launched_at",
              "OS-SRV-USG:terminated_at", "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state",
              "OS-EXT-STS:power_state", "os-extended-volumes:volumes_attached",
              "security_groups", "host_status", "key_name")


def before_275(body: Mapping[str, Any]) -> dict[str, Any]:
    """An update or rebuild answer as Nova gives it before 2.75: without the
    extended attributes, addresses with version and address only."""
    out = {k: v for k, v in body.items()
           if k not in BEFORE_275 and not k.startswith("OS-EXT-SRV-ATTR:")}
    out["addresses"] = {label: [{"version": a["version"], "addr": a["addr"]} for a in found]
                        for label, found in (body.get("addresses") or {}).items()}
    return out
