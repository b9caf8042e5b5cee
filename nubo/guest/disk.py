"""A bootable disk with the same guest: for hypervisors (or images) that boot
from the disk rather than from a kernel and ramdisk given to QEMU.

Layout: an MBR (syslinux's boot code and one bootable partition from 1 MiB) and
a FAT filesystem holding the bzImage, the initramfs and syslinux, which loads
them with the same kernel command line. No loop device, mount or root is needed:
mkfs.vfat, mtools and syslinux's mtools installer work on image files.
"""

from __future__ import annotations

import os
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

SECTOR = 512
PARTITION_START = 2048               # sectors: 1 MiB, as partitioning tools align
DISK_SIZE = 64 * 1024 * 1024         # the virtual size; the flavor's root disk grows it
FAT16_LBA = 0x0E
MBR_CODE_SIZE = 440
SYSLINUX_MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")
# Debian packages of the tools used here
TOOLS = {"mkfs.vfat": "dosfstools", "mcopy": "mtools", "syslinux": "syslinux",
         "qemu-img": "qemu-utils"}


class DiskError(RuntimeError):
    """The disk image could not be made."""


@dataclass(frozen=True)
class BootFiles:
    kernel: Path       # a bzImage
    initrd: Path
    command_line: str


def syslinux_cfg(command_line: str) -> str:
    return ("DEFAULT nubo\nPROMPT 0\nTIMEOUT 0\nLABEL nubo\n  LINUX /vmlinuz\n"
            f"  INITRD /initrd.img\n  APPEND {command_line}\n")


def mbr(boot_code: bytes, start: int, sectors: int, kind: int = FAT16_LBA) -> bytes:
    """A master boot record: boot code, one active partition, the signature. CHS
    fields say "use LBA" (0xFE 0xFF 0xFF), as for any partition beyond 8 GiB."""
    if len(boot_code) > MBR_CODE_SIZE:
        raise DiskError(f"MBR boot code is {len(boot_code)} bytes; at most 440 fit")
    chs = b"\xfe\xff\xff"
    entry = b"\x80" + chs + bytes([kind]) + chs + struct.pack("<II", start, sectors)
    table = entry + b"\0" * 48
    return boot_code.ljust(MBR_CODE_SIZE, b"\0") + b"\0" * 6 + table + b"\x55\xaa"


def missing_tools() -> dict[str, str]:
    """The tools this module runs that are not installed, with their packages."""
    from shutil import which

    return {tool: pkg for tool, pkg in TOOLS.items() if which(tool) is None} | (
        {} if SYSLINUX_MBR.exists() else {str(SYSLINUX_MBR): "syslinux-common"})


def _run(*cmd: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise DiskError(f"{' '.join(cmd)} failed: {(done.stderr or done.stdout).strip()}")


def _filesystem(path: Path, boot: BootFiles, sectors: int) -> None:
    """The FAT partition's contents, made in a file of its own."""
    path.unlink(missing_ok=True)
    _run("mkfs.vfat", "-C", "--invariant", "-n", "NUBOGUEST", "-h", str(PARTITION_START),
         str(path), str(sectors * SECTOR // 1024))
    cfg = path.with_name("syslinux.cfg")
    cfg.write_text(syslinux_cfg(boot.command_line))
    mtools = {"MTOOLS_SKIP_CHECK": "1"}
    _run("mcopy", "-i", str(path), str(boot.kernel), "::/vmlinuz", env=mtools)
    _run("mcopy", "-i", str(path), str(boot.initrd), "::/initrd.img", env=mtools)
    _run("mcopy", "-i", str(path), str(cfg), "::/syslinux.cfg", env=mtools)
    _run("syslinux", "--install", str(path), env=mtools)


def make_disk(out: Path, boot: BootFiles, work: Path) -> None:
    """``out``: a compressed qcow2 disk that boots ``boot`` through syslinux."""
    missing = missing_tools()
    if missing:
        raise DiskError("install " + " ".join(sorted(set(missing.values()))) +
                        " to build the guest's disk")
    sectors = DISK_SIZE // SECTOR - PARTITION_START
    fat = work / "boot.fat"
    _filesystem(fat, boot, sectors)
    raw = work / "disk.raw"
    with raw.open("wb") as f:
        f.write(mbr(SYSLINUX_MBR.read_bytes(), PARTITION_START, sectors))
        f.truncate(DISK_SIZE)
        f.seek(PARTITION_START * SECTOR)
        with fat.open("rb") as src:
            while chunk := src.read(1 << 20):
                f.write(chunk)
    out.unlink(missing_ok=True)
    _run("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", str(raw), str(out))
    raw.unlink()
    fat.unlink()
