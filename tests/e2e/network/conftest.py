"""A nubo with the Linux bridge data plane, on a lab of namespaces.

The cloud's own host (the network node) is this machine's root namespace;
``fake-host-1``, the fake hypervisor, is a namespace host with a Linux bridge
agent of its own, joined to the root host by VXLAN over an underlay bridge the
lab makes. Guests are namespaces whose ``eth0`` is the other end of a veth named
as the port's tap. The underlay and the public network take a /24 of
10.250.128.0/17 that no route of this machine uses yet, so that test sessions
running at once on one machine do not meet.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud, free_port
from tests.conftest import test_env
from tests.e2e.conftest import requires_root_net
from tests.e2e.network.netlab import DHCP_SCRIPT, Guest, Lab, in_ns, scrub, sh

HOST1 = "fake-host-1"
PHYSNET = "nbphys"


@dataclass
class Net:
    """The cloud and the lab under it, as the tests use them."""

    cloud: Cloud
    lab: Lab
    host: str           # the network node: this machine's root namespace
    host1_ns: str       # fake-host-1's namespace
    dhcp_script: Path
    underlay: ipaddress.IPv4Network
    public_cidr: ipaddress.IPv4Network
    reserved: list[str] = field(default_factory=list)

    def conn(self) -> Any:
        return self.cloud.connect()

    @property
    def public_bridge(self) -> str:
        return self.lab.name("pub")

    def public(self) -> Any:
        return self.conn().network.find_network("public")

    def external_host(self, what: str) -> Guest:
        """A namespace on the public bridge, at an address of the public network
        reserved through the API (a port nothing plugs)."""
        conn = self.conn()
        port = conn.network.create_port(network_id=self.public().id, name=f"nb-{what}")
        self.reserved.append(port.id)
        guest = self.lab.guest(what, port.to_dict())
        sh("ip", "link", "set", guest.tap, "master", self.public_bridge, "up")
        guest.address(port.fixed_ips[0]["ip_address"] + "/24")
        return guest

    @property
    def root_ip(self) -> str:
        return str(self.underlay[1])

    @property
    def host1_ip(self) -> str:
        return str(self.underlay[11])

    @property
    def owner(self) -> str:
        return (self.cloud.state_dir / "owner").read_text().strip()


KERNEL_PROBES = (
    ("bridges", ["ip", "link", "add", "nbpbr", "type", "bridge", "nf_call_iptables", "1"]),
    ("VXLAN", ["ip", "link", "add", "nbpvx", "type", "vxlan", "id", "1", "dstport", "4789"]),
    ("veth pairs", ["ip", "link", "add", "nbpv0", "type", "veth", "peer", "name", "nbpv1"]),
    ("nftables bridge and inet tables with conntrack",
     ["nft", "-f", "-"]),
)
NFT_PROBE = """table bridge p {
\tchain c {
\t\ttype filter hook forward priority -200; policy accept;
\t\tmeta mark set 1
\t}
}
table inet p {
\tchain z {
\t\ttype filter hook prerouting priority raw; policy accept;
\t\tct zone set 1
\t}
\tchain c {
\t\ttype filter hook forward priority 0; policy accept;
\t\tct state established accept
\t}
}
"""


def kernel_missing() -> str | None:
    """The kernel feature the data plane needs and this machine lacks, if any
    (probed in a namespace of its own)."""
    probe = f"nbprobe{os.getpid()}"
    sh("ip", "netns", "add", probe)
    try:
        for what, argv in KERNEL_PROBES:
            out = in_ns(probe, *argv, check=False, input=NFT_PROBE)
            if out.returncode != 0:
                return f"the kernel lacks {what}: {out.stderr.strip()}"
    finally:
        sh("ip", "netns", "del", probe, check=False)
    return None


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    requires_root_net("bridge", "nft", "dnsmasq", "ping", "busybox", "socat")
    missing = kernel_missing()
    if missing:
        pytest.skip(missing)
    lab = Lab()
    try:
        yield lab
    finally:
        lab.cleanup()


def free_prefix(third: range) -> ipaddress.IPv4Network:
    """A 10.250.x.0/24 no route of the machine's root namespace covers."""
    routes = json.loads(sh("ip", "-j", "-4", "route", "show", "table", "all").stdout or "[]")
    used = [ipaddress.ip_network(r["dst"], strict=False) for r in routes
            if r.get("dst") not in (None, "default") and "/" in r["dst"]]
    for x in secrets.SystemRandom().sample(list(third), len(third)):
        net = ipaddress.ip_network(f"10.250.{x}.0/24")
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free 10.250.x.0/24 for the lab")


