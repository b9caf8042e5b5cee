"""The build's cache key and its record of a build."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from nubo.guest import apt, build

KERNEL = apt.Package("linux-image-6.1.0-56-amd64", "6.1.192-2", "pool/k.deb", "aa")
BUSYBOX = apt.Package("busybox-static", "1:1.35.0-4", "pool/b.deb", "bb")
INPUTS = build.Inputs(KERNEL, (BUSYBOX,))


def test_the_key_is_stable_for_the_same_inputs() -> None:
    assert build.cache_key(INPUTS, b"scripts") == build.cache_key(INPUTS, b"scripts")
    assert len(build.cache_key(INPUTS, b"scripts")) == build.KEY_CHARS


def test_the_key_changes_with_any_input() -> None:
    key = build.cache_key(INPUTS, b"scripts")
    newer_kernel = dataclasses.replace(KERNEL, version="6.1.193-1", sha256="cc")
    rebuilt_busybox = dataclasses.replace(BUSYBOX, sha256="dd")
    assert build.cache_key(build.Inputs(newer_kernel, (BUSYBOX,)), b"scripts") != key
    assert build.cache_key(build.Inputs(KERNEL, (rebuilt_busybox,)), b"scripts") != key
    assert build.cache_key(INPUTS, b"scripts, edited") != key
    assert build.cache_key(INPUTS, b"scripts", command_line="console=ttyS0 quiet") != key


def test_the_key_ignores_the_order_of_packages() -> None:
    libc = apt.Package("libc6", "2.36", "pool/l.deb", "ee")
    assert build.cache_key(build.Inputs(KERNEL, (BUSYBOX, libc)), b"s") == build.cache_key(
        build.Inputs(KERNEL, (libc, BUSYBOX)), b"s")


def test_a_build_is_found_by_its_manifest(tmp_path: Path) -> None:
    image = build.GuestImage(tmp_path / "0123456789abcdef", "0123456789abcdef",
                             "6.1.0-56-amd64", "pvh", "console=ttyS0", {"busybox-static": "1"})
    assert build.cached(tmp_path, image.key) is None
    image.directory.mkdir()
    (image.directory / build.MANIFEST).write_text(__import__("json").dumps(image.manifest()))
    found = build.cached(tmp_path, image.key)
    assert found == image
    assert found.kernel.name == "vmlinux" and found.ramdisk.name == "initrd.img"
    bz = dataclasses.replace(image, kernel_format="bzimage")
    assert bz.kernel.name == "vmlinuz"
