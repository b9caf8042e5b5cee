"""The metadata service's answers, as Nova's metadata API gives them to a guest:
the OpenStack layout (``/openstack``: the version list, then per dated version and
``latest`` ``meta_data.json``, ``user_data``, ``password``, ``network_data.json``,
``vendor_data.json``, ``vendor_data2.json`` — also the documents of the libvirt
driver's config drive, ``agent/libvirt/config_drive.py``) and the EC2 layout (``/``: its versions, then
``/<version>/meta-data/…`` and ``/<version>/user-data``).

Pure: an instance record (``servers.get_instance`` with extras) and a path in,
a ``Reply`` out. Networking's metadata proxy finds the instance; compute answers.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nubo.compute.network_info import ip_version

# the OpenStack metadata versions Nova's config drive carries (cloud-init asks for
# 2013-10-17 or later)
VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
            "2016-10-06", "2017-02-22", "2018-08-27", "latest")


def meta_data(instance: Mapping[str, Any], random_seed: bytes = b"") -> dict[str, Any]:
    keys = []
    if instance.get("key_data"):
        keys = [{"name": instance.get("key_name") or "key", "type": "ssh",
                 "data": instance["key_data"]}]
    data: dict[str, Any] = {
        "uuid": instance["uuid"], "name": instance.get("display_name") or "",
        "hostname": instance.get("hostname") or "",
        "launch_index": int(instance.get("launch_index") or 0),
        "availability_zone": instance.get("availability_zone") or "nova",
        "project_id": instance.get("project_id") or "",
        "meta": dict(instance.get("metadata") or {}),
        "public_keys": {k["name"]: k["data"] for k in keys}, "keys": keys,
        "devices": [],
    }
    if random_seed:
        data["random_seed"] = base64.b64encode(random_seed).decode()
    return data


def network_data(network_info: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Links (one per port) and DHCP-configured networks, as Nova's network_data.json."""
    links: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    for vif in network_info:
        net = vif.get("network") or {}
        link = str(vif.get("devname") or f"tap{str(vif['id'])[:11]}")
        links.append({"id": link, "vif_id": vif["id"], "type": "bridge",
                      "ethernet_mac_address": vif.get("address"), "mtu": net.get("mtu")})
        versions = sorted({ip_version(ip["address"]) for ip in vif.get("fixed_ips") or []})
        for version in versions:
            networks.append({"id": f"network{len(networks)}", "link": link,
                             "type": f"ipv{version}_dhcp", "network_id": net.get("id")})
    return {"links": links, "networks": networks, "services": []}


EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
                "2008-02-01", "2008-09-01", "2009-04-04", "latest")
JSON, TEXT = "application/json", "text/plain; charset=UTF-8"
Tree = Mapping[str, Any]


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


NOT_FOUND = Reply(404, TEXT, b"Not Found")


def _text(body: str | bytes) -> Reply:
    return Reply(200, TEXT, body.encode() if isinstance(body, str) else body)


def user_data(instance: Mapping[str, Any]) -> bytes | None:
    raw = instance.get("user_data")
    return base64.b64decode(raw) if raw else None


# The password a guest posts (encrypted with the instance's key, base64: what
# cloud-init or cloudbase-init sends), kept as Nova keeps it: in system metadata, in
# four pieces of up to 255 characters
PASSWORD_KEYS = tuple(f"password_{i}" for i in range(4))
PASSWORD_PIECE = 255
MAX_PASSWORD = PASSWORD_PIECE * len(PASSWORD_KEYS)


def password_of(system_metadata: Mapping[str, Any]) -> str:
    return "".join(system_metadata.get(key) or "" for key in PASSWORD_KEYS)


def password_pieces(password: str) -> dict[str, str]:
    """``password_0`` … ``password_3`` for ``password`` (all empty: no password)."""
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"a password has at most {MAX_PASSWORD} characters")
    return {key: password[i * PASSWORD_PIECE:(i + 1) * PASSWORD_PIECE]
            for i, key in enumerate(PASSWORD_KEYS)}


def password_post(path: str) -> bool:
    """Whether ``POST <path>`` is a guest setting its password
    (``/openstack/<version>/password``, the only path that takes a POST)."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    return (len(parts) == 3 and parts[0] == "openstack" and parts[1] in VERSIONS
            and parts[2] == "password")


def answer(instance: Mapping[str, Any], path: str, random_seed: bytes = b"") -> Reply:
    """The answer to ``GET <path>`` from the instance."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if not parts:
        return _text("\n".join(EC2_VERSIONS))
    if parts[0] == "openstack":
        return _openstack(instance, parts[1:], random_seed)
    return _ec2(instance, parts)


