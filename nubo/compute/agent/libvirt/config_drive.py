"""The config drive: what the metadata service would say (``nubo.compute.metadata``), on an ISO labelled
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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nubo.compute.agent.libvirt import disks
from nubo.compute.metadata import VERSIONS, meta_data, network_data


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
