"""Several hosts on one machine, one agent process each: `nubo agent network
--host H --netns NS` runs host H's Linux bridge agent against the cloud's
database (PostgreSQL) and bus (RabbitMQ), its data plane inside namespace NS; the
cloud's own host serves DHCP to H's guests over VXLAN."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests import conftest as root
from tests.cloud import ROOT, Cloud, free_port
from tests.databases import database
from tests.e2e.network.conftest import _underlay, free_prefix
from tests.e2e.network.netlab import DHCP_SCRIPT, Lab, links, scrub_state, wait_for
from tests.integration.compute.conftest import rabbit_vhost

HOST = "nb-agent-host"
pytestmark = pytest.mark.rabbitmq


@pytest.fixture(scope="module")
def split(lab: Lab) -> Iterator[tuple[Cloud, str, Path]]:
    """A cloud on PostgreSQL and RabbitMQ, and the agent process of HOST."""
    if "postgresql" not in root.SELECTED:
        pytest.skip("needs PostgreSQL (NUBO_TEST_BACKENDS leaves it out)")
    underlay = free_prefix(range(128, 192))
    host_ns = _underlay(lab, underlay, tag="a")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubo-e2e-split-")))
        try:
            url = stack.enter_context(database("postgresql", str(tmp)))
            bus = stack.enter_context(rabbit_vhost())
        except RuntimeError as e:
            pytest.skip(str(e))
        vni = 20000 + secrets.randbelow(1000) * 1000
        env = {**root.test_env(), "NUBO_BUS__URL": bus, "NUBO_COMPUTE__FAKE_HOSTS": "0",
               "NUBO_NETWORK__AGENT_DRIVER": "linuxbridge",
               "NUBO_NETWORK__AGENT_REPORT_INTERVAL": "3",
               "NUBO_NETWORK__LOCAL_IP": str(underlay[1]),
               "NUBO_NETWORK__VXLAN_VNI_RANGES": f"{vni}:{vni + 999}",
               "NUBO_NETWORK__PUBLIC_CIDR": ""}
        cloud = Cloud(tmp / "cloud", free_port(), url, env=env)
        stack.callback(lambda: scrub_state(cloud.state_dir))
        stack.callback(cloud.stop)
        cloud.start()
        agent_dir = tmp / "agent"
        agent_dir.mkdir()
        log = (tmp / "agent.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "nubo.cli.main", "--state-dir", str(agent_dir), "agent",
             "network", "--host", HOST, "--netns", host_ns, "--local-ip", str(underlay[11])],
            env={**os.environ, **env, "NUBO_DATABASE__CONNECTION": url}, cwd=ROOT,
            stdout=log, stderr=log)
        stack.callback(lambda: scrub_state(agent_dir))
        stack.callback(lambda: (proc.terminate(), proc.wait(20)))
        script = tmp / "udhcpc.sh"
        script.write_text(DHCP_SCRIPT)
        script.chmod(0o755)
        yield cloud, host_ns, script


def test_an_agent_process_plugs_its_hosts_ports(split: tuple[Cloud, str, Path],
                                                lab: Lab) -> None:
    cloud, host_ns, script = split
    conn = cloud.connect()
    agent = wait_for("the host's agent", lambda: next(iter(conn.network.agents(
        host=HOST, agent_type="Linux bridge agent")), None))
    assert agent.is_alive and agent.configuration["tunneling_ip"]
    network = conn.network.create_network(name="nb-split")
    conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.250.60.0/24")
    try:
        port = conn.network.create_port(network_id=network.id, binding_host_id=HOST)
        guest = lab.guest("sp", port.to_dict(), host_ns=host_ns)
        wait_for("the port ACTIVE", lambda: conn.network.get_port(port.id).status == "ACTIVE")
        assert "brq" + network.id[:11] in links(host_ns)
        lease = guest.dhcp(script)       # from the cloud's host, over VXLAN
        assert f"ip={port.fixed_ips[0]['ip_address']}" in lease and "mtu=1450" in lease
        assert socket.gethostname() != HOST
    finally:
        for p in conn.network.ports(network_id=network.id):
            if p.device_owner != "network:dhcp":
                conn.network.delete_port(p)
        conn.network.delete_network(network)
    wait_for("the host drops the network", lambda: "brq" + network.id[:11] not in links(host_ns))
