"""Parsing and checking a ``POST /servers`` body into a ``BuildRequest``, with
Nova's messages and microversion rules."""

from __future__ import annotations

import base64
import binascii
import re
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from nubo.compute.api import server_networks
from nubo.compute.api import validation as v
from nubo.compute.service.servers import BuildRequest
from nubo.core.api.routing import ApiRequest
from nubo.core.errors import BadRequest, Forbidden

ALLOWED = {
    "name", "imageRef", "flavorRef", "min_count", "max_count", "key_name", "metadata",
    "user_data", "availability_zone", "networks", "accessIPv4", "accessIPv6",
    "config_drive", "block_device_mapping_v2", "block_device_mapping", "adminPass",
    "security_groups", "OS-DCF:diskConfig", "return_reservation_id", "description",
    "tags", "hostname", "trusted_image_certificates", "host", "hypervisor_hostname",
    "personality",
}
HOSTNAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
TAG = re.compile(r"^[^,/]{1,60}$")


def _is_uuid(value: str) -> bool:
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return True


def _ref(value: str) -> str:
    """An id from an id or a link (``.../flavors/42``)."""
    return value.rstrip("/").rsplit("/", 1)[-1]


def parse(req: ApiRequest, body: Mapping[str, Any], hints: Any) -> BuildRequest:
    v.only(body, ALLOWED, "server")
    if "personality" in body and req.at_least("2.57"):
        v.only({"personality": 1}, (), "server")
    if not req.at_least("2.19") and "description" in body:
        v.only({"description": 1}, (), "server")
    for field, version in (("tags", "2.52"), ("hostname", "2.90"),
                           ("trusted_image_certificates", "2.63"), ("host", "2.74"),
                           ("hypervisor_hostname", "2.74")):
        if field in body and not req.at_least(version):
            v.only({field: 1}, (), "server")
    name = v.string("name", body.get("name"), max_length=255)
    assert name is not None
    flavor_ref = body.get("flavorRef")
    if not isinstance(flavor_ref, (str, int)) or isinstance(flavor_ref, bool) or not str(
            flavor_ref).strip():
        raise v.invalid("flavorRef", flavor_ref, "flavorRef is required and must be a "
                        "string or an integer")
    build = BuildRequest(name=name, flavor_ref=_ref(str(flavor_ref)))
    _image(build, body)
    _counts(build, body)
    build.key_name = v.string("key_name", body.get("key_name"), nullable=True)
    build.metadata = _metadata(body.get("metadata", {}))
    build.user_data = _user_data(body.get("user_data"))
    _zone(req, build, body)
    build.hints = _hints(hints)
    build.networks = server_networks.parse_networks(req, body.get("networks"))
    server_networks.check_count(build.networks, build.max_count)
    build.access_ip_v4 = _ip(body.get("accessIPv4"), "accessIPv4", 4)
    build.access_ip_v6 = _ip(body.get("accessIPv6"), "accessIPv6", 6)
    build.config_drive = _config_drive(body.get("config_drive"))
    build.admin_pass = v.string("adminPass", body.get("adminPass"), min_length=0,
                                name_chars=False, nullable=True)
    build.security_groups = server_networks.parse_security_groups(
        body.get("security_groups"))
    build.disk_config = _disk_config(body.get("OS-DCF:diskConfig", "MANUAL"))
    if "description" in body:
        build.description = v.string("description", body["description"], min_length=0,
                                     nullable=True)
    build.tags = _tags(body.get("tags", []))
    if "hostname" in body:
        build.hostname = _hostname(body["hostname"])
    if "trusted_image_certificates" in body:
        build.trusted_certs = _certs(req, body["trusted_image_certificates"])
    if not build.image_ref and not build.block_devices:
        raise BadRequest("Missing imageRef attribute")
    return build


def _image(build: BuildRequest, body: Mapping[str, Any]) -> None:
    image = body.get("imageRef")
    if image is not None and not isinstance(image, str):
        raise v.invalid("imageRef", image, f"{image!r} is not of type 'string'")
    bdms = body.get("block_device_mapping_v2") or []
    if not isinstance(bdms, list):
        raise v.invalid("block_device_mapping_v2", bdms, "must be a list")
    for bdm in bdms:
        if not isinstance(bdm, dict):
            raise v.invalid("block_device_mapping_v2", bdm, "must be an object")
        if bdm.get("source_type") not in ("image", "blank"):
            raise BadRequest("Block device mapping sources other than images are not "
                             "available yet (block storage is not part of this cloud yet).")
        if bdm.get("destination_type", "local") == "volume":
            raise BadRequest("Block device mapping to volumes is not available yet "
                             "(block storage is not part of this cloud yet).")
    build.block_devices = [dict(b) for b in bdms]
    if image:
        ref = _ref(image)
        if not _is_uuid(ref):
            raise BadRequest("Invalid imageRef provided.")
        build.image_ref = ref
    elif bdms:
        boot = next((b for b in bdms if b.get("boot_index") in (0, "0")), None)
        if boot is not None and boot.get("source_type") == "image" and boot.get("uuid"):
            build.image_ref = str(boot["uuid"])


