"""A nubo with the libvirt compute driver, booting real QEMU guests (TCG).

The cloud's only compute host is this machine (its hostname), on the system
libvirtd (started by the agent when it is not running). Guests boot a tiny image
of zeros, which QEMU starts into its BIOS ("No bootable device"): enough for the
lifecycle; the guest image nubo builds is booted once, for kernel boot and the
config drive. Every domain, file and bridge a test leaves is removed at the end.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud, free_port
from tests.conftest import test_env
from tests.e2e.conftest import root_net_missing

URI = "qemu:///system"
ZERO_IMAGE = "nb-zero"
SHUTDOWN_TIMEOUT = 3


def libvirt_missing() -> str | None:
    """Why libvirt guests cannot run here (None: they can)."""
    reason = root_net_missing("qemu-img", "qemu-system-x86_64", "virsh")
    if reason:
        return reason
    if not (shutil.which("libvirtd") or Path("/usr/sbin/libvirtd").exists()):
        return "needs libvirtd (make sys-deps installs libvirt-daemon-system)"
    if importlib.util.find_spec("libvirt") is None:
        return "needs libvirt-python (pip install -e '.[libvirt]')"
    return None


def virsh(*args: str, check: bool = True) -> str:
    result = subprocess.run(["virsh", "-q", "-c", URI, *args], capture_output=True,
                            text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"virsh {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def domain(server_id: str) -> str:
    return f"nubo-{server_id}"


def domain_state(server_id: str) -> str | None:
    """virsh's state of the server's domain; None when there is none."""
    result = subprocess.run(["virsh", "-q", "-c", URI, "domstate", domain(server_id)],
                            capture_output=True, text=True, timeout=120)
    return result.stdout.strip() if result.returncode == 0 else None


def poll(check: Callable[[], Any], *, timeout: float = 120, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def _warm_libvirt() -> None:
    """libvirtd running and its QEMU capabilities probed (a minute on a fresh host
    under TCG), before the cloud's 60-second start deadline runs."""
    import asyncio

    from nubo.compute.agent.libvirt import daemons

    asyncio.run(daemons.ensure_running(URI))
    daemons.open_dev_kvm()
    virsh("domcapabilities", "--virttype", "qemu")


def scrub(state: Path) -> None:
    """Domains whose disks are in ``state``, and bridges the driver made that are left
    empty (a test that failed half-way)."""
    for name in virsh("list", "--all", "--name", check=False).split():
        if not name.startswith("nubo-"):
            continue
        if str(state) in virsh("domblklist", name, check=False):
            virsh("destroy", name, check=False)
            virsh("undefine", name, "--managed-save", check=False)
            Path(f"/var/log/libvirt/qemu/{name}.log").unlink(missing_ok=True)
    links = json.loads(subprocess.run(["ip", "-j", "-d", "link", "show", "type", "bridge"],
                                      capture_output=True, text=True).stdout or "[]")
    for link in links:
        if link.get("ifalias") == "nubo-compute" and link["ifname"].startswith("brq"):
            ports = subprocess.run(["ip", "-j", "link", "show", "master", link["ifname"]],
                                   capture_output=True, text=True).stdout
            if json.loads(ports or "[]") == []:
                subprocess.run(["ip", "link", "del", link["ifname"]], capture_output=True)


@pytest.fixture(scope="session")
def lv_cloud() -> Iterator[Cloud]:
    reason = libvirt_missing()
    if reason:
        pytest.skip(reason)
    _warm_libvirt()
    with tempfile.TemporaryDirectory(prefix="nubo-e2e-libvirt-") as tmp:
        state = Path(tmp) / "state"
        env = {**test_env(), "NUBO_COMPUTE__DRIVER": "libvirt",
               "NUBO_COMPUTE__SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
               "NUBO_COMPUTE__ALLOW_RESIZE_TO_SAME_HOST": "true",
               "NUBO_COMPUTE__GUEST_IMAGE": "never",
               "NUBO_COMPUTE__SYNC_POWER_STATE_INTERVAL": "2"}
        cloud = Cloud(state, free_port(), f"sqlite:///{state}/nubo.db", env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()
            scrub(state)


@pytest.fixture(scope="session")
def conn(lv_cloud: Cloud) -> Any:
    return lv_cloud.connect()


@pytest.fixture(scope="session")
def zero_image(conn: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """1 MiB of zeros: QEMU boots it into the BIOS, which says so on the console."""
    path = tmp_path_factory.mktemp("images") / "zero.raw"
    path.write_bytes(b"\0" * (1 << 20))
    image = conn.image.create_image(name=ZERO_IMAGE, filename=str(path), disk_format="raw",
                                    container_format="bare", visibility="public",
                                    allow_duplicates=True)
    return conn.image.wait_for_status(image, "active")


@pytest.fixture(scope="session")
def private_net(conn: Any) -> Any:
    """A network (VXLAN, MTU 1450) with a subnet; it goes with the cloud."""
    net = conn.network.create_network(name="nb-lv-net")
    conn.network.create_subnet(network_id=net.id, cidr="10.250.60.0/24", ip_version=4,
                               name="nb-lv-subnet")
    return net
