"""The initramfs archive: cpio "newc", as the kernel unpacks it.

Written here rather than by the ``cpio`` tool because the guest needs two device
nodes (``/dev/console``, ``/dev/null``) before it mounts devtmpfs, and making
device nodes on disk needs root; an archive entry does not. Every entry is owned
by root with a fixed time, so the same tree always gives the same archive.
"""

from __future__ import annotations

import gzip
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    path: str                  # relative, no leading "/"
    mode: int                  # including the file type bits
    data: bytes = b""          # file contents, or a symlink's target
    rdev: tuple[int, int] = (0, 0)


def char_device(path: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(path, stat.S_IFCHR | perm, rdev=(major, minor))


def tree(root: Path) -> Iterator[Entry]:
    """The entries of a directory tree, parents first, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames) + sorted(filenames):
            path = base / name
            info = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                yield Entry(rel, info.st_mode, os.readlink(path).encode())
            elif stat.S_ISDIR(info.st_mode):
                yield Entry(rel, info.st_mode)
            elif stat.S_ISREG(info.st_mode):
                yield Entry(rel, info.st_mode, path.read_bytes())


def _header(ino: int, entry: Entry, name: bytes) -> bytes:
    fields = (ino, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0,
              entry.rdev[0], entry.rdev[1], len(name), 0)
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def newc(entries: Iterable[Entry]) -> bytes:
    """A cpio newc archive of ``entries`` followed by the trailer."""
    out = bytearray()
    for ino, entry in enumerate([*entries, Entry(TRAILER, 0)], start=1):
        name = entry.path.encode() + b"\0"
        header = _header(ino if entry.path != TRAILER else 0, entry, name)
        out += header + name + _pad(len(header) + len(name))
        out += entry.data + _pad(len(entry.data))
    return bytes(out)


def initramfs(entries: Iterable[Entry]) -> bytes:
    """The archive gzip-compressed, as the guest kernel takes it."""
    return gzip.compress(newc(entries), compresslevel=9, mtime=0)