# ------------------------------------------------------------------- OpenStack

def _openstack_files(instance: Mapping[str, Any], version: str) -> list[str]:
    files = ["meta_data.json", "password", "vendor_data.json"]
    if user_data(instance) is not None:
        files.append("user_data")
    if version >= "2015-10-15":
        files.append("network_data.json")
    if version >= "2016-10-06":
        files.append("vendor_data2.json")
    return sorted(files)


def _openstack(instance: Mapping[str, Any], parts: list[str], random_seed: bytes) -> Reply:
    if not parts:
        return _text("\n".join(VERSIONS))
    version = parts[0]
    if version not in VERSIONS or len(parts) > 2:
        return NOT_FOUND
    files = _openstack_files(instance, version)
    if len(parts) == 1:
        return _text("\n".join(files))
    name = parts[1]
    if name not in files:
        return NOT_FOUND
    if name == "meta_data.json":
        return Reply(200, JSON, json.dumps(meta_data(instance, random_seed)).encode())
    if name == "network_data.json":
        return Reply(200, JSON, json.dumps(
            network_data(instance.get("network_info") or [])).encode())
    if name == "user_data":
        return _text(user_data(instance) or b"")
    if name == "password":
        return _text(password_of(instance.get("system_metadata") or {}))
    return Reply(200, JSON, b"{}")


# -------------------------------------------------------------------------- EC2

def _addresses(instance: Mapping[str, Any]) -> tuple[str, str]:
    """The first fixed IPv4 address and the first floating one."""
    fixed = floating = ""
    for vif in instance.get("network_info") or []:
        for ip in vif.get("fixed_ips") or []:
            if ipaddress.ip_address(ip["address"]).version == 4:
                fixed = fixed or ip["address"]
                floating = floating or next(iter(ip.get("floating_ips") or []), "")
    return fixed, floating


def ec2_meta_data(instance: Mapping[str, Any]) -> dict[str, Any]:
    fixed, floating = _addresses(instance)
    hostname = instance.get("hostname") or ""
    tree: dict[str, Any] = {
        "ami-id": f"ami-{zlib.crc32(str(instance.get('image_ref') or '').encode()):08x}",
        "ami-launch-index": str(instance.get("launch_index") or 0),
        "ami-manifest-path": "FIXME",
        "block-device-mapping": {"ami": "vda", "root": "/dev/vda"},
        "hostname": hostname, "local-hostname": hostname, "public-hostname": hostname,
        "instance-action": "none",
        "instance-id": f"i-{int(instance.get('id') or 0):08x}",
        "instance-type": str((instance.get("flavor") or {}).get("name") or ""),
        "local-ipv4": fixed, "public-ipv4": floating,
        "placement": {"availability-zone": instance.get("availability_zone") or "nova"},
        "reservation-id": str(instance.get("reservation_id") or ""),
        "security-groups": "\n".join((instance.get("extra") or {}).get("security_groups")
                                     or ["default"]),
    }
    if instance.get("key_data"):
        tree["public-keys"] = {"0": {"openssh-key": instance["key_data"]}}
    return tree


def _listing(tree: Tree, key_names: Mapping[str, str] | None = None) -> str:
    out = []
    for key, value in tree.items():
        if key_names is not None:
            out.append(f"{key}={key_names.get(key, '')}")
        else:
            out.append(f"{key}/" if isinstance(value, Mapping) else key)
    return "\n".join(out)


def _ec2(instance: Mapping[str, Any], parts: list[str]) -> Reply:
    if parts[0] not in EC2_VERSIONS:
        return NOT_FOUND
    data = user_data(instance)
    if len(parts) == 1:
        return _text("\n".join(["meta-data/", *(["user-data"] if data is not None else [])]))
    if parts[1] == "user-data" and len(parts) == 2:
        return _text(data) if data is not None else NOT_FOUND
    if parts[1] != "meta-data":
        return NOT_FOUND
    node: Any = ec2_meta_data(instance)
    for i, part in enumerate(parts[2:]):
        if not isinstance(node, Mapping) or part not in node:
            return NOT_FOUND
        if part == "public-keys" and i == len(parts) - 3:
            return _text(_listing(node[part], {"0": str(instance.get("key_name") or "")}))
        node = node[part]
    return _text(_listing(node) if isinstance(node, Mapping) else str(node))
