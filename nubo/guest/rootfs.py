"""The guest's root filesystem: busybox, dropbear and its libraries, the kernel
modules, the boot scripts (``files/``) and their settings.

The scripts are static files; the only rendered piece is ``/etc/nubo-guest.conf``
(shell assignments the scripts source), so what varies between builds is small
and tested on its own.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from nubo.guest import cpio, elf

READY_MARKER = "nubo-guest ready"
LIB_DIR = "lib/x86_64-linux-gnu"
LOADER = "ld-linux-x86-64.so.2"

# files/<name> -> (path in the guest, mode)
SCRIPTS: dict[str, tuple[str, int]] = {
    "inittab": ("etc/inittab", 0o644),
    "rcS": ("etc/init.d/rcS", 0o755),
    "rcK": ("etc/init.d/rcK", 0o755),
    "udhcpc.script": ("etc/udhcpc/default.script", 0o755),
    "metadata.sh": ("usr/lib/nubo-guest/metadata.sh", 0o644),
    "json.awk": ("usr/lib/nubo-guest/json.awk", 0o644),
    "acpi-power": ("etc/acpi/PWRF/00000080", 0o755),
}

# small files of the guest's /etc
ETC: dict[str, str] = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
    # "*": no password matches, but the account is not locked, so keys work
    "etc/shadow": "root:*:19000:0:99999:7:::\n",
    "etc/group": "root:x:0:\ntty:x:5:\n",
    "etc/shells": "/bin/sh\n/bin/ash\n",
    "etc/hosts": "127.0.0.1 localhost\n",
    "etc/hostname": "nubo-guest\n",
    "etc/profile": "export PATH=/sbin:/usr/sbin:/bin:/usr/bin\nexport PS1='\\h:\\w\\$ '\n",
}

DROPBEAR_PROGRAMS = ("usr/sbin/dropbear", "usr/bin/dropbearkey", "usr/bin/dbclient")


@dataclass(frozen=True)
class GuestConfig:
    """What ``/etc/nubo-guest.conf`` sets for the boot scripts."""

    version: str
    modules: tuple[str, ...]
    ready_marker: str = READY_MARKER
    metadata_url: str = "http://169.254.169.254"
    metadata_versions: tuple[str, ...] = ("latest", "2013-10-17")
    metadata_tries: int = 20
    metadata_timeout: int = 10
    dhcp_tries: int = 10
    host_key_types: tuple[str, ...] = ("ed25519", "ecdsa")


def render_config(cfg: GuestConfig) -> str:
    """``/etc/nubo-guest.conf``: one quoted shell assignment per setting."""
    values = {
        "GUEST_VERSION": cfg.version,
        "MODULES": " ".join(cfg.modules),
        "READY_MARKER": cfg.ready_marker,
        "MD_URL": cfg.metadata_url,
        "MD_VERSIONS": " ".join(cfg.metadata_versions),
        "MD_TRIES": str(cfg.metadata_tries),
        "MD_TIMEOUT": str(cfg.metadata_timeout),
        "DHCP_TRIES": str(cfg.dhcp_tries),
        "HOST_KEY_TYPES": " ".join(cfg.host_key_types),
    }
    lines = [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    return "# nubo-guest settings, made by nubo guest-image build\n" + "\n".join(lines) + "\n"


def script(name: str) -> bytes:
    """One of the guest's static scripts."""
    return resources.files("nubo.guest").joinpath("files", name).read_bytes()


def scripts_digest_input() -> bytes:
    """Every static script, concatenated with its name (for the cache key)."""
    return b"".join(name.encode() + b"\0" + script(name) for name in sorted(SCRIPTS))


def _write(root: Path, rel: str, data: bytes, mode: int) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def _link(root: Path, rel: str, target: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_symlink() and not path.exists():
        path.symlink_to(target)


def add_busybox(root: Path, staged: Path) -> None:
    """The static busybox, with a link for every applet (``applets`` from the
    binary's ``--list-full``), and ``/init`` as its init."""
    _write(root, "bin/busybox", (staged / "bin/busybox").read_bytes(), 0o755)
    for applet in busybox_applets(staged / "bin/busybox"):
        depth = applet.count("/")
        _link(root, applet, "../" * depth + "bin/busybox")
    _link(root, "init", "bin/busybox")


def busybox_applets(busybox: Path) -> list[str]:
    import subprocess

    out = subprocess.run([str(busybox), "--list-full"], check=True, capture_output=True,
                         text=True).stdout
    return [line.strip() for line in out.splitlines()
            if line.strip() and line.strip() not in ("bin/busybox", "linuxrc")]


def find_library(staged: Path, soname: str) -> Path:
    """The file behind a soname in the extracted packages (links followed inside)."""
    for libdir in ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64", "lib"):
        path = staged / libdir / soname
        while path.is_symlink():
            target = Path(str(path.readlink()))
            path = (staged / str(target).lstrip("/")) if target.is_absolute() else (
                path.parent / target)
        if path.is_file():
            return path
    raise FileNotFoundError(f"library {soname} is in none of the guest's packages")


def library_closure(staged: Path, programs: Iterable[Path]) -> dict[str, Path]:
    """Every shared library the programs need, directly or through other libraries."""
    found: dict[str, Path] = {}
    pending = [lib for p in programs for lib in elf.needed(p)]
    while pending:
        soname = pending.pop()
        if soname in found:
            continue
        found[soname] = find_library(staged, soname)
        pending.extend(elf.needed(found[soname]))
    return found


def add_dropbear(root: Path, staged: Path) -> None:
    programs = [staged / p for p in DROPBEAR_PROGRAMS]
    for program, rel in zip(programs, DROPBEAR_PROGRAMS, strict=True):
        _write(root, rel, program.read_bytes(), 0o755)
    libs = library_closure(staged, programs)
    libs.setdefault(LOADER, find_library(staged, LOADER))
    for soname, path in sorted(libs.items()):
        _write(root, f"{LIB_DIR}/{soname}", path.read_bytes(), 0o755)
    _link(root, f"lib64/{LOADER}", f"../{LIB_DIR}/{LOADER}")


def add_modules(root: Path, modules: Iterable[Path]) -> None:
    for module in modules:
        _write(root, f"lib/modules/{module.name}", module.read_bytes(), 0o644)


def add_scripts(root: Path, cfg: GuestConfig) -> None:
    for name, (rel, mode) in SCRIPTS.items():
        _write(root, rel, script(name), mode)
    for rel, text in ETC.items():
        _write(root, rel, text.encode(), 0o600 if rel == "etc/shadow" else 0o644)
    _write(root, "etc/nubo-guest.conf", render_config(cfg).encode(), 0o644)
    for rel in ("dev", "proc", "sys", "run", "tmp", "mnt", "var", "root"):
        (root / rel).mkdir(parents=True, exist_ok=True)
    (root / "root").chmod(0o700)
    (root / "tmp").chmod(0o1777)


def assemble(root: Path, staged: Path, modules: list[Path], cfg: GuestConfig) -> None:
    """The whole guest tree under ``root`` from the packages extracted in ``staged``."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    add_busybox(root, staged)
    add_dropbear(root, staged)
    add_modules(root, modules)
    add_scripts(root, cfg)


def initramfs(root: Path) -> bytes:
    """The gzip-compressed initramfs of the tree, with the two device nodes the
    kernel and init need before devtmpfs is mounted."""
    nodes = [cpio.char_device("dev/console", 5, 1), cpio.char_device("dev/null", 1, 3, 0o666)]
    return cpio.initramfs([*cpio.tree(root), *nodes])
