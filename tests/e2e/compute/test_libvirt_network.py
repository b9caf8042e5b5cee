"""The libvirt driver with the Linux bridge data plane: a guest of the image nubo
builds, on a VXLAN network, takes its port's address and the network's MTU by
DHCP from the network's dnsmasq and its hostname from the metadata service (the
guest says so on its console)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud, free_port
from tests.conftest import test_env as base_env
from tests.e2e.compute.conftest import domain, libvirt_missing, poll, scrub, virsh
from tests.e2e.conftest import root_net_missing
from tests.e2e.network import netlab

BOOT = 300.0


@pytest.fixture(scope="module")
def net_cloud() -> Iterator[Cloud]:
    from nubo.guest import build

    reason = libvirt_missing() or root_net_missing("dnsmasq", "nft", "bridge")
    if reason:
        pytest.skip(reason)
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("needs apt-get and dpkg-deb (the guest is made of Debian packages)")
    try:
        build.build(build.default_cache_dir())   # so that nubo up finds it built
    except build.BuildFailed as e:
        pytest.skip(f"the guest image cannot be built here: {e.message}")
    with tempfile.TemporaryDirectory(prefix="nubo-e2e-lvnet-") as tmp:
        state = Path(tmp) / "state"
        env = {**base_env(), "NUBO_COMPUTE__DRIVER": "libvirt",
               "NUBO_COMPUTE__GUEST_IMAGE": "always",
               "NUBO_NETWORK__AGENT_DRIVER": "linuxbridge",
               "NUBO_NETWORK__PUBLIC_CIDR": ""}
        cloud = Cloud(state, free_port(), f"sqlite:///{state}/nubo.db", env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()
            scrub(state)
            owner = state / "owner"
            if owner.exists():
                netlab.scrub(owner.read_text().strip())


def test_a_guest_takes_its_address_and_mtu_by_dhcp(net_cloud: Cloud) -> None:
    conn: Any = net_cloud.connect()
    net = conn.network.create_network(name="nb-lv-dhcp")
    conn.network.create_subnet(network_id=net.id, cidr="10.250.62.0/24", ip_version=4)
    made = net_cloud.cli_json("server", "create", "--image", "nubo-guest", "--flavor",
                              "m1.nano", "--network", net.id, "--wait", "nb-lv-dhcp-1")
    server = conn.compute.get_server(made["id"])
    try:
        (port,) = list(conn.network.ports(device_id=server.id))
        assert port.status == "ACTIVE"
        address = port.fixed_ips[0]["ip_address"]
        ready = poll(lambda: "nubo-guest ready" in (out := str(
            conn.compute.get_server_console_output(server)["output"])) and out,
            timeout=BOOT, what="the guest's ready marker")
        assert f"eth0 {address}/24 mtu 1450" in ready
        assert f"address={address}/24" in ready
        # the metadata service at 169.254.169.254 (through the DHCP port) named it
        assert "metadata from the metadata-service" in ready
        assert "hostname=nb-lv-dhcp-1" in ready
        hot_plug(net_cloud, conn, server)
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=BOOT)
        conn.network.delete_network(net)
    # the guest's tap, the network's bridge and its DHCP namespace all go
    poll(lambda: not gone_or_none(f"brq{net.id[:11]}", f"qdhcp-{net.id}", f"tap{port.id[:11]}"),
         what="the network's kernel objects removed")


def interfaces(server: Any) -> list[str]:
    """The MACs of the domain's interfaces, as libvirt has them now."""
    return [line.split()[-1] for line in virsh("domiflist", domain(server.id)).splitlines()]


def hot_plug(cloud: Cloud, conn: Any, server: Any) -> None:
    """A second network's port plugged into the running guest, then taken out (the
    guest acknowledges the ACPI unplug)."""
    second = conn.network.create_network(name="nb-lv-dhcp-2")
    conn.network.create_subnet(network_id=second.id, cidr="10.250.63.0/24", ip_version=4)
    cloud.cli("server", "add", "network", server.id, second.id)
    port = poll(lambda: next(iter(conn.network.ports(device_id=server.id,
                                                     network_id=second.id)), None),
                what="the second port")
    poll(lambda: port.mac_address in interfaces(server), what="the interface plugged")
    tap = link_master(f"tap{port.id[:11]}")
    assert tap == f"brq{second.id[:11]}"
    cloud.cli("server", "remove", "network", server.id, second.id)
    poll(lambda: port.mac_address not in interfaces(server), what="the interface unplugged")
    poll(lambda: link_master(f"tap{port.id[:11]}") is None, what="the tap gone")
    poll(lambda: not list(conn.network.ports(device_id=server.id, network_id=second.id)),
         what="the port released")
    conn.network.delete_network(second)


def link_master(name: str) -> str | None:
    """The bridge a device is on ("" when none); None when there is no such device."""
    done = subprocess.run(["ip", "-j", "link", "show", "dev", name], capture_output=True,
                          text=True)
    if done.returncode != 0:
        return None
    return str(json.loads(done.stdout)[0].get("master") or "")


def gone_or_none(bridge: str, namespace: str, tap: str) -> list[str]:
    """Which of these kernel objects still exist."""
    left = [name for name in (bridge, tap)
            if subprocess.run(["ip", "link", "show", "dev", name],
                              capture_output=True).returncode == 0]
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return left + ([namespace] if namespace in namespaces else [])
