"""Cold migration between two libvirt hosts of one machine: this machine (the system
libvirtd) and ``nb-lv-b``, a network namespace with a libvirtd of its own
(``[network] netns_hosts``). The disk goes through the filesystem; the guest's
QEMU runs in the destination's namespace."""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud, free_port
from tests.conftest import test_env as base_env
from tests.e2e.compute.conftest import SHUTDOWN_TIMEOUT, ZERO_IMAGE, libvirt_missing, scrub

HOST_A = socket.gethostname()
HOST_B, NETNS_B = "nb-lv-b", "nblvb"
WAIT = 240


def private_uri(cloud: Cloud) -> str:
    return f"qemu+unix:///system?socket={cloud.state_dir}/libvirt/{HOST_B}/run/libvirt-sock"


def state_on(uri: str, server_id: str) -> str | None:
    done = subprocess.run(["virsh", "-q", "-c", uri, "domstate", f"nubo-{server_id}"],
                          capture_output=True, text=True, timeout=120)
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture(scope="module")
def two_hosts() -> Iterator[Cloud]:
    from nubo.compute.agent.libvirt.daemons import PrivateDaemons

    reason = libvirt_missing()
    if reason:
        pytest.skip(reason)
    subprocess.run(["ip", "netns", "add", NETNS_B], check=True)
    with tempfile.TemporaryDirectory(prefix="nubo-e2e-migrate-") as tmp:
        state = Path(tmp) / "state"
        env = {**base_env(), "NUBO_COMPUTE__DRIVER": "libvirt",
               "NUBO_COMPUTE__SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
               "NUBO_COMPUTE__GUEST_IMAGE": "never",
               "NUBO_NETWORK__NETNS_HOSTS": json.dumps({HOST_B: {"netns": NETNS_B}})}
        cloud = Cloud(state, free_port(), f"sqlite:///{state}/nubo.db", env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()
            scrub(state)
            private = PrivateDaemons(state / "libvirt" / HOST_B, NETNS_B)
            for name in subprocess.run(["virsh", "-q", "-c", private.uri, "list", "--name"],
                                       capture_output=True, text=True).stdout.split():
                subprocess.run(["virsh", "-c", private.uri, "destroy", name],
                               capture_output=True)
            private.stop()
            subprocess.run(["ip", "netns", "del", NETNS_B], capture_output=True)


@pytest.fixture(scope="module")
def conn(two_hosts: Cloud) -> Any:
    return two_hosts.connect()


@pytest.fixture(scope="module")
def server(two_hosts: Cloud, conn: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("img") / "zero.raw"
    path.write_bytes(b"\0" * (1 << 20))
    image = conn.image.create_image(name=ZERO_IMAGE, filename=str(path), disk_format="raw",
                                    container_format="bare", wait=True)
    made = two_hosts.cli_json("server", "create", "--image", image.id, "--flavor", "m1.nano",
                              "--nic", "none", "--availability-zone", f"nova:{HOST_A}",
                              "--wait", "nb-lv-mig")
    return conn.compute.get_server(made["id"])


def files(cloud: Cloud, host: str, server: Any) -> list[str]:
    root = cloud.state_dir / "instances" / host
    return sorted(p.name for p in root.iterdir() if p.name.startswith(server.id)) \
        if root.exists() else []


def wait(conn: Any, server: Any, status: str) -> Any:
    return conn.compute.wait_for_server(server, status=status, wait=WAIT, interval=0.5)


def qemu_netns(cloud: Cloud, server: Any) -> str:
    pid = (cloud.state_dir / "libvirt" / HOST_B / "run" / "qemu" / f"nubo-{server.id}.pid")
    return subprocess.run(["ip", "netns", "identify", pid.read_text().strip()],
                          capture_output=True, text=True).stdout.strip()


def test_the_server_starts_on_this_machine(two_hosts: Cloud, server: Any) -> None:
    assert server.compute_host == HOST_A
    assert state_on("qemu:///system", server.id) == "running"
    assert state_on(private_uri(two_hosts), server.id) is None


def test_migrate_to_the_namespace_host_and_confirm(two_hosts: Cloud, conn: Any,
                                                   server: Any) -> None:
    conn.compute.migrate_server(server)
    moved = wait(conn, server, "VERIFY_RESIZE")
    assert moved.compute_host == HOST_B
    assert state_on(private_uri(two_hosts), server.id) == "running"
    assert qemu_netns(two_hosts, server) == NETNS_B
    assert state_on("qemu:///system", server.id) == "shut off"      # kept for a revert
    disk = two_hosts.state_dir / "instances" / HOST_B / server.id / "disk"
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(disk)],
                                     capture_output=True, text=True, check=True).stdout)
    assert f"/instances/{HOST_B}/_base/" in info["backing-filename"]
    conn.compute.confirm_server_resize(server)
    wait(conn, server, "ACTIVE")
    assert state_on("qemu:///system", server.id) is None
    assert files(two_hosts, HOST_A, server) == []
    assert files(two_hosts, HOST_B, server) == [server.id]
    assert "Booting from Hard Disk" in conn.compute.get_server_console_output(server)["output"]


def test_migrate_back_and_revert(two_hosts: Cloud, conn: Any, server: Any) -> None:
    conn.compute.migrate_server(server)
    assert wait(conn, server, "VERIFY_RESIZE").compute_host == HOST_A
    assert state_on("qemu:///system", server.id) == "running"
    conn.compute.revert_server_resize(server)
    reverted = wait(conn, server, "ACTIVE")
    assert reverted.compute_host == HOST_B
    assert state_on(private_uri(two_hosts), server.id) == "running"
    assert state_on("qemu:///system", server.id) is None
    assert files(two_hosts, HOST_A, server) == []
    assert files(two_hosts, HOST_B, server) == [server.id]


def test_delete_on_the_namespace_host(two_hosts: Cloud, conn: Any, server: Any) -> None:
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=WAIT)
    assert state_on(private_uri(two_hosts), server.id) is None
    assert files(two_hosts, HOST_B, server) == []
