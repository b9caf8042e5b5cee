"""The guest image boots under TCG and does what a cloud guest must: DHCP with the
network's MTU and routes, metadata (service, with the dated fallback, or config
drive), hostname, user data, ssh as root with the injected key and per-instance
host keys, a ready marker, and a clean power-off."""

from __future__ import annotations

import re

from tests.e2e.guest.conftest import ADDRESSES, HOSTNAMES, MACS, MTU, SERVER_IP, Lab
from tests.e2e.guest.qemu import Guest

Booted = tuple[Lab, dict[str, Guest]]


def test_ready_marker_names_the_guest(lab: Booted) -> None:
    _, guests = lab
    for name, guest in guests.items():
        ready = re.search(r"nubo-guest ready: hostname=(\S+) address=(\S+)", guest.text())
        assert ready, guest.text()[-2000:]
        assert ready.group(1) == HOSTNAMES[name]
        assert ready.group(2) == f"{ADDRESSES[name]}/24"


def test_dhcp_lease_with_mtu_and_classless_routes(lab: Booted) -> None:
    the_lab, guests = lab
    leases = the_lab.leases.read_text()
    for name, guest in guests.items():
        assert f"{MACS[name]} {ADDRESSES[name]}" in leases
        assert f"eth0 {ADDRESSES[name]}/24 mtu {MTU}" in guest.text()
    assert the_lab.ssh("meta", "cat /sys/class/net/eth0/mtu").strip() == str(MTU)
    routes = the_lab.ssh("meta", "ip route")
    # option 121 wins over the router option: the metadata route and the default
    assert f"169.254.169.254 via {SERVER_IP} dev eth0" in routes
    assert "default via 10.250.241.1 dev eth0" in routes


def test_metadata_service_falls_back_to_the_dated_version(lab: Booted) -> None:
    the_lab, guests = lab
    log = the_lab.metadata_log.read_text()
    meta_ip = ADDRESSES["meta"]
    assert re.search(rf'{meta_ip} .*"GET /openstack/latest/meta_data.json HTTP/1.1" 404', log)
    assert re.search(rf'{meta_ip} .*"GET /openstack/2013-10-17/meta_data.json HTTP/1.1" 200',
                     log)
    assert re.search(rf'{meta_ip} .*"GET /openstack/2013-10-17/user_data HTTP/1.1" 200', log)
    assert "metadata from the metadata-service (openstack/2013-10-17)" in guests["meta"].text()
    assert the_lab.ssh("meta", "hostname").strip() == "nbg-meta"
    assert "nbg-meta.novalocal" in the_lab.ssh("meta", "cat /etc/hosts")


def test_config_drive_wins_over_the_metadata_service(lab: Booted) -> None:
    the_lab, guests = lab
    assert "metadata from the config-drive (openstack/latest)" in guests["disk"].text()
    assert ADDRESSES["disk"] not in the_lab.metadata_log.read_text()
    assert the_lab.ssh("disk", "hostname").strip() == "nbg-disk"


def test_user_data_script_ran(lab: Booted) -> None:
    the_lab, guests = lab
    for name, guest in guests.items():
        assert "nbg-user-data-done" in guest.text()
        out = the_lab.ssh(name, "cat /root/user-data.out").strip()
        assert out == f"user data ran on {HOSTNAMES[name]} as uid 0"


def test_ssh_as_root_with_the_injected_key_and_per_instance_host_keys(lab: Booted) -> None:
    the_lab, _ = lab
    # known_hosts holds only what each console printed, and checking is strict
    assert the_lab.ssh("meta", "id -u").strip() == "0"
    assert the_lab.ssh("meta", "cat /root/.ssh/authorized_keys").strip() == the_lab.public_key
    keys = {name: the_lab.ssh(name, "dropbearkey -y -f /etc/dropbear/dropbear_ed25519_host_key")
            for name in ADDRESSES}
    ed25519 = {name: re.search(r"ssh-ed25519 (\S+)", text).group(1)  # type: ignore[union-attr]
               for name, text in keys.items()}
    assert ed25519["meta"] != ed25519["disk"]


def test_password_login_is_refused(lab: Booted) -> None:
    the_lab, _ = lab
    import subprocess

    done = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
         "-o", f"UserKnownHostsFile={the_lab.workdir / 'known_hosts'}",
         "-o", "StrictHostKeyChecking=yes", f"root@{ADDRESSES['meta']}", "true"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 255
    assert "Permission denied" in done.stderr


def test_acpi_power_button_powers_off(lab: Booted) -> None:
    _, guests = lab
    guest = guests["meta"]
    guest.qmp("system_powerdown")
    assert guest.wait_exit(120) == 0, guest.text()[-2000:]
    assert "nubo-guest: shutting down" in guest.text()


def test_poweroff_command_powers_off(lab: Booted) -> None:
    the_lab, guests = lab
    guest = guests["disk"]
    the_lab.ssh("disk", "poweroff")
    assert guest.wait_exit(120) == 0, guest.text()[-2000:]
    assert "nubo-guest: shutting down" in guest.text()
