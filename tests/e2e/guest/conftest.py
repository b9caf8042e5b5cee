"""The guest image booted under plain QEMU (TCG), as the data-plane research did.

A namespace holds a bridge with the guests' taps, dnsmasq (DHCP with MTU 1450
and classless static routes) and a metadata service at 169.254.169.254 (a static
tree served over HTTP). A veth joins the bridge to this machine's root namespace,
from which the tests ssh into the guests.

Two guests boot at once, to spend the TCG boot time once:
- ``meta``: kernel and ramdisk given to QEMU (as kernel_id/ramdisk_id boots), its
  metadata from the service, which offers only the dated version 2013-10-17;
- ``disk``: booted from the disk image, with a config drive (openstack/latest).

``NBG_KEEP=1`` keeps the work directory (consoles, dnsmasq and metadata logs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nubo.guest import build, disk
from tests.e2e.conftest import requires_root_net
from tests.e2e.guest.qemu import Guest

SUBNET = "10.250.241"
HOST_IP = f"{SUBNET}.254"      # this machine's end of the veth: ssh comes from here
SERVER_IP = f"{SUBNET}.2"      # dnsmasq and the metadata service, in the namespace
GATEWAY = f"{SUBNET}.1"        # announced; nothing answers there
METADATA_IP = "169.254.169.254"
MTU = 1450
BOOT_TIMEOUT = 300.0           # TCG on a loaded 2-core machine
ADDRESSES = {"meta": f"{SUBNET}.10", "disk": f"{SUBNET}.11"}
MACS = {"meta": "fa:16:3e:6e:62:0a", "disk": "fa:16:3e:6e:62:0b"}
HOSTNAMES = {"meta": "nbg-meta", "disk": "nbg-disk"}
UUIDS = {"meta": "6e620a00-0000-4000-8000-000000000001",
         "disk": "6e620b00-0000-4000-8000-000000000002"}
USER_DATA = """#!/bin/sh
echo "user data ran on $(hostname) as uid $(id -u)" > /root/user-data.out
echo nbg-user-data-done
"""


def sh(*argv: str, timeout: float = 60) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: rc={done.returncode} {done.stderr.strip()}")
    return done.stdout


@pytest.fixture(scope="session")
def guest_image() -> build.GuestImage:
    """The guest, built (or found in the cache) as ``nubo guest-image build`` does."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("needs apt-get and dpkg-deb (the guest is made of Debian packages)")
    missing = disk.missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(sorted(set(missing.values())))} (make sys-deps)")
    return build.build()


@dataclass
class Lab:
    netns: str
    workdir: Path
    key: Path
    public_key: str

    @property
    def leases(self) -> Path:
        return self.workdir / "dnsmasq.leases"

    @property
    def metadata_log(self) -> Path:
        return self.workdir / "metadata.log"

    def ssh(self, name: str, command: str, timeout: float = 60) -> str:
        return sh("ssh", "-i", str(self.key), "-o", "BatchMode=yes",
                  "-o", f"UserKnownHostsFile={self.workdir / 'known_hosts'}",
                  "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=30",
                  f"root@{ADDRESSES[name]}", command, timeout=timeout)


class Cleanup:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.netns: list[str] = []
        self.links: list[str] = []

    def run(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for link in self.links:
            subprocess.run(["ip", "link", "del", link], capture_output=True)
        for ns in self.netns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _spawn(cleanup: Cleanup, netns: str, argv: list[str], log: Path) -> None:
    with log.open("ab") as out:
        cleanup.procs.append(subprocess.Popen(["ip", "netns", "exec", netns, *argv],
                                              stdout=out, stderr=out,
                                              stdin=subprocess.DEVNULL))


def _network(cleanup: Cleanup, netns: str) -> None:
    """The namespace, its bridge with two taps, and the veth to the root namespace."""
    if sh("ip", "-4", "route", "show", f"{SUBNET}.0/24").strip():
        pytest.skip(f"{SUBNET}.0/24 is already routed on this machine")
    sh("ip", "netns", "add", netns)
    cleanup.netns.append(netns)
    host_end = f"nbgv{os.getpid() % 100000}"

    def ns(*argv: str) -> str:
        return sh("ip", "netns", "exec", netns, *argv)

    ns("ip", "link", "add", "nbgbr0", "type", "bridge")
    ns("ip", "addr", "add", f"{SERVER_IP}/24", "dev", "nbgbr0")
    ns("ip", "addr", "add", f"{METADATA_IP}/32", "dev", "nbgbr0")
    ns("ip", "link", "set", "nbgbr0", "up")
    ns("ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", "nbgp0",
       "netns", netns)
    cleanup.links.append(host_end)
    ns("ip", "link", "set", "nbgp0", "master", "nbgbr0", "up")
    sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", host_end)
    sh("ip", "link", "set", host_end, "up")
    for tap in ("nbgtap0", "nbgtap1"):
        ns("ip", "tuntap", "add", tap, "mode", "tap")
        ns("ip", "link", "set", tap, "master", "nbgbr0", "up")


def _dnsmasq(cleanup: Cleanup, netns: str, work: Path) -> None:
    argv = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--port=0",
            "--user=root", "--interface=nbgbr0", "--bind-interfaces",
            f"--dhcp-range={SUBNET}.100,{SUBNET}.150,255.255.255.0,1h",
            f"--dhcp-leasefile={work / 'dnsmasq.leases'}", "--log-dhcp",
            f"--dhcp-option=option:mtu,{MTU}", f"--dhcp-option=option:router,{GATEWAY}",
            "--dhcp-option=option:classless-static-route,"
            f"{METADATA_IP}/32,{SERVER_IP},0.0.0.0/0,{GATEWAY}"]
    argv += [f"--dhcp-host={MACS[n]},{ADDRESSES[n]}" for n in MACS]
    _spawn(cleanup, netns, argv, work / "dnsmasq.log")