def _counts(build: BuildRequest, body: Mapping[str, Any]) -> None:
    lo = v.integer("min_count", body.get("min_count", 1), minimum=1)
    hi = v.integer("max_count", body.get("max_count", lo), minimum=1)
    if "max_count" not in body:
        hi = lo
    if lo > hi:
        raise BadRequest("min_count must be <= max_count")
    build.min_count, build.max_count = lo, hi


def _metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise v.invalid("metadata", value, f"{value!r} is not of type 'object'")
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise v.invalid("metadata", key, "metadata keys must be 1 to 255 characters")
        if not isinstance(item, str):
            raise v.invalid(f"metadata/{key}", item, f"{item!r} is not of type 'string'")
        if len(item) > 255:
            raise v.invalid(f"metadata/{key}", item, f"{item!r} is too long")
        out[key] = item
    return out


def _user_data(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise v.invalid("user_data", value, f"{value!r} is not of type 'string'")
    if len(value) > 65535:
        raise v.invalid("user_data", "...", "user_data is longer than 65535 characters")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("User data needs to be valid base 64.") from None
    return value


def _zone(req: ApiRequest, build: BuildRequest, body: Mapping[str, Any]) -> None:
    raw = body.get("availability_zone")
    if raw is not None:
        zone = v.string("availability_zone", raw, max_length=255)
        assert zone is not None
        name, _, rest = zone.partition(":")
        host, _, node = rest.partition(":")
        if host or node:
            req.authorize("os_compute_api:servers:create:forced_host",
                          {"project_id": req.ctx.project_id})
        build.availability_zone = name or None
        build.force_host = host or None
        build.force_node = node or None
    for field in ("host", "hypervisor_hostname"):
        if field in body:
            req.authorize("compute:servers:create:requested_destination",
                          {"project_id": req.ctx.project_id})
            value = v.string(field, body[field], max_length=255)
            if field == "host":
                build.force_host = value
            else:
                build.force_node = value


def _hints(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise v.invalid("os:scheduler_hints", value, f"{value!r} is not of type 'object'")
    group = value.get("group")
    if group is not None and (not isinstance(group, str) or not _is_uuid(group)):
        raise v.invalid("os:scheduler_hints/group", group, f"{group!r} is not a 'uuid'")
    for key in ("same_host", "different_host"):
        items = value.get(key)
        uuids = [items] if isinstance(items, str) else items or []
        if not isinstance(uuids, list) or not all(isinstance(u, str) and _is_uuid(u)
                                                  for u in uuids):
            raise v.invalid(f"os:scheduler_hints/{key}", items, "must be server uuids")
    return dict(value)


def _ip(value: Any, field: str, version: int) -> str | None:
    if value is None or value == "":
        return None
    import ipaddress

    try:
        addr = ipaddress.ip_address(str(value))
    except ValueError:
        raise v.invalid(field, value, f"{value!r} is not a 'ipv{version}'") from None
    if addr.version != version:
        raise v.invalid(field, value, f"{value!r} is not a 'ipv{version}'")
    return str(addr)


def _config_drive(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "True" if value else None
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return "True" if value.lower() in ("true", "1", "yes") else None
    raise v.invalid("config_drive", value, f"{value!r} is not of type 'boolean'")


def _disk_config(value: Any) -> str:
    if value not in ("AUTO", "MANUAL"):
        raise v.invalid("OS-DCF:diskConfig", value, f"{value!r} is not one of "
                        "['AUTO', 'MANUAL']")
    return str(value)


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise v.invalid("tags", value, f"{value!r} is not of type 'array'")
    if len(value) > 50:
        raise v.invalid("tags", value, "is too long (at most 50 tags)")
    for tag in value:
        if not isinstance(tag, str) or not TAG.match(tag):
            raise v.invalid("tags", tag, "tags are 1 to 60 characters without ',' or '/'")
    return list(value)


def _hostname(value: Any) -> str:
    if not isinstance(value, str) or not HOSTNAME.match(value.split(".")[0]) or len(
            value) > 255:
        raise v.invalid("hostname", value, f"{value!r} is not a valid hostname")
    return value


def _certs(req: ApiRequest, value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(
            isinstance(c, str) and c for c in value):
        raise v.invalid("trusted_image_certificates", value, "must be a non-empty list "
                        "of certificate ids")
    if len(set(value)) != len(value):
        raise v.invalid("trusted_image_certificates", value, "has non-unique elements")
    return list(value)


def return_reservation_id(body: Mapping[str, Any]) -> bool:
    if "return_reservation_id" not in body:
        return False
    return v.boolean("return_reservation_id", body["return_reservation_id"])


def check_quota_free_fields(metadata: Mapping[str, str], limit: int) -> None:
    if len(metadata) > limit:
        raise Forbidden("Quota exceeded for metadata_items: Requested "
                        f"{len(metadata)}, but already used 0 of {limit} metadata_items")
