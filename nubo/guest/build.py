"""``nubo guest-image build``: the guest from Debian packages, cached by its inputs.

The cache key is a digest of everything the result depends on: the exact
versions (and checksums) of the packages apt would use, the boot scripts, the
module list, the kernel command line and ``RECIPE``, bumped when the way the
pieces are put together changes. A build whose key is already in the cache is
not redone; a new key builds beside the old one, then the old builds are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from nubo.core.errors import NuboError
from nubo.guest import apt, disk, elf, kernel, kmod, rootfs

log = logging.getLogger(__name__)

RECIPE = 1
KERNEL_PACKAGE = "linux-image-amd64"
USERLAND = ("busybox-static", "dropbear-bin")
COMMAND_LINE = "console=ttyS0"
MANIFEST = "manifest.json"
KEY_CHARS = 16
Progress = Callable[[str], None]


class BuildFailed(NuboError):
    """The guest image could not be built; the message says why."""


@dataclass(frozen=True)
class Inputs:
    kernel: apt.Package
    userland: tuple[apt.Package, ...]

    @property
    def packages(self) -> tuple[apt.Package, ...]:
        return (self.kernel, *self.userland)


@dataclass(frozen=True)
class GuestImage:
    """One build in the cache: the files and what the image service needs to know."""

    directory: Path
    key: str
    kernel_release: str
    kernel_format: str        # "pvh" (an ELF vmlinux) or "bzimage"
    command_line: str
    packages: dict[str, str]  # name -> version

    @property
    def kernel(self) -> Path:
        return self.directory / ("vmlinux" if self.kernel_format == "pvh" else "vmlinuz")

    @property
    def ramdisk(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def disk(self) -> Path:
        return self.directory / "disk.qcow2"

    @property
    def bzimage(self) -> Path:
        return self.directory / "vmlinuz"

    def manifest(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("directory")
        return data

    @classmethod
    def load(cls, directory: Path) -> GuestImage:
        data = json.loads((directory / MANIFEST).read_text())
        return cls(directory=directory, **data)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nubo" / "guest-image"


def resolve_inputs(kernel_package: str = KERNEL_PACKAGE) -> Inputs:
    """The packages apt would use now (no download)."""
    meta = apt.show([kernel_package])[kernel_package]
    name = apt.kernel_of(meta) if meta.name == KERNEL_PACKAGE else meta.name
    userland = apt.closure(USERLAND)
    return Inputs(apt.show([name])[name], tuple(userland[n] for n in sorted(userland)))


def cache_key(inputs: Inputs, scripts: bytes, command_line: str = COMMAND_LINE) -> str:
    """The digest of every input of a build."""
    recipe = {
        "recipe": RECIPE,
        "packages": sorted((p.name, p.version, p.sha256) for p in inputs.packages),
        "scripts": hashlib.sha256(scripts).hexdigest(),
        "modules": list(kmod.WANTED),
        "command_line": command_line,
        "ready_marker": rootfs.READY_MARKER,
    }
    encoded = json.dumps(recipe, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:KEY_CHARS]


def cached(cache_dir: Path, key: str) -> GuestImage | None:
    directory = cache_dir / key
    if (directory / MANIFEST).exists():
        return GuestImage.load(directory)
    return None


@contextlib.contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build(cache_dir: Path | None = None, *, force: bool = False,
          progress: Progress = log.info) -> GuestImage:
    """The guest image for the packages apt offers now, built unless cached."""
    try:
        return _build_cached(cache_dir or default_cache_dir(), force, progress)
    except (apt.AptError, disk.DiskError, kmod.MissingModule, elf.NotElf, OSError) as e:
        raise BuildFailed(f"the guest image could not be built: {e}") from e


def _build_cached(cache_dir: Path, force: bool, progress: Progress) -> GuestImage:
    inputs = resolve_inputs()
    key = cache_key(inputs, rootfs.scripts_digest_input())
    with _locked(cache_dir):
        found = cached(cache_dir, key)
        if found and not force:
            progress(f"guest image {key} is cached in {found.directory}")
            return found
        work = cache_dir / f".build-{key}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            _build(work, cache_dir / "debs", inputs, key, progress)
            final = cache_dir / key
            shutil.rmtree(final, ignore_errors=True)
            (work / "out").rename(final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _prune(cache_dir, key, inputs)
    progress(f"guest image {key} built in {final}")
    return GuestImage.load(final)


def _build(work: Path, debs: Path, inputs: Inputs, key: str,
           progress: Progress) -> GuestImage:
    out = work / "out"
    out.mkdir(parents=True)
    progress(f"fetching {len(inputs.packages)} packages ({inputs.kernel.name} "
             f"{inputs.kernel.version})")
    staged, kernel_tree = work / "userland", work / "kernel"
    apt.extract(apt.fetch(inputs.kernel, debs), kernel_tree)
    for pkg in inputs.userland:
        apt.extract(apt.fetch(pkg, debs), staged)
    modules_dir = _only_child(kernel_tree / "lib" / "modules")
    release = modules_dir.name
    modules = kmod.resolve(modules_dir)
    cfg = rootfs.GuestConfig(version=f"build {key}, kernel {release}",
                             modules=tuple(m.name.removesuffix(".ko") for m in modules))
    progress(f"assembling the initramfs ({len(modules)} kernel modules)")
    rootfs.assemble(work / "root", staged, modules, cfg)
    (out / "initrd.img").write_bytes(rootfs.initramfs(work / "root"))
    bzimage = kernel_tree / "boot" / f"vmlinuz-{release}"
    shutil.copyfile(bzimage, out / "vmlinuz")
    kernel_format = _write_pvh(bzimage, out / "vmlinux", progress)
    progress("making the boot disk")
    disk.make_disk(out / "disk.qcow2", disk.BootFiles(out / "vmlinuz", out / "initrd.img",
                                                      COMMAND_LINE), work)
    image = GuestImage(out, key, release, kernel_format, COMMAND_LINE,
                       {p.name: p.version for p in inputs.packages})
    (out / MANIFEST).write_text(json.dumps(image.manifest(), indent=2, sort_keys=True))
    return image


def _write_pvh(bzimage: Path, dest: Path, progress: Progress) -> str:
    try:
        dest.write_bytes(kernel.pvh_vmlinux(bzimage.read_bytes()))
    except kernel.NoPvhKernel as e:
        progress(f"booting the bzImage: {e}")
        return "bzimage"
    return "pvh"


def _only_child(directory: Path) -> Path:
    children = [p for p in directory.iterdir() if p.is_dir()]
    if len(children) != 1:
        raise apt.AptError(f"expected one kernel in {directory}, found {len(children)}")
    return children[0]


def _prune(cache_dir: Path, key: str, inputs: Inputs) -> None:
    """Remove older builds and the packages no current input uses."""
    for path in cache_dir.iterdir():
        if path.is_dir() and re.fullmatch(r"[0-9a-f]{16}", path.name) and path.name != key:
            shutil.rmtree(path, ignore_errors=True)
    keep = {p.deb_name for p in inputs.packages}
    for deb in (cache_dir / "debs").glob("*.deb"):
        if deb.name not in keep:
            deb.unlink(missing_ok=True)
