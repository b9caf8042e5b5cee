"""What a guest is made of, as the libvirt driver sees it: ``GuestSpec`` (the input
of the domain XML) and how it is worked out from an instance. Pure: no I/O.

An instance (``nubo.compute.agent.driver.Instance``) carries its flavor, image
properties (system metadata ``image_*``), network info (one VIF per port) and
requests (config drive); the paths come from ``InstancePaths``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# the kernel command line of direct kernel boot when the image gives none (Nova's)
DEFAULT_CMDLINE = "root=/dev/vda console=tty0 console=ttyS0"
# libvirt domains of nubo are named so; list_instances ignores every other domain
NAME_PREFIX = "nubo-"
# Linux interface names are at most 15 characters: "brq" / "tap" + 11 of the id
DEVICE_ID_CHARS = 11


def domain_name(uuid: str) -> str:
    return f"{NAME_PREFIX}{uuid}"


def bridge_name(network_id: str) -> str:
    """The bridge of a network on every host, as Neutron's Linux bridge agent names it."""
    return f"brq{network_id[:DEVICE_ID_CHARS]}"


def tap_name(port_id: str) -> str:
    return f"tap{port_id[:DEVICE_ID_CHARS]}"


@dataclass(frozen=True)
class Disk:
    path: str
    target: str                       # vda, vdb, hda
    format: str = "qcow2"
    bus: str = "virtio"
    device: str = "disk"              # or "cdrom"
    readonly: bool = False


@dataclass(frozen=True)
class Nic:
    port_id: str
    mac: str
    bridge: str
    tap: str
    mtu: int | None = None


@dataclass(frozen=True)
class KernelBoot:
    kernel: str
    ramdisk: str | None
    cmdline: str


@dataclass(frozen=True)
class GuestSpec:
    uuid: str
    name: str
    virt_type: str
    vcpus: int
    memory_mb: int
    disks: tuple[Disk, ...]
    console_log: str
    nics: tuple[Nic, ...] = ()
    kernel_boot: KernelBoot | None = None
    disk_cache: str = "none"
    # shown in the domain's <metadata>: host, display name, flavor, owner, image
    labels: Mapping[str, str] = field(default_factory=dict)
    product_version: str = ""


@dataclass(frozen=True)
class InstancePaths:
    """Where one host keeps a guest's files: ``<root>/<uuid>/``."""

    root: Path

    def dir(self, uuid: str) -> Path:
        return self.root / uuid

    def resize_dir(self, uuid: str) -> Path:
        """The source's files while a resize or migration waits to be confirmed."""
        return self.root / f"{uuid}_resize"

    def disk(self, uuid: str) -> Path:
        return self.dir(uuid) / "disk"

    def rescue_disk(self, uuid: str) -> Path:
        return self.dir(uuid) / "disk.rescue"

    def config_drive(self, uuid: str) -> Path:
        return self.dir(uuid) / "disk.config"

    def console_log(self, uuid: str) -> Path:
        return self.dir(uuid) / "console.log"

    def unrescue_xml(self, uuid: str) -> Path:
        return self.dir(uuid) / "unrescue.xml"

    @property
    def base_dir(self) -> Path:
        return self.root / "_base"

    def base(self, image_id: str) -> Path:
        return self.base_dir / image_id


def image_property(instance: Mapping[str, Any], key: str) -> str | None:
    """A property of the instance's image (system metadata ``image_<key>``)."""
    value = (instance.get("system_metadata") or {}).get(f"image_{key}")
    return str(value) if value not in (None, "") else None


def nics_of(network_info: Sequence[Mapping[str, Any]]) -> tuple[Nic, ...]:
    out = []
    for vif in network_info:
        network = vif.get("network") or {}
        mtu = network.get("mtu")
        out.append(Nic(port_id=str(vif["id"]), mac=str(vif["address"]),
                       bridge=bridge_name(str(network.get("id") or "")),
                       tap=str(vif.get("devname") or tap_name(str(vif["id"]))),
                       mtu=int(mtu) if mtu else None))
    return tuple(out)


