"""Checks of router requests with Neutron's messages: the router body, its
``external_gateway_info`` (neutron-lib's ``dict_or_nodata`` and ``fixed_ips``
validators), and the bodies of the interface and extraroute actions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nubo.core.errors import BadRequest
from nubo.network import extraroutes
from nubo.network.api import bodies as b
from nubo.network.errors import bad_resource_request, invalid_input
from nubo.network.ipam import address_reason

UPDATABLE = ("name", "admin_state_up", "description", "external_gateway_info",
             "distributed", "ha", "routes")
CREATABLE = (*[k for k in UPDATABLE if k != "routes"], "availability_zone_hints", "tags",
             "tenant_id", "project_id")
GATEWAY_KEYS = ("network_id", "enable_snat", "external_fixed_ips")
GW = "external_gateway_info"


def check_router(body: dict[str, Any], *, create: bool) -> None:
    """Check (and convert in place) a create or update body."""
    if create and "routes" in body:
        raise BadRequest("Attribute 'routes' not allowed in POST", type="HTTPBadRequest")
    if not create:
        b.forbid_update(body, ("availability_zone_hints", "tenant_id", "project_id", "tags"),
                        "router")
    b.only(body, CREATABLE if create else UPDATABLE)
    b.string(body, "name")
    for key in ("admin_state_up", "distributed", "ha"):
        value = b.boolean(body, key)
        if value is not b.MISSING:
            body[key] = value
    b.string_list(body, "availability_zone_hints")
    b.string_list(body, "tags")
    if GW in body:
        body[GW] = gateway_info(body[GW])
    if "routes" in body:
        body["routes"] = extraroutes.parse_routes(body["routes"])


def _keys(keys: Iterable[str]) -> str:
    names = sorted(repr(k) for k in keys)
    return "{" + ", ".join(names) + "}" if names else "set()"


def gateway_info(value: Any) -> dict[str, Any] | None:
    """``external_gateway_info`` checked; None (or empty) clears the gateway."""
    if not value:
        return None
    if not isinstance(value, dict):
        raise b.invalid(GW, f"'{value}' is not a dictionary")
    if "network_id" not in value:
        raise b.invalid(GW, "Validation of dictionary's keys failed. Expected keys: "
                            f"{{'network_id'}} Provided keys: {_keys(value)}")
    unexpected = [k for k in value if k not in GATEWAY_KEYS]
    if unexpected:
        raise b.invalid(GW, f"Unexpected keys supplied: {', '.join(unexpected)}")
    if not b.is_uuid(value["network_id"]):
        raise b.invalid(GW, f"'{value['network_id']}' is not a valid UUID")
    out = dict(value)
    if "enable_snat" in value:
        try:
            out["enable_snat"] = b.boolean(value, "enable_snat")
        except BadRequest:
            raise invalid_input(f"'{value['enable_snat']}' cannot be converted to "
                                "boolean") from None
    if "external_fixed_ips" in value:
        out["external_fixed_ips"] = fixed_ips(value["external_fixed_ips"])
    return out


def fixed_ips(value: Any) -> list[dict[str, Any]]:
    """neutron-lib's ``validate_fixed_ips`` (``None`` is no request)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise b.invalid(GW, f"Invalid data format for fixed IP: '{value}'")
    seen: list[Any] = []
    for item in value:
        if not isinstance(item, dict):
            raise b.invalid(GW, f"Invalid data format for fixed IP: '{item}'")
        if "ip_address" in item:
            address = item["ip_address"]
            reason = (f"Duplicate IP address '{address}'" if address in seen
                      else address_reason(address))
            if reason:
                raise b.invalid(GW, reason)
            seen.append(address)
        if "subnet_id" in item and not b.is_uuid(item["subnet_id"]):
            raise b.invalid(GW, f"'{item['subnet_id']}' is not a valid UUID")
    return [dict(item) for item in value]


def interface_info(body: Any, *, removal: bool) -> dict[str, Any]:
    """The body of ``add_router_interface`` / ``remove_router_interface``."""
    info = body if isinstance(body, Mapping) else {}
    if "port_id" not in info and "subnet_id" not in info:
        raise bad_resource_request("router", "Either subnet_id or port_id must be specified")
    for key in ("port_id", "subnet_id"):
        if key in info and not b.is_uuid(info[key]):
            raise bad_resource_request("router", f"'{info[key]}' is not a valid UUID")
    if not removal and "port_id" in info and "subnet_id" in info:
        raise bad_resource_request("router", "Cannot specify both subnet-id and port-id")
    return {k: info[k] for k in ("port_id", "subnet_id") if k in info}


def routes_body(body: Any) -> list[extraroutes.Route]:
    """The body of ``add_extraroutes`` / ``remove_extraroutes``: ``{"router":
    {"routes": [...]}}``."""
    router = body.get("router") if isinstance(body, dict) else None
    if not isinstance(router, dict) or "routes" not in router:
        raise BadRequest("Resource body required: 'router' with 'routes' is missing",
                         type="HTTPBadRequest")
    b.only(router, ("routes",))
    return extraroutes.parse_routes(router["routes"])
