"""The kernel modules the guest loads, with what they depend on, in load order.

The Debian kernel builds virtio, storage and input drivers as modules, and the
package carries no ``modules.dep`` (``depmod`` makes it at install time), so the
dependencies are read from each module's ``.modinfo``. The guest has no
``modprobe`` index: its init runs ``insmod`` over the list this module computes.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from pathlib import Path

from nubo.guest import elf

# what the guest needs, grouped by why; order within the list is kept
WANTED: tuple[str, ...] = (
    # network and disks (virtio-net, virtio-blk on the PCI transport)
    "virtio_pci", "virtio_net", "virtio_blk",
    # entropy from the host (hw_rng_model=virtio), so host keys need not wait for it
    "virtio_rng",
    # a config drive on an IDE (pc) or SATA (q35) CD-ROM, in iso9660 or vfat
    "ata_piix", "ahci", "sr_mod", "isofs", "vfat", "nls_cp437", "nls_ascii", "nls_utf8",
    # the ACPI power button, read by acpid from an input device
    "button", "evdev",
)


class MissingModule(LookupError):
    """A wanted module (or one it depends on) is not in the kernel package."""


def normalize(name: str) -> str:
    """Module names compare with ``-`` and ``_`` alike, as the kernel does."""
    return name.replace("-", "_")


def index(tree: Path) -> dict[str, Path]:
    """Every module file under ``tree`` (``lib/modules/<version>/kernel``), by name."""
    return {normalize(p.name.removesuffix(".ko")): p for p in tree.rglob("*.ko")}


def depends_of(path: Path) -> list[str]:
    return [normalize(d) for d in elf.modinfo(path).get("depends", "").split(",") if d]


def load_order(wanted: Iterable[str], depends: Callable[[str], list[str]],
               builtin: Container[str] = frozenset()) -> list[str]:
    """Modules to insert, each after everything it depends on; modules built into
    the kernel are left out (they need no loading)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in seen or name in builtin:
            return
        if name in chain:
            raise MissingModule(f"circular module dependency: {' -> '.join((*chain, name))}")
        for dep in depends(name):
            visit(dep, (*chain, name))
        seen.add(name)
        order.append(name)

    for name in wanted:
        visit(normalize(name), ())
    return order


def builtin_modules(modules_dir: Path) -> frozenset[str]:
    """The modules compiled into the kernel (``modules.builtin``)."""
    path = modules_dir / "modules.builtin"
    if not path.exists():
        return frozenset()
    return frozenset(normalize(Path(line).name.removesuffix(".ko"))
                     for line in path.read_text().split())


def resolve(modules_dir: Path, wanted: Iterable[str] = WANTED) -> list[Path]:
    """The module files to copy into the guest, in load order."""
    files = index(modules_dir / "kernel")

    def depends(name: str) -> list[str]:
        if name not in files:
            raise MissingModule(f"kernel module {name} is not in the kernel package")
        return depends_of(files[name])

    return [files[name] for name in load_order(wanted, depends,
                                                 builtin_modules(modules_dir))]