def wants_config_drive(instance: Mapping[str, Any], forced: bool) -> bool:
    """Nova's rule: forced by the operator, asked by the request ("True", "1", "yes"),
    or required by the image (``img_config_drive=mandatory``)."""
    asked = str(instance.get("config_drive") or "").strip().lower()
    return (forced or asked in {"true", "1", "yes", "y", "on"}
            or image_property(instance, "img_config_drive") == "mandatory")


def kernel_boot(instance: Mapping[str, Any], base_of: Mapping[str, Path]
                ) -> KernelBoot | None:
    """Direct kernel boot when the image names a kernel (``kernel_id``, optionally
    ``ramdisk_id``); ``base_of`` maps those image ids to their cached files."""
    kernel_id = image_property(instance, "kernel_id")
    if kernel_id is None:
        return None
    ramdisk_id = image_property(instance, "ramdisk_id")
    return KernelBoot(kernel=str(base_of[kernel_id]),
                      ramdisk=str(base_of[ramdisk_id]) if ramdisk_id else None,
                      cmdline=image_property(instance, "os_command_line") or DEFAULT_CMDLINE)


def spec_of(instance: Mapping[str, Any], paths: InstancePaths, *, virt_type: str,
            host: str, owner: str, base_of: Mapping[str, Path] | None = None,
            config_drive: bool = False, disk_cache: str = "none") -> GuestSpec:
    """The guest of ``instance`` booting from its own disk (``paths.disk``)."""
    uuid = str(instance["uuid"])
    flavor = instance.get("flavor") or {}
    disks = [Disk(str(paths.disk(uuid)), "vda")]
    if config_drive:
        disks.append(Disk(str(paths.config_drive(uuid)), "hda", format="raw", bus="ide",
                          device="cdrom", readonly=True))
    return GuestSpec(
        uuid=uuid, name=domain_name(uuid), virt_type=virt_type,
        vcpus=int(flavor.get("vcpus") or 1), memory_mb=int(flavor.get("ram") or 64),
        disks=tuple(disks), console_log=str(paths.console_log(uuid)),
        nics=nics_of(instance.get("network_info") or []),
        kernel_boot=kernel_boot(instance, base_of or {}), disk_cache=disk_cache,
        labels=_labels(instance, host, owner))


def rescue_spec(spec: GuestSpec, rescue_disk: Path, rescue_kernel: KernelBoot | None
                ) -> GuestSpec:
    """The same guest booting from ``rescue_disk``, its own disk second (Nova's
    rescue: the user repairs the disk from a known-good system)."""
    own = [d for d in spec.disks if d.device == "disk"]
    disks = [Disk(str(rescue_disk), "vda"),
             *(Disk(d.path, f"vd{chr(ord('b') + i)}", format=d.format)
               for i, d in enumerate(own))]
    cdroms = [d for d in spec.disks if d.device == "cdrom"]
    return dataclasses.replace(spec, disks=(*disks, *cdroms), kernel_boot=rescue_kernel)


def _labels(instance: Mapping[str, Any], host: str, owner: str) -> dict[str, str]:
    flavor = instance.get("flavor") or {}
    # owner: the tag of the state directory whose agent made the domain (its
    # list_instances sees only its own; another nubo's guests are not orphans)
    labels = {"host": host, "owner": owner, "name": str(instance.get("display_name") or ""),
              "flavor": str(flavor.get("name") or ""),
              "project": str(instance.get("project_id") or ""),
              "user": str(instance.get("user_id") or ""),
              "image": str(instance.get("image_ref") or "")}
    # the image's own clean-shutdown time (Nova's os_shutdown_timeout), kept with the
    # domain for the power actions, which get only its uuid
    timeout = image_property(instance, "os_shutdown_timeout")
    if timeout is not None and timeout.isdigit():
        labels["shutdown_timeout"] = timeout
    return labels
