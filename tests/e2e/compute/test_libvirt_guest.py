"""The guest image nubo builds, booted by the libvirt driver the way its images ask:
the kernel and ramdisk images directly (``kernel_id``/``ramdisk_id``, with the
image's ``os_command_line``), its metadata from a config drive (no network), its
diagnostics read from libvirt, and stopped cleanly through the ACPI power button."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.e2e.compute.conftest import domain, domain_state, poll, virsh

BOOT = 300.0            # TCG on a loaded 2-core machine
USER_DATA = "#!/bin/sh\necho nb-lv-user-data-ran > /dev/console\n"


@pytest.fixture(scope="module")
def guest_images(conn: Any) -> dict[str, Any]:
    """The built guest (from the cache when it was built before) as three images:
    kernel (aki), ramdisk (ari) and the disk that names them."""
    from nubo.guest import build, register

    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("needs apt-get and dpkg-deb (the guest is made of Debian packages)")
    try:
        image = build.build(build.default_cache_dir())
    except build.BuildFailed as e:
        pytest.skip(f"the guest image cannot be built here: {e.message}")
    bodies, files = register.bodies(image), register.files(image)
    made: dict[str, Any] = {}
    for role in ("kernel", "ramdisk"):
        body = bodies[role]
        made[role] = conn.image.create_image(
            name=f"nb-lv-{role}", filename=str(files[role]), disk_format=body["disk_format"],
            container_format=body["container_format"], visibility="private", wait=True)
    made["disk"] = conn.image.create_image(
        name="nb-lv-guest", filename=str(files["disk"]), disk_format="qcow2",
        container_format="bare", visibility="private", wait=True,
        kernel_id=made["kernel"].id, ramdisk_id=made["ramdisk"].id,
        os_command_line=image.command_line, os_shutdown_timeout="60")
    return made


def console(conn: Any, server: Any) -> str:
    return str(conn.compute.get_server_console_output(server)["output"])


def test_kernel_boot_with_a_config_drive_and_a_clean_stop(
        lv_cloud: Cloud, conn: Any, guest_images: dict[str, Any], tmp_path: Path) -> None:
    user_data = tmp_path / "user-data"
    user_data.write_text(USER_DATA)
    made = lv_cloud.cli_json("server", "create", "--image", guest_images["disk"].id,
                             "--flavor", "m1.nano", "--nic", "none", "--config-drive", "true",
                             "--user-data", str(user_data), "--wait", "nb-lv-guest")
    server = conn.compute.get_server(made["id"])
    try:
        root = ET.fromstring(virsh("dumpxml", domain(server.id)))
        assert root.findtext("os/kernel", "").endswith(f"/_base/{guest_images['kernel'].id}")
        assert root.findtext("os/initrd", "").endswith(f"/_base/{guest_images['ramdisk'].id}")
        assert root.findtext("os/cmdline") == "console=ttyS0"
        cdroms = [d for d in root.findall("devices/disk") if d.get("device") == "cdrom"]
        assert len(cdroms) == 1

        ready = poll(lambda: "nubo-guest ready" in (out := console(conn, server)) and out,
                     timeout=BOOT, what="the guest's ready marker")
        assert "metadata from the config-drive" in ready
        assert "hostname=nb-lv-guest" in ready
        assert "nb-lv-user-data-ran" in ready
        # diagnostics: libvirt's figures of the running guest (its disk was read)
        diag = conn.compute.get_server_diagnostics(server)
        assert diag.driver == "libvirt" and diag.hypervisor in ("qemu", "kvm")
        assert diag.state == "running" and diag.has_config_drive is True
        assert diag.num_disks == 2 and diag.num_nics == 0            # root disk, config drive
        assert diag.disk_details[0]["read_bytes"] > 0
        assert diag.cpu_details[0]["time"] > 0 and diag.memory_details["maximum"] > 0

        conn.compute.stop_server(server)
        stopped = conn.compute.wait_for_server(server, status="SHUTOFF", wait=BOOT)
        assert stopped.power_state == 4
        assert domain_state(server.id) == "shut off"
        # powered off by the guest itself (the ACPI button), not destroyed
        assert "nubo-guest: shutting down" in console(conn, server)
        diag = conn.compute.get_server_diagnostics(server)
        assert diag.state == "shutdown" and diag.cpu_details[0]["time"] is None
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=BOOT)
    assert domain_state(server.id) is None
