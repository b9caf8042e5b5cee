"""The libvirt domain XML of a guest (``GuestSpec``), and what the driver reads back
from a domain's XML. Pure: no I/O.

Choices, and why:
- ``<features><acpi/>``: without ACPI a guest cannot power itself off (it halts)
  and the power button (a clean stop) does nothing.
- the serial port is a pty whose output virtlogd also writes to the guest's
  ``console.log`` (``os-getConsoleOutput``); ``<bios useserial>`` sends the
  firmware's messages there too, so even a guest without an OS says something.
- smbios system strings are Nova's ("OpenStack Foundation", "OpenStack Nova"):
  cloud-init recognises an OpenStack guest by them.
- QEMU runs as root (a static DAC label): guest files live in nubo's state
  directory, which only root may enter.
- interfaces are taps named as Neutron's Linux bridge agent expects
  (``tap`` + 11 characters of the port id) on the network's bridge.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from nubo.compute.agent.libvirt.guest import Disk, GuestSpec, Nic

NS = "https://nubo.dev/xmlns/libvirt/instance/1"
NS_PREFIX = "nubo"
ET.register_namespace(NS_PREFIX, NS)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def render(spec: GuestSpec) -> str:
    """The ``<domain>`` document of ``spec``."""
    dom = ET.Element("domain", {"type": spec.virt_type})
    _sub(dom, "name", spec.name)
    _sub(dom, "uuid", spec.uuid)
    _metadata(dom, spec.labels)
    _sub(dom, "memory", str(spec.memory_mb), unit="MiB")
    _sub(dom, "vcpu", str(spec.vcpus))
    _sysinfo(dom, spec)
    _os(dom, spec)
    features = _sub(dom, "features")
    _sub(features, "acpi")
    _sub(features, "apic")
    if spec.virt_type == "kvm":
        _sub(dom, "cpu", mode="host-model")
    _sub(dom, "clock", offset="utc")
    for event, action in (("on_poweroff", "destroy"), ("on_reboot", "restart"),
                          ("on_crash", "destroy")):
        _sub(dom, event, action)
    _devices(dom, spec)
    seclabel = _sub(dom, "seclabel", type="static", model="dac", relabel="no")
    _sub(seclabel, "label", "+0:+0")
    ET.indent(dom)
    return ET.tostring(dom, encoding="unicode")


def _devices(dom: ET.Element, spec: GuestSpec) -> None:
    devices = _sub(dom, "devices")
    for disk in spec.disks:
        devices.append(disk_element(disk, spec.disk_cache))
    for nic in spec.nics:
        devices.append(interface_element(nic))
    serial = _sub(devices, "serial", type="pty")
    _sub(serial, "log", file=spec.console_log, append="on")
    _sub(devices, "console", type="pty")
    rng = _sub(devices, "rng", model="virtio")
    _sub(rng, "backend", "/dev/urandom", model="random")
    _sub(devices, "memballoon", model="virtio")
    # no USB device, so no USB controller (libvirt would add one, as Nova also avoids):
    # the guest kernel's handoff from the UHCI controller costs 0.2 s of boot under TCG
    _sub(devices, "controller", type="usb", model="none")


def _metadata(dom: ET.Element, labels: Mapping[str, str]) -> None:
    meta = _sub(dom, "metadata")
    inst = _sub(meta, f"{{{NS}}}instance")
    for key, value in sorted(labels.items()):
        _sub(inst, f"{{{NS}}}{key}", value)


def _sysinfo(dom: ET.Element, spec: GuestSpec) -> None:
    system = _sub(_sub(dom, "sysinfo", type="smbios"), "system")
    for name, value in (("manufacturer", "OpenStack Foundation"),
                        ("product", "OpenStack Nova"),
                        ("version", spec.product_version), ("serial", spec.uuid),
                        ("uuid", spec.uuid), ("family", "Virtual Machine")):
        if value:
            _sub(system, "entry", value, name=name)


def _os(dom: ET.Element, spec: GuestSpec) -> None:
    os_el = _sub(dom, "os")
    _sub(os_el, "type", "hvm", arch="x86_64")
    boot = spec.kernel_boot
    if boot is not None:
        _sub(os_el, "kernel", boot.kernel)
        if boot.ramdisk:
            _sub(os_el, "initrd", boot.ramdisk)
        _sub(os_el, "cmdline", boot.cmdline)
    else:
        _sub(os_el, "boot", dev="hd")
    _sub(os_el, "smbios", mode="sysinfo")
    _sub(os_el, "bios", useserial="yes")


def disk_element(disk: Disk, cache: str) -> ET.Element:
    el = ET.Element("disk", {"type": "file", "device": disk.device})
    _sub(el, "driver", name="qemu", type=disk.format,
         cache="none" if disk.device == "cdrom" else cache)
    _sub(el, "source", file=disk.path)
    _sub(el, "target", dev=disk.target, bus=disk.bus)
    if disk.readonly:
        _sub(el, "readonly")
    return el


def interface_element(nic: Nic) -> ET.Element:
    el = ET.Element("interface", {"type": "bridge"})
    _sub(el, "mac", address=nic.mac)
    _sub(el, "source", bridge=nic.bridge)
    _sub(el, "target", dev=nic.tap)
    _sub(el, "model", type="virtio")
    if nic.mtu:
        _sub(el, "mtu", size=str(nic.mtu))
    return el


def interface_xml(nic: Nic) -> str:
    """One ``<interface>`` for hot-plugging (attachDevice / detachDevice)."""
    return ET.tostring(interface_element(nic), encoding="unicode")


# ------------------------------------------------------------------ reading


def labels_of(xml: str) -> dict[str, str]:
    """The ``<metadata>`` labels nubo wrote (empty for a domain it did not make)."""
    root = ET.fromstring(xml)
    inst = root.find(f"metadata/{{{NS}}}instance")
    if inst is None:
        return {}
    return {child.tag.split("}", 1)[-1]: child.text or "" for child in inst}


def disk_paths(xml: str) -> list[str]:
    """The files of the domain's disks, in order."""
    root = ET.fromstring(xml)
    return [str(s.get("file")) for s in root.findall("devices/disk/source")
            if s.get("file")]


def interface_of(xml: str, mac: str) -> str | None:
    """The live ``<interface>`` with MAC ``mac`` (to detach it), or None."""
    root = ET.fromstring(xml)
    for iface in root.findall("devices/interface"):
        found = iface.find("mac")
        if found is not None and str(found.get("address", "")).lower() == mac.lower():
            return ET.tostring(iface, encoding="unicode")
    return None


def disk_targets(xml: str) -> list[str]:
    """The guest's names of the domain's disks (``vda``, ``hdd``), in order."""
    root = ET.fromstring(xml)
    return [str(t.get("dev")) for t in root.findall("devices/disk/target") if t.get("dev")]


def interface_targets(xml: str) -> list[tuple[str, str | None]]:
    """``(host device, MAC)`` of each of the domain's interfaces that has a device."""
    root = ET.fromstring(xml)
    out: list[tuple[str, str | None]] = []
    for iface in root.findall("devices/interface"):
        target, mac = iface.find("target"), iface.find("mac")
        if target is not None and target.get("dev"):
            out.append((str(target.get("dev")),
                        str(mac.get("address")) if mac is not None else None))
    return out


def bridges_of(xml: str) -> list[str]:
    """The bridges the domain's interfaces are on."""
    root = ET.fromstring(xml)
    return [str(s.get("bridge")) for s in root.findall("devices/interface/source")
            if s.get("bridge")]
