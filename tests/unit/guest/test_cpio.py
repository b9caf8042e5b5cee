"""The initramfs archive: cpio newc as the kernel reads it."""

from __future__ import annotations

import gzip
import stat
from pathlib import Path

from nubo.guest import cpio


def parse(archive: bytes) -> list[dict[str, object]]:
    """The entries of a newc archive (a reader independent of the writer)."""
    entries, pos = [], 0
    while True:
        assert archive[pos:pos + 6] == b"070701"
        fields = [int(archive[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name_at = pos + 110
        name = archive[name_at:name_at + namesize - 1].decode()
        data_at = name_at + namesize + (-(110 + namesize) % 4)
        data = archive[data_at:data_at + filesize]
        pos = data_at + filesize + (-filesize % 4)
        if name == cpio.TRAILER:
            assert pos == len(archive)
            return entries
        entries.append({"name": name, "mode": fields[1], "uid": fields[2], "gid": fields[3],
                        "data": data, "rdev": (fields[9], fields[10])})


def test_tree_files_links_and_device_nodes(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "inittab").write_text("::sysinit:/etc/init.d/rcS\n")
    (tmp_path / "init").symlink_to("bin/busybox")
    (tmp_path / "dev").mkdir()
    entries = parse(cpio.newc([*cpio.tree(tmp_path), cpio.char_device("dev/console", 5, 1)]))
    by_name = {e["name"]: e for e in entries}
    assert [e["name"] for e in entries] == ["dev", "etc", "init", "etc/inittab", "dev/console"]
    assert stat.S_ISDIR(int(by_name["etc"]["mode"]))  # type: ignore[call-overload]
    assert by_name["etc/inittab"]["data"] == b"::sysinit:/etc/init.d/rcS\n"
    assert stat.S_ISLNK(int(by_name["init"]["mode"]))  # type: ignore[call-overload]
    assert by_name["init"]["data"] == b"bin/busybox"
    console = by_name["dev/console"]
    assert stat.S_ISCHR(int(console["mode"])) and console["rdev"] == (5, 1)  # type: ignore[call-overload]
    assert all(e["uid"] == 0 and e["gid"] == 0 for e in entries)


def test_the_same_tree_gives_the_same_initramfs(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 1001)
    first = cpio.initramfs(cpio.tree(tmp_path))
    (tmp_path / "a").touch()
    assert cpio.initramfs(cpio.tree(tmp_path)) == first
    assert parse(gzip.decompress(first))[0]["data"] == b"x" * 1001
