"""One server's life on the libvirt driver, as its user drives it through the
openstack CLI and openstacksdk, checked against what libvirt and the host have.

One guest (a disk of zeros that QEMU boots into its BIOS) goes through every
action in turn; the tests run in file order and share it.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.e2e.compute.conftest import domain, domain_state, poll, virsh

WAIT = 180


@pytest.fixture(scope="module")
def server(lv_cloud: Cloud, conn: Any, zero_image: Any, private_net: Any) -> Any:
    made = lv_cloud.cli_json("server", "create", "--image", zero_image.id, "--flavor",
                             "m1.nano", "--network", private_net.id, "--wait", "nb-lv-1")
    return conn.compute.get_server(made["id"])


def instance_dir(lv_cloud: Cloud, server: Any) -> Path:
    return lv_cloud.state_dir / "instances" / server.compute_host / server.id


def wait(conn: Any, server: Any, status: str) -> Any:
    return conn.compute.wait_for_server(server, status=status, wait=WAIT, interval=0.5)


def link(name: str) -> dict[str, Any] | None:
    out = subprocess.run(["ip", "-j", "-d", "link", "show", "dev", name],
                         capture_output=True, text=True)
    found = json.loads(out.stdout or "[]") if out.returncode == 0 else []
    return found[0] if found else None


def dom_xml(server: Any) -> ET.Element:
    return ET.fromstring(virsh("dumpxml", domain(server.id)))


def boots(console: str) -> int:
    return console.count("Machine UUID")


def test_the_server_is_a_running_domain(lv_cloud: Cloud, conn: Any, server: Any,
                                        private_net: Any) -> None:
    assert server.status == "ACTIVE"
    assert server.power_state == 1
    assert domain_state(server.id) == "running"
    root = dom_xml(server)
    assert root.findtext("vcpu") == "1"
    assert int(root.findtext("memory") or 0) == 128 * 1024          # KiB
    assert root.find("features/acpi") is not None
    disk = instance_dir(lv_cloud, server) / "disk"
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(disk)],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["format"] == "qcow2"
    assert info["virtual-size"] == 1024 ** 3                         # the flavor's 1 GiB
    assert "/_base/" in info["backing-filename"]


def test_the_port_is_a_tap_on_the_network_bridge(conn: Any, server: Any,
                                                 private_net: Any) -> None:
    (port,) = list(conn.network.ports(device_id=server.id))
    tap = link(f"tap{port.id[:11]}")
    assert tap is not None, "no tap for the port"
    assert tap["master"] == f"brq{private_net.id[:11]}"
    assert tap["mtu"] == private_net.mtu == 1450
    assert port.mac_address in virsh("domiflist", domain(server.id))
    assert poll(lambda: conn.network.get_port(port.id).status == "ACTIVE", what="port up")


def console_when(read: Any, ready: Any, what: str) -> str:
    """The console output once ``ready(output)`` holds."""
    def check() -> str | None:
        out = str(read())
        return out if ready(out) else None

    found: str = poll(check, what=what)
    return found


def test_console_output(lv_cloud: Cloud, server: Any) -> None:
    shown = console_when(lambda: lv_cloud.cli("console", "log", "show", server.id).stdout,
                         lambda out: "Booting from Hard Disk" in out, "BIOS on the console")
    assert "SeaBIOS" in shown
    assert boots(shown) >= 1


def test_stop_and_start(conn: Any, server: Any) -> None:
    conn.compute.stop_server(server)
    stopped = wait(conn, server, "SHUTOFF")
    assert stopped.power_state == 4
    assert domain_state(server.id) == "shut off"
    conn.compute.start_server(server)
    started = wait(conn, server, "ACTIVE")
    assert started.power_state == 1
    assert domain_state(server.id) == "running"


def test_soft_and_hard_reboot(lv_cloud: Cloud, conn: Any, server: Any) -> None:
    before = boots(conn.compute.get_server_console_output(server)["output"])
    conn.compute.reboot_server(server, "SOFT")     # no OS to hear ACPI: reset after 3 s
    poll(lambda: conn.compute.get_server(server.id).task_state is None, timeout=WAIT,
         what="soft reboot done")
    # the guest's BIOS must show its boot before the hard reboot: a destroy can
    # otherwise cut that boot short before it printed anything (under TCG on a busy host)
    console_when(lambda: conn.compute.get_server_console_output(server)["output"],
                 lambda out: boots(out) >= before + 1, "a boot after the soft reboot")
    conn.compute.reboot_server(server, "HARD")
    poll(lambda: conn.compute.get_server(server.id).task_state is None, timeout=WAIT,
         what="hard reboot done")
    assert wait(conn, server, "ACTIVE").power_state == 1
    console = console_when(lambda: conn.compute.get_server_console_output(server)["output"],
                           lambda out: boots(out) >= before + 2, "two more boots")
    assert boots(console) >= before + 2


def test_pause_and_unpause(conn: Any, server: Any) -> None:
    conn.compute.pause_server(server)
    assert wait(conn, server, "PAUSED").power_state == 3
    assert domain_state(server.id) == "paused"
    conn.compute.unpause_server(server)
    wait(conn, server, "ACTIVE")
    assert domain_state(server.id) == "running"


def test_suspend_saves_the_guest_and_resume_restores_it(conn: Any, server: Any) -> None:
    conn.compute.suspend_server(server)
    assert wait(conn, server, "SUSPENDED").power_state == 7
    assert domain_state(server.id) == "shut off"
    assert "yes" in virsh("dominfo", domain(server.id)).split("Managed save:")[1].split()[0]
    conn.compute.resume_server(server)
    wait(conn, server, "ACTIVE")
    assert domain_state(server.id) == "running"


def test_snapshot_is_a_standalone_qcow2(conn: Any, server: Any, tmp_path: Path) -> None:
    image = conn.compute.create_server_image(server, "nb-lv-snap", wait=True, timeout=WAIT)
    image = conn.image.get_image(image)
    assert image.status == "active"
    assert image.disk_format == "qcow2"
    data = tmp_path / "snap.qcow2"
    conn.image.download_image(image, output=str(data))
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(data)],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["format"] == "qcow2"
    assert "backing-filename" not in info
    assert info["virtual-size"] == 1024 ** 3
    assert wait(conn, server, "ACTIVE").power_state == 1
    assert domain_state(server.id) == "running"
    conn.image.delete_image(image)


def test_rescue_boots_a_fresh_disk_with_the_own_disk_second(lv_cloud: Cloud, conn: Any,
                                                            server: Any) -> None:
    conn.compute.rescue_server(server)
    wait(conn, server, "RESCUE")
    here = instance_dir(lv_cloud, server)
    rows = [line.split() for line in virsh("domblklist", domain(server.id)).splitlines()]
    assert rows == [["vda", f"{here}/disk.rescue"], ["vdb", f"{here}/disk"]]
    conn.compute.unrescue_server(server)
    wait(conn, server, "ACTIVE")
    assert virsh("domblklist", domain(server.id)).split() == ["vda", f"{here}/disk"]
    assert not (here / "disk.rescue").exists()


def _flavor(conn: Any, name: str, vcpus: int, ram: int, disk: int) -> Any:
    return conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk)


def _virtual_size(path: Path) -> int:
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(json.loads(out)["virtual-size"])


def test_resize_on_the_same_host_and_confirm(lv_cloud: Cloud, conn: Any,
                                             server: Any) -> None:
    bigger = _flavor(conn, "nb-lv-2", 2, 160, 2)
    conn.compute.resize_server(server, bigger.id)
    wait(conn, server, "VERIFY_RESIZE")
    here = instance_dir(lv_cloud, server)
    assert dom_xml(server).findtext("vcpu") == "2"
    assert _virtual_size(here / "disk") == 2 * 1024 ** 3
    assert here.with_name(f"{server.id}_resize").exists()
    conn.compute.confirm_server_resize(server)
    wait(conn, server, "ACTIVE")
    assert domain_state(server.id) == "running"
    assert not here.with_name(f"{server.id}_resize").exists()


def test_resize_and_revert(lv_cloud: Cloud, conn: Any, server: Any) -> None:
    larger = _flavor(conn, "nb-lv-3", 1, 192, 3)
    conn.compute.resize_server(server, larger.id)
    wait(conn, server, "VERIFY_RESIZE")
    here = instance_dir(lv_cloud, server)
    assert _virtual_size(here / "disk") == 3 * 1024 ** 3
    conn.compute.revert_server_resize(server)
    reverted = wait(conn, server, "ACTIVE")
    assert reverted.flavor.name == "nb-lv-2"
    assert dom_xml(server).findtext("vcpu") == "2"
    assert _virtual_size(here / "disk") == 2 * 1024 ** 3
    assert not here.with_name(f"{server.id}_resize").exists()
    assert domain_state(server.id) == "running"


def test_shelve_offloads_and_unshelve_boots_from_the_shelved_image(
        lv_cloud: Cloud, conn: Any, server: Any) -> None:
    here = instance_dir(lv_cloud, server)
    conn.compute.shelve_server(server)
    wait(conn, server, "SHELVED_OFFLOADED")
    (image,) = list(conn.image.images(name=f"{server.name}-shelved"))
    assert image.disk_format == "qcow2"
    assert domain_state(server.id) is None
    assert not here.exists()
    conn.compute.unshelve_server(server)
    back = wait(conn, server, "ACTIVE")
    assert domain_state(server.id) == "running"
    disk = instance_dir(lv_cloud, back) / "disk"
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(disk)],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["backing-filename"].endswith(f"/_base/{image.id}")  # the shelved snapshot
    assert info["backing-filename-format"] == "qcow2"


def test_delete_leaves_no_domain_no_files_no_bridge(lv_cloud: Cloud, conn: Any, server: Any,
                                                    private_net: Any, zero_image: Any) -> None:
    here = instance_dir(lv_cloud, server)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=WAIT)
    assert domain_state(server.id) is None
    assert not here.exists()
    assert not here.with_name(f"{server.id}_resize").exists()
    assert link(f"brq{private_net.id[:11]}") is None
    assert (here.parent / "_base" / zero_image.id).exists()      # the cache stays
