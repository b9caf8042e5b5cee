"""The config drive: what the metadata service would say, on an ISO labelled
``config-2`` attached as a CD-ROM (Nova's layout, which cloud-init and the nubo
guest read when there is no network).

``tree`` is pure (paths → bytes); ``build`` writes it and makes the ISO.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nubo.compute.agent.libvirt import disks
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


def tree(instance: Mapping[str, Any], random_seed: bytes = b"") -> dict[str, bytes]:
    """Relative path -> content of every file on the drive."""
    files: dict[str, bytes] = {}
    meta = json.dumps(meta_data(instance, random_seed)).encode()
    net = json.dumps(network_data(instance.get("network_info") or [])).encode()
    user_data = instance.get("user_data")
    for version in VERSIONS:
        files[f"openstack/{version}/meta_data.json"] = meta
        files[f"openstack/{version}/vendor_data.json"] = b"{}"
        files[f"openstack/{version}/vendor_data2.json"] = b"{}"
        if version >= "2015-10-15":
            files[f"openstack/{version}/network_data.json"] = net
        if user_data:
            files[f"openstack/{version}/user_data"] = base64.b64decode(user_data)
    return files


def _write(files: Mapping[str, bytes], root: Path) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


async def build(instance: Mapping[str, Any], out: Path) -> None:
    """Write the instance's config drive ISO to ``out``."""
    files = tree(instance, os.urandom(512))
    tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="nubo-configdrive-"))
    try:
        await asyncio.to_thread(_write, files, tmp)
        await asyncio.to_thread(out.parent.mkdir, parents=True, exist_ok=True)
        await disks.make_iso(tmp, out)
    finally:
        await asyncio.to_thread(shutil.rmtree, tmp, True)