def _underlay(lab: Lab, underlay: ipaddress.IPv4Network, tag: str = "") -> str:
    """An underlay bridge in the root namespace and a host namespace on it (its
    namespace returned); ``tag`` tells the lab's objects of several apart."""
    bridge = lab.name(f"{tag}u")
    sh("ip", "link", "add", bridge, "type", "bridge")
    lab.devices.append((None, bridge))
    sh("ip", "addr", "add", f"{underlay[1]}/24", "dev", bridge)
    sh("ip", "link", "set", bridge, "up")
    host1 = lab.netns(f"{tag}h1")
    leg = lab.name(f"{tag}u1")
    sh("ip", "link", "add", leg, "type", "veth", "peer", "name", "eth0", "netns", host1)
    lab.devices.append((None, leg))
    sh("ip", "link", "set", leg, "master", bridge, "up")
    in_ns(host1, "ip", "addr", "add", f"{underlay[11]}/24", "dev", "eth0")
    in_ns(host1, "ip", "link", "set", "eth0", "up")
    return host1


def _provider_wire(lab: Lab, host1: str) -> str:
    """A physical interface of the same name on both hosts, both on one switch (a
    bridge in a namespace of its own), for flat and VLAN networks; its name."""
    name = lab.name("phy")
    switch = lab.netns("sw")
    in_ns(switch, "ip", "link", "add", "sw0", "type", "bridge")
    in_ns(switch, "ip", "link", "set", "sw0", "up")
    for i, ns in enumerate((None, host1)):
        sh("ip", "link", "add", name, *(["netns", ns] if ns else []), "type", "veth",
           "peer", "name", f"p{i}", "netns", switch)
        lab.devices.append((ns, name))
        in_ns(ns, "ip", "link", "set", name, "up")
        in_ns(switch, "ip", "link", "set", f"p{i}", "master", "sw0", "up")
    return name


@pytest.fixture(scope="session")
def net(lab: Lab) -> Iterator[Net]:
    underlay = free_prefix(range(128, 192))
    host1 = _underlay(lab, underlay)
    physical = _provider_wire(lab, host1)
    public = free_prefix(range(192, 255))
    vni = 10000 + secrets.randbelow(1000) * 1000
    with tempfile.TemporaryDirectory(prefix="nubo-e2e-net-") as tmp:
        script = Path(tmp) / "udhcpc.sh"
        script.write_text(DHCP_SCRIPT)
        script.chmod(0o755)
        env = {**test_env(),
               "NUBO_COMPUTE__FAKE_HOSTS": "1",
               "NUBO_COMPUTE__FAKE_WAIT_FOR_VIF_PLUGGED": "false",
               "NUBO_NETWORK__AGENT_DRIVER": "linuxbridge",
               "NUBO_NETWORK__AGENT_REPORT_INTERVAL": "3",
               "NUBO_NETWORK__LOCAL_IP": str(underlay[1]),
               "NUBO_NETWORK__VXLAN_VNI_RANGES": f"{vni}:{vni + 999}",
               "NUBO_NETWORK__NETNS_HOSTS": json.dumps(
                   {HOST1: {"netns": host1, "local_ip": str(underlay[11])}}),
               "NUBO_NETWORK__PHYSICAL_INTERFACE_MAPPINGS": json.dumps(
                   {PHYSNET: physical}),
               "NUBO_NETWORK__NETWORK_VLAN_RANGES": f"public,{PHYSNET}:100:199",
               "NUBO_NETWORK__PUBLIC_BRIDGE": lab.name("pub"),
               "NUBO_NETWORK__PUBLIC_CIDR": str(public)}
        cloud = Cloud(Path(tmp) / "state", free_port(), f"sqlite:///{tmp}/nubo.db", env=env)
        try:
            cloud.start()
            yield Net(cloud, lab, socket.gethostname(), host1, script, underlay, public)
        finally:
            cloud.stop()
            if os.environ.get("NUBO_E2E_KEEP_LOG"):      # where to copy the cloud's log
                shutil.copy(cloud.state_dir / "test-server.log", os.environ["NUBO_E2E_KEEP_LOG"])
            owner = cloud.state_dir / "owner"
            if owner.exists():
                scrub(owner.read_text().strip())
