"""Minimal ELF64 files made in memory, for the ELF-reading tests."""

from __future__ import annotations

import struct

SHT_PROGBITS, SHT_STRTAB, SHT_DYNAMIC, SHT_NOTE = 1, 3, 6, 7


def make_elf(sections: list[tuple[str, int, bytes, int]]) -> bytes:
    """An ELF64 little-endian image with these (name, type, data, link) sections
    after the null section, and a section-name table last."""
    names = b"\0"
    offsets: list[int] = []
    for name, *_ in sections:
        offsets.append(len(names))
        names += name.encode() + b"\0"
    shstr_name = len(names)
    names += b".shstrtab\0"
    body = bytearray(b"\0" * 64)
    placed = []
    for (_name, kind, data, link), name_off in zip(sections, offsets, strict=True):
        placed.append((name_off, kind, len(body), len(data), link))
        body += data
    placed.append((shstr_name, SHT_STRTAB, len(body), len(names), 0))
    body += names
    shoff = len(body)
    body += struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    for name_off, kind, offset, size, link in placed:
        body += struct.pack("<IIQQQQIIQQ", name_off, kind, 0, 0, offset, size, link, 0, 1, 0)
    ident = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    header = struct.pack("<16sHHIQQQIHHHHHH", ident, 2, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64,
                         len(placed) + 1, len(placed))
    body[:64] = header
    return bytes(body)


def note(owner: str, kind: int, desc: bytes) -> bytes:
    name = owner.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
    return struct.pack("<III", len(name), len(desc), kind) + pad(name) + pad(desc)


def dynamic(needed: list[str]) -> tuple[bytes, bytes]:
    """A .dynamic section asking for these libraries, and its .dynstr."""
    strtab = b"\0"
    entries = b""
    for lib in needed:
        entries += struct.pack("<qQ", 1, len(strtab))
        strtab += lib.encode() + b"\0"
    return entries + struct.pack("<qQ", 0, 0), strtab
