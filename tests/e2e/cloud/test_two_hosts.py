"""Two hosts on one machine, the second run by `nubo agent` processes: the cloud
(`nubo up` on PostgreSQL and RabbitMQ, the libvirt driver and the Linux bridge
data plane) is the first host; a network namespace on an underlay bridge stands
in for the second, where `nubo agent compute --netns` runs the host's libvirtd
and guests and `nubo agent network --netns` its bridges, VXLAN and firewall.

A server on each host, on one private VXLAN network: both take DHCP from the
cloud's host and their key from its metadata service, the second host's guest
answers os-getConsoleOutput through its agent's call topic, and the guests ping
each other across the hosts. Deleting the servers removes the second host's
domain and tap."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nubo.guest import rootfs
from nubo.network.agent.linuxbridge import names
from tests import conftest as root
from tests.cloud import ROOT, Cloud, free_port
from tests.databases import database
from tests.e2e.cloud.conftest import BOOT, guest_image_missing, wait_active
from tests.e2e.compute.conftest import _warm_libvirt, libvirt_missing, poll
from tests.e2e.compute.conftest import scrub as scrub_domains
from tests.e2e.conftest import root_net_missing
from tests.e2e.network.conftest import _underlay, free_prefix, kernel_missing
from tests.e2e.network.netlab import Lab, links, scrub_state, sh
from tests.integration.compute.conftest import rabbit_vhost

HOST_B = "nb-host-b"
pytestmark = pytest.mark.rabbitmq


@dataclass
class Hosts:
    cloud: Cloud
    host_a: str
    host_b: str
    netns_b: str
    agent_dir: Path           # the state directory of the second host's agents
    key: Path


def _stop_private_libvirt(agent_dir: Path, netns: str) -> None:
    from nubo.compute.agent.libvirt.daemons import PrivateDaemons

    private = PrivateDaemons(agent_dir / "libvirt" / HOST_B, netns)
    names = subprocess.run(["virsh", "-q", "-c", private.uri, "list", "--all", "--name"],
                           capture_output=True, text=True, timeout=60).stdout.split()
    for name in names:
        subprocess.run(["virsh", "-c", private.uri, "destroy", name], capture_output=True,
                       timeout=60)
        subprocess.run(["virsh", "-c", private.uri, "undefine", name], capture_output=True,
                       timeout=60)
    private.stop()


def _print_logs(tmp: Path) -> None:
    for log in (tmp / "cloud" / "test-server.log", *sorted(tmp.glob("agent-*.log"))):
        if log.exists():
            lines = log.read_text(errors="replace").splitlines()[-60:]
            print(f"==== {log.name}", *lines, sep="\n")


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    reason = (libvirt_missing() or root_net_missing("dnsmasq", "nft", "bridge", "ssh",
                                                    "ssh-keygen")
              or kernel_missing() or guest_image_missing())
    if reason:
        pytest.skip(reason)
    if "postgresql" not in root.SELECTED:
        pytest.skip("needs PostgreSQL (NUBO_TEST_BACKENDS leaves it out)")
    _warm_libvirt()
    lab = Lab()
    with ExitStack() as stack:
        stack.callback(lab.cleanup)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubo-e2e-2h-")))
        try:
            url = stack.enter_context(database("postgresql", str(tmp)))
            bus = stack.enter_context(rabbit_vhost())
        except RuntimeError as e:
            pytest.skip(str(e))
        underlay = free_prefix(range(128, 192))
        netns_b = _underlay(lab, underlay, tag="b")
        key = tmp / "id_ed25519"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nb@e2e", "-f", str(key))
        vni = 30000 + secrets.randbelow(1000) * 1000
        env = {**root.test_env(), "NUBO_BUS__URL": bus, "NUBO_COMPUTE__DRIVER": "libvirt",
               "NUBO_COMPUTE__GUEST_IMAGE": "always",
               "NUBO_COMPUTE__REPORT_INTERVAL": "2",
               "NUBO_COMPUTE__VIF_PLUGGING_TIMEOUT": str(BOOT / 2),
               "NUBO_CORE__LOG_LEVEL": os.environ.get("NUBO_TEST_LOG_LEVEL", "INFO"),
               "NUBO_NETWORK__AGENT_DRIVER": "linuxbridge",
               "NUBO_NETWORK__AGENT_REPORT_INTERVAL": "2",
               "NUBO_NETWORK__LOCAL_IP": str(underlay[1]),
               "NUBO_NETWORK__VXLAN_VNI_RANGES": f"{vni}:{vni + 999}",
               "NUBO_NETWORK__PUBLIC_CIDR": ""}
        state = tmp / "cloud"
        cloud = Cloud(state, free_port(), url, env=env)
        stack.callback(lambda: scrub_state(state))
        stack.callback(lambda: scrub_domains(state))
        stack.callback(cloud.stop)
        cloud.start()
        stack.callback(lambda: _print_logs(tmp))     # shown when a test fails
        agent_dir = tmp / "agent"
        agent_dir.mkdir()
        stack.callback(lambda: scrub_state(agent_dir))
        stack.callback(lambda: _stop_private_libvirt(agent_dir, netns_b))
        # the second host reads images from the cloud's store, as hosts share a
        # filesystem store (docs/compute.md)
        agent_env = {**os.environ, **env, "NUBO_DATABASE__CONNECTION": url,
                     "NUBO_IMAGE__STORE_DIR": str(state / "images")}
        for kind, extra in (("network", ["--local-ip", str(underlay[11])]),
                            ("compute", [])):
            log = (tmp / f"agent-{kind}.log").open("ab")
            proc = subprocess.Popen(
                [sys.executable, "-m", "nubo.cli.main", "--state-dir", str(agent_dir),
                 "agent", kind, "--host", HOST_B, "--netns", netns_b, *extra],
                env=agent_env, cwd=ROOT, stdout=log, stderr=log)
            stack.callback(lambda p=proc: (p.terminate(), p.wait(30)))
        yield Hosts(cloud, socket.gethostname(), HOST_B, netns_b, agent_dir, key)


@pytest.fixture(scope="module")
def servers(hosts: Hosts) -> Iterator[dict[str, Any]]:
    cloud = hosts.cloud
    conn = cloud.connect()
    poll(lambda: any(s.state == "up" for s in conn.compute.services(
        host=hosts.host_b, binary="nova-compute")), timeout=120,
        what="the second host's compute service up")
    poll(lambda: any(a.is_alive for a in conn.network.agents(
        host=hosts.host_b, agent_type="Linux bridge agent")), timeout=120,
        what="the second host's network agent alive")
    cloud.cli("keypair", "create", "--public-key", f"{hosts.key}.pub", "nb-2h-key")
    group = conn.network.create_security_group(name="nb-2h")
    for protocol, port in (("tcp", 22), ("icmp", None)):
        conn.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", ethertype="IPv4",
            protocol=protocol, port_range_min=port, port_range_max=port,
            remote_ip_prefix="0.0.0.0/0")
    network = conn.network.create_network(name="nb-2h-net")
    conn.network.create_subnet(network_id=network.id, ip_version=4,
                               cidr=str(free_prefix(range(60, 120))))
    made: dict[str, Any] = {}
    try:
        for name, host in (("nb-2h-a", hosts.host_a), ("nb-2h-b", hosts.host_b)):
            made[name] = cloud.cli_json(
                "server", "create", "--image", "nubo-guest", "--flavor", "m1.nano",
                "--network", network.id, "--key-name", "nb-2h-key", "--security-group",
                "nb-2h", "--availability-zone", f"nova:{host}", name)["id"]
        ready = dict(zip(made, wait_active(cloud, conn, list(made.values())), strict=True))
        yield {"conn": conn, "network": network, **ready}
    finally:
        for sid in made.values():
            conn.compute.delete_server(sid, ignore_missing=True)
        for sid in made.values():
            poll(lambda s=sid: conn.compute.find_server(s) is None, timeout=BOOT,
                 what="the servers deleted")
        for port in conn.network.ports(network_id=network.id):
            if port.device_owner != "network:dhcp":
                conn.network.delete_port(port)
        conn.network.delete_network(network)
        conn.network.delete_security_group(group)
        cloud.cli("keypair", "delete", "nb-2h-key")


def address(conn: Any, server: Any) -> str:
    port = next(iter(conn.network.ports(device_id=server.id)))
    return str(port.fixed_ips[0]["ip_address"])


def ssh_from_dhcp(hosts: Hosts, network_id: str, to: str, command: str
                  ) -> subprocess.CompletedProcess[str]:
    """ssh into a guest from the network's DHCP namespace on the cloud's host."""
    return sh("ip", "netns", "exec", f"qdhcp-{network_id}", "ssh", "-i", str(hosts.key),
              "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
              "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
              "-o", "LogLevel=ERROR", f"root@{to}", command, check=False, timeout=60)


def test_each_server_runs_on_its_host(hosts: Hosts, servers: dict[str, Any]) -> None:
    a, b = servers["nb-2h-a"], servers["nb-2h-b"]
    assert a.compute_host == hosts.host_a
    assert b.compute_host == hosts.host_b
    pid = hosts.agent_dir / "libvirt" / HOST_B / "run" / "qemu" / f"nubo-{b.id}.pid"
    found = subprocess.run(["ip", "netns", "identify", pid.read_text().strip()],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    assert found == hosts.netns_b                   # QEMU runs inside the second host


def test_the_second_hosts_console_answers_through_its_agent(
        servers: dict[str, Any]) -> None:
    conn, b = servers["conn"], servers["nb-2h-b"]
    poll(lambda: rootfs.READY_MARKER in str(
        conn.compute.get_server_console_output(b)["output"]), timeout=BOOT,
        what="the ready marker on the second host's guest console")


def test_the_guests_talk_across_the_hosts(hosts: Hosts, servers: dict[str, Any]) -> None:
    conn, a, b = servers["conn"], servers["nb-2h-a"], servers["nb-2h-b"]
    a_ip, b_ip = address(conn, a), address(conn, b)
    net = servers["network"].id
    for server in (a, b):                            # both booted and took their key
        poll(lambda s=server: rootfs.READY_MARKER in str(
            conn.compute.get_server_console_output(s)["output"]), timeout=BOOT,
            what=f"{server.name} ready")
    done = poll(lambda: (r := ssh_from_dhcp(hosts, net, b_ip, "ip -4 -o addr show eth0"))
                .returncode == 0 and r, timeout=120, what="ssh into the second host's guest")
    assert b_ip in done.stdout                       # its address by DHCP, over VXLAN
    pinged = ssh_from_dhcp(hosts, net, a_ip, f"ping -c 3 -W 2 {b_ip}")
    assert pinged.returncode == 0, pinged.stdout + pinged.stderr


def test_deleting_the_server_cleans_the_second_host(hosts: Hosts,
                                                    servers: dict[str, Any]) -> None:
    conn, b = servers["conn"], servers["nb-2h-b"]
    port = next(iter(conn.network.ports(device_id=b.id)))
    tap = names.tap(port.id)
    assert tap in links(hosts.netns_b)
    conn.compute.delete_server(b)
    poll(lambda: conn.compute.find_server(b.id) is None, timeout=BOOT,
         what="the server gone")
    poll(lambda: tap not in links(hosts.netns_b), timeout=60, what="its tap gone")
    pid = hosts.agent_dir / "libvirt" / HOST_B / "run" / "qemu" / f"nubo-{b.id}.pid"
    assert not pid.exists()
