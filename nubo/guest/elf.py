"""Just enough ELF reading for building the guest: the libraries a program needs
(``DT_NEEDED``), a kernel module's ``.modinfo`` and an image's notes.

Only 64-bit little-endian files are read (the guest is x86_64); anything else is
refused with ``NotElf``, so a wrong file fails the build instead of producing a
guest that cannot start its programs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
_SECTION = struct.Struct("<IIQQQQIIQQ")
_DYN = struct.Struct("<qQ")
_NOTE = struct.Struct("<III")
DT_NEEDED = 1
SHT_NOTE = 7


class NotElf(ValueError):
    """The file is not a 64-bit little-endian ELF file."""


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    offset: int
    size: int
    link: int


@dataclass(frozen=True)
class Note:
    owner: str
    type: int
    desc: bytes


def sections(data: bytes) -> list[Section]:
    """The section headers of an ELF image, with their names resolved."""
    if len(data) < _HEADER.size or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise NotElf("not a 64-bit little-endian ELF file")
    fields = _HEADER.unpack_from(data)
    shoff, shentsize, shnum, shstrndx = fields[6], fields[11], fields[12], fields[13]
    raw = [_SECTION.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    names = raw[shstrndx][4] if raw else 0
    return [Section(_cstr(data, names + r[0]), r[1], r[4], r[5], r[6]) for r in raw]


def _cstr(data: bytes, offset: int) -> str:
    end = data.index(b"\0", offset)
    return data[offset:end].decode()


def _section(data: bytes, name: str) -> Section | None:
    return next((s for s in sections(data) if s.name == name), None)


def needed(path: Path) -> list[str]:
    """The shared libraries (sonames) a program or library asks the loader for."""
    data = path.read_bytes()
    found = sections(data)
    dynamic = next((s for s in found if s.name == ".dynamic"), None)
    if dynamic is None:
        return []  # statically linked
    strtab = found[dynamic.link]
    names = []
    for i in range(dynamic.size // _DYN.size):
        tag, value = _DYN.unpack_from(data, dynamic.offset + i * _DYN.size)
        if tag == DT_NEEDED:
            names.append(_cstr(data, strtab.offset + value))
    return names


def modinfo(path: Path) -> dict[str, str]:
    """A kernel module's ``.modinfo`` (``name``, ``depends``, …); the last value of
    a repeated key wins (only single-valued keys are used)."""
    data = path.read_bytes()
    section = _section(data, ".modinfo")
    if section is None:
        return {}
    blob = data[section.offset:section.offset + section.size]
    info: dict[str, str] = {}
    for entry in blob.split(b"\0"):
        key, sep, value = entry.decode(errors="replace").partition("=")
        if sep:
            info[key] = value
    return info


def notes(data: bytes) -> list[Note]:
    """Every note in the image's note sections."""
    found = []
    for section in sections(data):
        if section.type != SHT_NOTE:
            continue
        pos, end = section.offset, section.offset + section.size
        while pos + _NOTE.size <= end:
            namesz, descsz, kind = _NOTE.unpack_from(data, pos)
            pos += _NOTE.size
            owner = data[pos:pos + namesz].rstrip(b"\0").decode(errors="replace")
            pos += _align4(namesz)
            found.append(Note(owner, kind, data[pos:pos + descsz]))
            pos += _align4(descsz)
    return found


def _align4(n: int) -> int:
    return (n + 3) & ~3
