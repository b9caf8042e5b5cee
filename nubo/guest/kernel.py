"""The guest kernel in the form that boots fastest under TCG.

A bzImage starts in real mode under SeaBIOS and decompresses itself, both slow
when every instruction is emulated. The ELF kernel inside it can be started by
QEMU directly through the PVH entry point (``-kernel vmlinux``), which skips both:
about half the time to userspace on these machines (see the data-plane research).
The Debian kernel is built with ``CONFIG_PVH``; its payload is xz-compressed.
"""

from __future__ import annotations

import lzma

from nubo.guest import elf

XZ_MAGIC = b"\xfd7zXZ\x00"
# the note QEMU looks for to boot an ELF kernel through PVH
XEN_ELFNOTE_PHYS32_ENTRY = 18


class NoPvhKernel(ValueError):
    """The bzImage holds no xz-compressed ELF kernel with a PVH entry point."""


def pvh_vmlinux(bzimage: bytes) -> bytes:
    """The uncompressed ELF kernel of a bzImage, checked to have a PVH entry."""
    start = bzimage.find(XZ_MAGIC)
    if start < 0:
        raise NoPvhKernel("the kernel image has no xz-compressed payload")
    try:
        data = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(bzimage[start:])
    except lzma.LZMAError as e:
        raise NoPvhKernel(f"the kernel payload does not decompress: {e}") from None
    if not has_pvh_entry(data):
        raise NoPvhKernel("the kernel has no PVH entry point (CONFIG_PVH)")
    return data


def has_pvh_entry(image: bytes) -> bool:
    try:
        found = elf.notes(image)
    except (elf.NotElf, ValueError, IndexError):
        return False
    return any(n.owner == "Xen" and n.type == XEN_ELFNOTE_PHYS32_ENTRY for n in found)
