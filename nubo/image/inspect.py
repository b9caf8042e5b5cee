"""Format inspection: what ``qemu-img info`` says an image's data really is.

Glance refuses data whose detected format differs from the declared
``disk_format`` and qcow2 images that point at other files (a backing file or an
external data file), because a hypervisor opening them would read the host's
files. The decision (``check``) is a pure function of qemu-img's report.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nubo.core.errors import BadRequest

# declared disk_format -> formats qemu-img may report for it
ACCEPTED: dict[str, frozenset[str]] = {
    "raw": frozenset({"raw"}),
    "qcow2": frozenset({"qcow2"}),
    "vmdk": frozenset({"vmdk"}),
    "vdi": frozenset({"vdi"}),
    "vhd": frozenset({"vpc"}),
    "vhdx": frozenset({"vhdx"}),
    "ploop": frozenset({"parallels"}),
    # qemu-img has no probe for these: they read as raw bytes
    "iso": frozenset({"raw"}),
    "ami": frozenset({"raw"}),
    "ari": frozenset({"raw"}),
    "aki": frozenset({"raw"}),
}


@dataclass(frozen=True)
class Inspection:
    format: str
    virtual_size: int | None


class InspectionFailed(BadRequest):
    """The data is not what the image says it is."""


def check(disk_format: str, info: dict[str, Any]) -> Inspection:
    """Accept qemu-img's ``info`` for an image declared ``disk_format``, or raise."""
    detected = str(info.get("format", ""))
    accepted = ACCEPTED.get(disk_format, frozenset({disk_format}))
    if detected not in accepted:
        raise InspectionFailed(
            f"Image content does not match disk_format {disk_format!r}: "
            f"the data is {detected or 'unrecognised'}.")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise InspectionFailed("Image has a backing file, which is not allowed.")
    specific = (info.get("format-specific") or {}).get("data") or {}
    if detected == "qcow2" and specific.get("data-file"):
        raise InspectionFailed("Image uses an external data file, which is not allowed.")
    size = info.get("virtual-size")
    return Inspection(detected, int(size) if isinstance(size, int) else None)


async def qemu_img_info(path: Path) -> dict[str, Any]:
    """``qemu-img info --output=json`` of a file; BadRequest when qemu-img cannot read it."""
    try:
        proc = await asyncio.create_subprocess_exec(
            "qemu-img", "info", "--output=json", "--", str(path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError as e:
        raise RuntimeError("qemu-img is not installed (apt-get install qemu-utils)") from e
    out, err = await proc.communicate()
    if proc.returncode != 0:
        reason = err.decode(errors="replace").strip().splitlines()[-1:] or ["unreadable"]
        raise InspectionFailed(f"Image data could not be inspected: {reason[0]}")
    info = json.loads(out)
    if not isinstance(info, dict):
        raise InspectionFailed("Image data could not be inspected.")
    return info


async def inspect(path: Path, disk_format: str) -> Inspection:
    return check(disk_format, await qemu_img_info(path))
