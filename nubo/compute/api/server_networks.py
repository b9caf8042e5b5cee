"""The ``networks`` and ``security_groups`` of a ``POST /servers`` body, checked with
Nova's schema rules and messages.

``networks`` becomes ``"none"``, ``"auto"``, ``None`` (not given, or an empty list:
the project's only network, if it has exactly one) or a list of requests
``{"uuid", "port", "fixed_ip", "tag"}`` (absent keys as None).
"""

from __future__ import annotations

import ipaddress
import uuid as uuidlib
from typing import Any

from nubo.compute.api import validation as v
from nubo.core.api.routing import ApiRequest
from nubo.core.errors import BadRequest

NetworkRequest = dict[str, Any]


def _is_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _tags_allowed(req: ApiRequest) -> bool:
    """Device tags on networks: 2.32 only, then again from 2.42 (Nova's history)."""
    return req.at_least("2.42") or (req.at_least("2.32") and not req.at_least("2.33"))


def parse_networks(req: ApiRequest, value: Any) -> str | list[NetworkRequest] | None:
    if value is None:
        if req.at_least("2.37"):
            raise BadRequest("Invalid input for field/attribute networks. 'networks' is a "
                             "required property")
        return None
    if isinstance(value, str):
        if value not in ("none", "auto") or not req.at_least("2.37"):
            raise v.invalid("networks", value, f"{value!r} is not one of ['none', 'auto']")
        return value
    if not isinstance(value, list):
        raise v.invalid("networks", value, f"{value!r} is not of type 'array'")
    out = [_request(req, item) for item in value]
    _check_repeats(out)
    return out or None


def _request(req: ApiRequest, item: Any) -> NetworkRequest:
    if not isinstance(item, dict):
        raise v.invalid("networks", item, f"{item!r} is not of type 'object'")
    allowed = {"uuid", "port", "fixed_ip"} | ({"tag"} if _tags_allowed(req) else set())
    v.only(item, allowed, "networks")
    fixed_ip = item.get("fixed_ip")
    if fixed_ip is not None:
        try:
            fixed_ip = str(ipaddress.ip_address(str(fixed_ip)))
        except ValueError:
            raise v.invalid("fixed_ip", fixed_ip, f"{fixed_ip!r} is not a 'ip-address'"
                            ) from None
    port = item.get("port")
    if port is not None and not _is_uuid(port):
        raise v.invalid("port", port, f"{port!r} is not a 'uuid'")
    tag = item.get("tag")
    if tag is not None:
        tag = v.string("tag", tag, max_length=60)
        if tag is not None and ("," in tag or "/" in tag):
            raise v.invalid("tag", tag, f"{tag!r} does not match '^[^,/]*$'")
    if port:
        if fixed_ip is not None:
            raise BadRequest(f"Specified Fixed IP '{fixed_ip}' cannot be used with port "
                             f"'{port}': the two cannot be specified together.")
        # a port brings its own network: a uuid beside it is ignored, as in Nova
        return {"uuid": None, "port": port, "fixed_ip": None, "tag": tag}
    if "uuid" not in item:
        raise BadRequest("Bad network format: missing 'uuid'")
    net = item["uuid"]
    if not isinstance(net, str):
        raise v.invalid("uuid", net, f"{net!r} is not of type 'string'")
    if not _is_uuid(net):
        raise BadRequest(f"Bad networks format: network uuid is not in proper format "
                         f"({net})")
    return {"uuid": net, "port": None, "fixed_ip": fixed_ip, "tag": tag}


def _check_repeats(requests: list[NetworkRequest]) -> None:
    seen: set[str] = set()
    for request in requests:
        port = request["port"]
        if port is None:
            continue
        if port in seen:
            raise BadRequest(f"Port ID '{port}' was specified twice: you cannot attach a "
                             "port multiple times.")
        seen.add(port)


def check_count(networks: Any, max_count: int) -> None:
    """A port or a fixed IP is for one server only (Nova checks it when
    ``max_count`` > 1)."""
    if max_count <= 1 or not isinstance(networks, list):
        return
    if any(r["port"] for r in networks):
        raise BadRequest("Failed to launch instances: Unable to launch multiple instances "
                         "with a single configured port ID. Please launch your instance "
                         "one by one with different ports.")
    if any(r["fixed_ip"] for r in networks):
        raise BadRequest("Failed to launch instances: max_count cannot be greater than 1 "
                         "if an fixed_ip is specified.")


def parse_security_groups(value: Any) -> list[str]:
    """Names or ids of the groups the server's new ports get (``default`` if none)."""
    if value is None:
        return ["default"]
    if not isinstance(value, list):
        raise v.invalid("security_groups", value, f"{value!r} is not of type 'array'")
    names: list[str] = []
    for item in value:
        if not isinstance(item, dict):
            raise v.invalid("security_groups", item, f"{item!r} is not of type 'object'")
        v.only(item, {"name"}, "security_groups")
        name = v.string("security_groups/name", item.get("name"), max_length=255)
        assert name is not None
        if name not in names:
            names.append(name)
    return names or ["default"]
