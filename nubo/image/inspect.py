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


# what one qemu-img run may use, as Nova and Glance limit it (a crafted image must not
# exhaust the host): address space, CPU seconds, and wall-clock seconds
QEMU_IMG_MEMORY = 1024 * 1024 * 1024
QEMU_IMG_CPU_S = 30
QEMU_IMG_TIMEOUT_S = 60


# util-linux's prlimit sets the limits in the child (a preexec_fn is not safe in a
# process with threads)
LIMITED = ("prlimit", f"--as={QEMU_IMG_MEMORY}", f"--cpu={QEMU_IMG_CPU_S}", "--")


async def qemu_img_info(path: Path) -> dict[str, Any]:
    """``qemu-img info --output=json`` of a file; BadRequest when qemu-img cannot read it."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *LIMITED, "qemu-img", "info", "--output=json", "--", str(path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError as e:
        raise RuntimeError("prlimit (util-linux) is not installed") from e
    try:
        out, err = await asyncio.wait_for(proc.communicate(), QEMU_IMG_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise InspectionFailed("Image data could not be inspected in time.") from None
    if proc.returncode != 0:
        reason = err.decode(errors="replace").strip().splitlines()[-1:] or ["unreadable"]
        raise InspectionFailed(f"Image data could not be inspected: {reason[0]}")
    info = json.loads(out)
    if not isinstance(info, dict):
        raise InspectionFailed("Image data could not be inspected.")
    return info


async def inspect(path: Path, disk_format: str) -> Inspection:
    return check(disk_format, await qemu_img_info(path))
