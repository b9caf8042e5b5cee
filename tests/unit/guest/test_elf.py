"""ELF reading: a program's libraries, a module's modinfo, notes; the PVH kernel
inside a bzImage."""

from __future__ import annotations

import lzma
from pathlib import Path

import pytest

from nubo.guest import elf, kernel
from tests.unit.guest.elf_files import (
    SHT_DYNAMIC,
    SHT_NOTE,
    SHT_PROGBITS,
    SHT_STRTAB,
    dynamic,
    make_elf,
    note,
)


def test_needed_libraries_in_order(tmp_path: Path) -> None:
    dyn, dynstr = dynamic(["libtomcrypt.so.1", "libc.so.6"])
    # .dynamic links to section 2 (.dynstr): the null section is 0
    path = tmp_path / "prog"
    path.write_bytes(make_elf([(".dynamic", SHT_DYNAMIC, dyn, 2),
                               (".dynstr", SHT_STRTAB, dynstr, 0)]))
    assert elf.needed(path) == ["libtomcrypt.so.1", "libc.so.6"]


def test_a_static_program_needs_nothing(tmp_path: Path) -> None:
    path = tmp_path / "static"
    path.write_bytes(make_elf([(".text", SHT_PROGBITS, b"\x90" * 16, 0)]))
    assert elf.needed(path) == []


def test_modinfo_fields(tmp_path: Path) -> None:
    info = b"license=GPL\0depends=virtio_ring,virtio\0name=virtio_net\0\0\0"
    path = tmp_path / "virtio_net.ko"
    path.write_bytes(make_elf([(".modinfo", SHT_PROGBITS, info, 0)]))
    assert elf.modinfo(path) == {"license": "GPL", "depends": "virtio_ring,virtio",
                                 "name": "virtio_net"}


def test_not_elf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "script"
    path.write_bytes(b"#!/bin/sh\necho hi\n")
    with pytest.raises(elf.NotElf):
        elf.needed(path)


def _pvh_kernel() -> bytes:
    notes = note("Linux", 6, b"6.1") + note("Xen", kernel.XEN_ELFNOTE_PHYS32_ENTRY,
                                             b"\0\0\0\x01")
    return make_elf([(".notes", SHT_NOTE, notes, 0)])


def test_notes_are_read() -> None:
    found = elf.notes(_pvh_kernel())
    assert [(n.owner, n.type) for n in found] == [("Linux", 6), ("Xen", 18)]
    assert found[0].desc == b"6.1"


def test_the_pvh_kernel_comes_out_of_the_bzimage() -> None:
    vmlinux = _pvh_kernel()
    bzimage = b"MZ setup code" * 50 + lzma.compress(vmlinux, format=lzma.FORMAT_XZ) + b"tail"
    assert kernel.pvh_vmlinux(bzimage) == vmlinux


def test_a_kernel_without_pvh_entry_is_refused() -> None:
    plain = make_elf([(".notes", SHT_NOTE, note("Linux", 6, b"6.1"), 0)])
    with pytest.raises(kernel.NoPvhKernel, match="no PVH entry"):
        kernel.pvh_vmlinux(b"setup" + lzma.compress(plain, format=lzma.FORMAT_XZ))
    with pytest.raises(kernel.NoPvhKernel, match="no xz-compressed payload"):
        kernel.pvh_vmlinux(b"setup and a gzip payload \x1f\x8b")
