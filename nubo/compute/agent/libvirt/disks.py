"""Guest disk files: qcow2 overlays over cached base images, grown to the flavor's
root disk, converted for snapshots, rebased after a move; config drive ISOs.

Every tool runs as a subprocess (``qemu-img``, ``genisoimage`` or ``xorriso``);
a failure is a ``DriverError`` carrying the tool's last words.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from nubo.compute.agent.driver import DriverError

GIB = 1024 ** 3


async def run(*argv: str, limit_s: float = 600.0) -> str:
    """Run a tool; its stdout, or DriverError with its stderr."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError:
        raise DriverError(f"{argv[0]} is not installed") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise DriverError(f"{argv[0]} {argv[1] if len(argv) > 1 else ''} took longer "
                          f"than {limit_s:.0f}s") from None
    if proc.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise DriverError(f"{Path(argv[0]).name} {argv[1] if len(argv) > 1 else ''}: "
                          f"{last[0]}")
    return out.decode(errors="replace")


async def info(path: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(await run("qemu-img", "info", "-U", "--output=json",
                                                 "--", str(path)))
    return found


def root_size(flavor_disk_gb: int, image_virtual_size: int) -> int | None:
    """The overlay's size in bytes: the flavor's root disk when it is larger than the
    image (a flavor of disk 0 keeps the image's size: None)."""
    wanted = int(flavor_disk_gb) * GIB
    return wanted if wanted > image_virtual_size else None


async def create_overlay(base: Path, base_format: str, path: Path,
                         size: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", base_format,
            str(path)]
    if size is not None:
        argv.append(str(size))
    await run(*argv)


async def grow(path: Path, size: int) -> None:
    """Make the disk ``size`` bytes unless it is already as large (never shrinks)."""
    if int((await info(path)).get("virtual-size") or 0) < size:
        await run("qemu-img", "resize", "-q", str(path), str(size))


async def rebase(path: Path, base: Path, base_format: str) -> None:
    """Point an overlay at ``base`` (the same image data cached at another place)."""
    await run("qemu-img", "rebase", "-u", "-q", "-b", str(base), "-F", base_format,
              str(path))


async def convert(src: Path, dst: Path, fmt: str = "qcow2") -> None:
    """A standalone copy of ``src`` and its backing chain (snapshots, shelve)."""
    await run("qemu-img", "convert", "-U", "-O", fmt, str(src), str(dst))


# ---------------------------------------------------------------- config drive


def iso_tool() -> list[str]:
    """genisoimage, else xorriso in its genisoimage mode."""
    if shutil.which("genisoimage"):
        return ["genisoimage"]
    if shutil.which("xorriso"):
        return ["xorriso", "-as", "genisoimage"]
    raise DriverError("a config drive needs genisoimage or xorriso "
                      "(apt-get install genisoimage)")


async def make_iso(tree: Path, out: Path, label: str = "config-2") -> None:
    """An ISO 9660 image (Joliet, Rock Ridge) of ``tree``, volume ``label``."""
    await run(*iso_tool(), "-o", str(out), "-ldots", "-allow-lowercase",
              "-allow-multidot", "-l", "-publisher", "nubo", "-quiet", "-J", "-r",
              "-V", label, str(tree))
