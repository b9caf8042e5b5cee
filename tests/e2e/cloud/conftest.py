"""The whole cloud as its users meet it: `nubo up` with the libvirt driver, the
Linux bridge data plane and its public network, the guest image nubo builds
registered as the default image.

The public network takes a free 10.250.x.0/24 on a bridge of the lab's (not the
all-in-one's 172.24.4.0/24 on br-ex), so that a cloud already running on this
machine is left alone. An "external" namespace on that bridge stands in for a
machine outside the cloud. Everything is removed at the end, also after a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud, free_port
from tests.conftest import test_env
from tests.e2e.compute.conftest import _warm_libvirt, domain_state, libvirt_missing, poll
from tests.e2e.compute.conftest import scrub as scrub_domains
from tests.e2e.conftest import root_net_missing
from tests.e2e.network.conftest import free_prefix, kernel_missing
from tests.e2e.network.netlab import Guest, Lab, scrub_state, sh

BOOT = 300.0


@dataclass
class Site:
    """The cloud, the lab around it and the user's ssh key."""

    cloud: Cloud
    lab: Lab
    host: str
    public_bridge: str
    key: Path
    public_key: str
    known_hosts: Path

    def external(self, what: str) -> Guest:
        """A namespace on the public bridge at an address of the public network
        that the admin reserved (a port nothing plugs): a machine outside the cloud."""
        conn = self.cloud.connect()
        public = conn.network.find_network("public")
        port = conn.network.create_port(network_id=public.id, name=f"nb-{what}")
        guest = self.lab.guest(what, port.to_dict())
        sh("ip", "link", "set", guest.tap, "master", self.public_bridge, "up")
        guest.address(port.fixed_ips[0]["ip_address"] + "/24")
        return guest

    def trust_host_keys(self, conn: Any, server: Any, address: str) -> None:
        """The host keys the guest printed on its console, as a user checks them,
        known for ``address``."""
        text = poll(lambda: "-----END SSH HOST KEY KEYS-----" in (out := str(
            conn.compute.get_server_console_output(server)["output"])) and out,
            timeout=BOOT, what=f"{server.name}'s host keys on its console")
        block = text.split("-----BEGIN SSH HOST KEY KEYS-----")[1].split(
            "-----END SSH HOST KEY KEYS-----")[0]
        lines = [f"{address} {f[0]} {f[1]}" for f in (ln.split() for ln in block.splitlines())
                 if len(f) >= 2 and f[0].startswith(("ssh-", "ecdsa-"))]
        assert lines, f"no host keys in {block!r}"
        with self.known_hosts.open("a") as out:
            out.write("\n".join(lines) + "\n")

    def ssh_argv(self, address: str, *, jump: str | None = None,
                 connect_timeout: int = 10) -> list[str]:
        options = ["-i", str(self.key), "-o", "BatchMode=yes",
                   "-o", f"UserKnownHostsFile={self.known_hosts}",
                   "-o", "StrictHostKeyChecking=yes",
                   "-o", f"ConnectTimeout={connect_timeout}"]
        if jump:
            # the jump's own options come from the command line too (no config file)
            options += ["-o", "ProxyCommand=ssh " + " ".join(options) +
                        f" -W %h:%p root@{jump}"]
        return ["ssh", *options, f"root@{address}"]


def wait_active(cloud: Cloud, conn: Any, server_ids: list[str]) -> list[Any]:
    """The servers once ACTIVE; when one is not within BOOT, an AssertionError that
    says where each build stands (status, fault, actions and their events, ports,
    the domain) and ends with the cloud's log, so that a failure far away (CI) can
    be understood from its report alone."""
    try:
        return [conn.compute.wait_for_server(conn.compute.get_server(s), wait=BOOT)
                for s in server_ids]
    except Exception as e:
        raise AssertionError(f"{e}\n{build_report(cloud, server_ids)}") from e


def build_report(cloud: Cloud, server_ids: list[str]) -> str:
    admin = cloud.connect()
    lines: list[str] = []
    for sid in server_ids:
        try:
            s = admin.compute.get_server(sid)
            lines.append(f"server {sid}: status={s.status} task_state={s.task_state} "
                         f"vm_state={s.vm_state} host={s.compute_host} fault={s.fault}")
            for action in admin.compute.server_actions(sid):
                full = admin.compute.get_server_action(action.request_id, sid)
                lines.append(f"  action {full.action} {full.start_time} "
                             f"message={full.message}")
                for ev in full.events or []:
                    lines.append(f"    event {ev.event} {ev.result} {ev.start_time} -> "
                                 f"{ev.finish_time} host={ev.host} details={ev.details}")
            for port in admin.network.ports(device_id=sid):
                lines.append(f"  port {port.id} status={port.status} "
                             f"host={port.binding_host_id} vif={port.binding_vif_type}")
        except Exception as e:       # the report must not hide the failure it reports
            lines.append(f"server {sid}: report failed: {e!r}")
        lines.append(f"  domain: {domain_state(sid)}")
    lines.append("cloud log (without the access log):")
    lines.extend([ln for ln in cloud.log_tail(5000).splitlines()
                  if '"nubo.access"' not in ln][-150:])
    return "\n".join(lines)


def guest_image_missing() -> str | None:
    """Why the guest image cannot be had here; None once it is built (so that
    `nubo up` finds it in the cache)."""
    from nubo.guest import build

    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        return "needs apt-get and dpkg-deb (the guest is made of Debian packages)"
    try:
        build.build(build.default_cache_dir())
    except build.BuildFailed as e:
        return f"the guest image cannot be built here: {e.message}"
    return None


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    reason = (libvirt_missing() or
              root_net_missing("dnsmasq", "nft", "bridge", "ssh", "ssh-keygen", "socat"))
    if reason:
        pytest.skip(reason)
    missing = kernel_missing() or guest_image_missing()
    if missing:
        pytest.skip(missing)
    _warm_libvirt()
    lab = Lab()
    with tempfile.TemporaryDirectory(prefix="nubo-e2e-cloud-") as tmp:
        state = Path(tmp) / "state"
        key = Path(tmp) / "id_ed25519"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nb@e2e", "-f", str(key))
        env = {**test_env(), "NUBO_COMPUTE__DRIVER": "libvirt",
               # a failure's report ends with the log (wait_active)
               "NUBO_CORE__LOG_LEVEL": os.environ.get("NUBO_TEST_LOG_LEVEL", "INFO"),
               "NUBO_COMPUTE__GUEST_IMAGE": "always",
               # a port never reported plugged fails the build (with a fault that
               # says so) before the test stops waiting
               "NUBO_COMPUTE__VIF_PLUGGING_TIMEOUT": str(BOOT / 2),
               "NUBO_NETWORK__AGENT_DRIVER": "linuxbridge",
               "NUBO_NETWORK__PUBLIC_BRIDGE": lab.name("pub"),
               "NUBO_NETWORK__PUBLIC_CIDR": str(free_prefix(range(192, 255)))}
        cloud = Cloud(state, free_port(), f"sqlite:///{state}/nubo.db", env=env)
        try:
            cloud.start()
            yield Site(cloud, lab, socket.gethostname(), lab.name("pub"), key,
                       Path(f"{key}.pub").read_text().strip(), Path(tmp) / "known_hosts")
        finally:
            cloud.stop()
            if os.environ.get("NUBO_E2E_KEEP_LOG"):      # where to copy the cloud's log
                shutil.copy(state / "test-server.log", os.environ["NUBO_E2E_KEEP_LOG"])
            scrub_domains(state)
            lab.cleanup()
            scrub_state(state)
