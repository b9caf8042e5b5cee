"""The libvirt driver's domain XML, worked out from an instance (pure functions)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from nubo.compute.agent.libvirt import domain_xml, guest

UUID = "6f1c9a9e-3c55-4f0e-9d3b-0a1b2c3d4e5f"
NET = "9a8b7c6d-1111-2222-3333-444455556666"
PORT = "0123456789abcdef-port"


def instance(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uuid": UUID, "display_name": "web", "project_id": "p1", "user_id": "u1",
        "image_ref": "img-1",
        "flavor": {"name": "m1.nano", "vcpus": 2, "ram": 128, "disk": 1},
        "system_metadata": {}, "config_drive": "",
        "network_info": [{"id": PORT, "address": "fa:16:3e:11:22:33",
                          "network": {"id": NET, "label": "private", "mtu": 1450},
                          "devname": f"tap{PORT[:11]}"}],
    }
    base.update(over)
    return base


PATHS = guest.InstancePaths(Path("/srv/instances/host1"))


def parse(inst: dict[str, Any], **kw: Any) -> ET.Element:
    spec = guest.spec_of(inst, PATHS, virt_type=kw.pop("virt_type", "qemu"), host="host1", owner="c0ffee00",
                         **kw)
    return ET.fromstring(domain_xml.render(spec))


def test_flavor_sizes_name_and_uuid() -> None:
    root = parse(instance())
    assert root.get("type") == "qemu"
    assert root.findtext("name") == f"nubo-{UUID}"
    assert root.findtext("uuid") == UUID
    assert root.findtext("vcpu") == "2"
    memory = root.find("memory")
    assert memory is not None and memory.text == "128" and memory.get("unit") == "MiB"


def test_acpi_smbios_and_serial_console_log() -> None:
    root = parse(instance())
    assert root.find("features/acpi") is not None
    entries = {e.get("name"): e.text for e in root.findall("sysinfo/system/entry")}
    assert entries["manufacturer"] == "OpenStack Foundation"
    assert entries["product"] == "OpenStack Nova"
    assert entries["serial"] == UUID
    assert root.find("os/smbios").get("mode") == "sysinfo"  # type: ignore[union-attr]
    log = root.find("devices/serial/log")
    assert log is not None
    assert log.get("file") == f"/srv/instances/host1/{UUID}/console.log"


def test_no_usb_controller_without_usb_devices() -> None:
    root = parse(instance())
    usb = root.findall("devices/controller[@type='usb']")
    assert [c.get("model") for c in usb] == ["none"]


def test_disk_boot_with_a_virtio_overlay() -> None:
    root = parse(instance())
    assert root.find("os/boot").get("dev") == "hd"  # type: ignore[union-attr]
    assert root.find("os/kernel") is None
    (disk,) = root.findall("devices/disk")
    assert disk.find("source").get("file") == f"/srv/instances/host1/{UUID}/disk"  # type: ignore[union-attr]
    assert disk.find("target").get("bus") == "virtio"  # type: ignore[union-attr]
    assert disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]


def test_direct_kernel_boot_when_the_image_names_a_kernel() -> None:
    inst = instance(system_metadata={"image_kernel_id": "k1", "image_ramdisk_id": "r1"})
    root = parse(inst, base_of={"k1": Path("/b/k1"), "r1": Path("/b/r1")})
    assert root.findtext("os/kernel") == "/b/k1"
    assert root.findtext("os/initrd") == "/b/r1"
    assert root.findtext("os/cmdline") == guest.DEFAULT_CMDLINE
    assert root.find("os/boot") is None


def test_the_image_command_line_wins() -> None:
    inst = instance(system_metadata={"image_kernel_id": "k1",
                                     "image_os_command_line": "console=ttyS0 quiet"})
    root = parse(inst, base_of={"k1": Path("/b/k1")})
    assert root.findtext("os/cmdline") == "console=ttyS0 quiet"
    assert root.find("os/initrd") is None


def test_interfaces_on_the_network_bridge_with_neutron_tap_names() -> None:
    root = parse(instance())
    (iface,) = root.findall("devices/interface")
    assert iface.get("type") == "bridge"
    assert iface.find("mac").get("address") == "fa:16:3e:11:22:33"  # type: ignore[union-attr]
    assert iface.find("source").get("bridge") == f"brq{NET[:11]}"  # type: ignore[union-attr]
    assert iface.find("target").get("dev") == f"tap{PORT[:11]}"  # type: ignore[union-attr]
    assert iface.find("model").get("type") == "virtio"  # type: ignore[union-attr]
    assert iface.find("mtu").get("size") == "1450"  # type: ignore[union-attr]
    assert len(f"brq{NET[:11]}") <= 15


def test_no_network_no_interface_and_no_mtu_without_one() -> None:
    assert parse(instance(network_info=[])).findall("devices/interface") == []
    vif = {"id": PORT, "address": "fa:16:3e:00:00:01", "network": {"id": NET}}
    assert parse(instance(network_info=[vif])).find("devices/interface/mtu") is None


def test_config_drive_as_a_read_only_cdrom() -> None:
    root = parse(instance(), config_drive=True)
    cdrom = [d for d in root.findall("devices/disk") if d.get("device") == "cdrom"]
    assert len(cdrom) == 1
    assert cdrom[0].find("source").get("file").endswith(f"{UUID}/disk.config")  # type: ignore[union-attr]
    assert cdrom[0].find("readonly") is not None


def test_kvm_gets_a_host_cpu_model_and_qemu_does_not() -> None:
    assert parse(instance(), virt_type="kvm").find("cpu") is not None
    assert parse(instance()).find("cpu") is None


def test_labels_read_back() -> None:
    xml = domain_xml.render(guest.spec_of(instance(), PATHS, virt_type="qemu", host="h9",
                                              owner="c0ffee00"))
    labels = domain_xml.labels_of(xml)
    assert labels["host"] == "h9" and labels["owner"] == "c0ffee00"
    assert labels["flavor"] == "m1.nano"
    assert labels["name"] == "web"
    assert domain_xml.labels_of("<domain><name>other</name></domain>") == {}


def test_rescue_boots_the_rescue_disk_first() -> None:
    spec = guest.spec_of(instance(), PATHS, virt_type="qemu", host="h", owner="o",
                         config_drive=True)
    rescued = guest.rescue_spec(spec, Path("/r/disk.rescue"), None)
    root = ET.fromstring(domain_xml.render(rescued))
    disks = [(d.find("target").get("dev"), d.find("source").get("file"))  # type: ignore[union-attr]
             for d in root.findall("devices/disk")]
    assert disks[0] == ("vda", "/r/disk.rescue")
    assert disks[1] == ("vdb", f"/srv/instances/host1/{UUID}/disk")
    assert disks[2][0] == "hda"


def test_interface_lookup_by_mac_and_bridges() -> None:
    xml = domain_xml.render(guest.spec_of(instance(), PATHS, virt_type="qemu", host="h",
                                                     owner="o"))
    assert domain_xml.interface_of(xml, "FA:16:3E:11:22:33") is not None
    assert domain_xml.interface_of(xml, "fa:16:3e:00:00:00") is None
    assert domain_xml.bridges_of(xml) == [f"brq{NET[:11]}"]
    assert domain_xml.disk_paths(xml) == [f"/srv/instances/host1/{UUID}/disk"]


def test_config_drive_wanted() -> None:
    assert guest.wants_config_drive({"config_drive": "True"}, False)
    assert guest.wants_config_drive({"config_drive": ""}, True)
    assert not guest.wants_config_drive({"config_drive": ""}, False)
    assert not guest.wants_config_drive({"config_drive": None}, False)
    assert guest.wants_config_drive(
        {"system_metadata": {"image_img_config_drive": "mandatory"}}, False)


def test_the_image_shutdown_timeout_is_kept_with_the_domain() -> None:
    inst = instance(system_metadata={"image_os_shutdown_timeout": "45"})
    xml = domain_xml.render(guest.spec_of(inst, PATHS, virt_type="qemu", host="h",
                                                     owner="o"))
    assert domain_xml.labels_of(xml)["shutdown_timeout"] == "45"
    plain = domain_xml.render(guest.spec_of(instance(), PATHS, virt_type="qemu", host="h",
                                                     owner="o"))
    assert "shutdown_timeout" not in domain_xml.labels_of(plain)