def meta_data(name: str, public_key: str) -> dict[str, object]:
    """An OpenStack meta_data.json, as Nova's metadata service writes it."""
    return {"uuid": UUIDS[name],
            "name": name, "hostname": f"{HOSTNAMES[name]}.novalocal",
            "public_keys": {"nbg-key": public_key + "\n"},
            "keys": [{"name": "nbg-key", "type": "ssh", "data": public_key + "\n"}],
            "launch_index": 0, "availability_zone": "nova", "project_id": "nbg",
            "meta": {}, "devices": []}


def _write_openstack_tree(root: Path, version: str, meta: dict[str, object]) -> None:
    tree = root / "openstack" / version
    tree.mkdir(parents=True)
    (tree / "meta_data.json").write_text(json.dumps(meta))
    (tree / "user_data").write_text(USER_DATA)


def _metadata_service(cleanup: Cleanup, netns: str, work: Path, public_key: str) -> None:
    """Only the dated version: the guest must fall back from ``latest``."""
    root = work / "metadata"
    _write_openstack_tree(root, "2013-10-17", meta_data("meta", public_key))
    _spawn(cleanup, netns, ["python3", "-u", "-m", "http.server", "80", "--bind", METADATA_IP,
                            "--directory", str(root)], work / "metadata.log")


def _config_drive(work: Path, public_key: str) -> Path:
    root = work / "config-drive"
    _write_openstack_tree(root, "latest", meta_data("disk", public_key))
    iso = work / "config-drive.iso"
    sh("genisoimage", "-o", str(iso), "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
       "-quiet", "-J", "-r", "-V", "config-2", str(root))
    return iso


def _guests(work: Path, netns: str, image: build.GuestImage, config_drive: Path
            ) -> dict[str, Guest]:
    for name in ("meta", "disk"):
        sh("qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image.disk), "-F", "qcow2",
           str(work / f"{name}.qcow2"))
    meta = Guest("meta", work, netns, "nbgtap0", MACS["meta"],
                 ["-kernel", str(image.kernel), "-initrd", str(image.ramdisk),
                  "-append", image.command_line],
                 drives=[f"file={work / 'meta.qcow2'},if=virtio,format=qcow2"],
                 extra=["-device", "virtio-rng-pci"])
    disk_guest = Guest("disk", work, netns, "nbgtap1", MACS["disk"], [],
                       drives=[f"file={work / 'disk.qcow2'},if=virtio,format=qcow2",
                               f"file={config_drive},media=cdrom,if=ide,format=raw,"
                               "readonly=on"])
    return {"meta": meta, "disk": disk_guest}


def _known_hosts(lab: Lab, guests: dict[str, Guest]) -> None:
    """The host keys each guest printed on its console, as ssh's known hosts."""
    lines = []
    for name, guest in guests.items():
        text = guest.text()
        block = text.split("-----BEGIN SSH HOST KEY KEYS-----")[1].split(
            "-----END SSH HOST KEY KEYS-----")[0]
        for line in block.splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0].startswith(("ssh-", "ecdsa-")):
                lines.append(f"{ADDRESSES[name]} {fields[0]} {fields[1]}")
    (lab.workdir / "known_hosts").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def lab(guest_image: build.GuestImage) -> Iterator[tuple[Lab, dict[str, Guest]]]:
    """The network, the services and both guests, booted and ready."""
    requires_root_net("qemu-system-x86_64", "qemu-img", "dnsmasq", "ssh", "ssh-keygen",
                      "genisoimage", "python3")
    cleanup = Cleanup()
    work = Path(tempfile.mkdtemp(prefix="nbguest-"))
    netns = f"nbguest{os.getpid()}"
    try:
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nbg@e2e",
           "-f", str(work / "id_ed25519"))
        public_key = (work / "id_ed25519.pub").read_text().strip()
        the_lab = Lab(netns, work, work / "id_ed25519", public_key)
        _network(cleanup, netns)
        _dnsmasq(cleanup, netns, work)
        _metadata_service(cleanup, netns, work, public_key)
        guests = _guests(work, netns, guest_image, _config_drive(work, public_key))
        for guest in guests.values():
            guest.start()
            assert guest.proc is not None
            cleanup.procs.append(guest.proc)
        for guest in guests.values():
            guest.wait_for("nubo-guest ready", BOOT_TIMEOUT)
        _known_hosts(the_lab, guests)
        yield the_lab, guests
    finally:
        cleanup.run()
        if not os.environ.get("NBG_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
