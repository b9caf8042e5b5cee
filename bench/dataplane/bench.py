"""From `openstack server create` to ssh through the floating IP, against the
same guest image booted by bare QEMU in the same run.

    .venv/bin/python bench/dataplane/bench.py [--servers 10] [--bare 5]

Needs what the real data plane needs (root, libvirt, QEMU, dnsmasq, nftables;
`make up` installs them) and the guest image (built, or found in its cache).

1. bare QEMU: ``--bare`` times, the guest's kernel and ramdisk under
   ``qemu-system-x86_64`` (TCG, 128 MiB, one vCPU, virtio-net on a tap), DHCP from
   a dnsmasq and its key from a static metadata service in a namespace: the time
   from starting QEMU to ``ssh root@guest true`` succeeding;
2. nubo: ``nubo up`` with the libvirt driver and the Linux bridge data plane on a
   public network of its own; a private network behind a router, a security group
   open to ssh; then ``--servers`` times, one after another: ``openstack server
   create --image nubo-guest --flavor m1.nano --wait`` with a key, a floating IP
   attached as soon as the server's port exists, and ``ssh root@<floating ip> true``
   tried until it succeeds; the time from launching the CLI to that success (the
   server is deleted before the next).

Prints one JSON document: both series, their medians, nubo's added median and the
target (at most 2 s over bare QEMU), and the median time at which each step was first
seen (bare: the guest's console ready marker; nubo: the CLI returned, the port seen,
the floating IP set, QEMU's pid file written, the console ready marker). Progress goes
to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nubo.cli import data_plane  # noqa: E402
from nubo.guest import build, rootfs  # noqa: E402
from tests.cloud import Cloud, free_port  # noqa: E402
from tests.conftest import test_env  # noqa: E402
from tests.e2e.guest import conftest as bare_lab  # noqa: E402
from tests.e2e.guest.qemu import Guest  # noqa: E402
from tests.e2e.network.conftest import free_prefix  # noqa: E402
from tests.e2e.network.netlab import Lab, scrub_state  # noqa: E402

TARGET_ADDED_S = 2.0
SSH_TRY = 2                      # seconds each ssh attempt may take to connect


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def ssh_ok(key: Path, address: str, ns: str | None = None) -> bool:
    argv = [*(["ip", "netns", "exec", ns] if ns else []), "ssh", "-i", str(key),
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", f"ConnectTimeout={SSH_TRY}",
            "-o", "LogLevel=ERROR", f"root@{address}", "true"]
    try:
        return subprocess.run(argv, capture_output=True, timeout=SSH_TRY + 10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


class Phases:
    """When each of some conditions first held, in seconds from ``start``: a thread
    checks them every 50 ms while the boot goes on (the ssh tries take seconds)."""

    def __init__(self, start: float, checks: dict[str, Callable[[], bool]]) -> None:
        self.start, self.checks = start, dict(checks)
        self.seen: dict[str, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set() and any(n not in self.seen for n in self.checks):
            for name, check in self.checks.items():
                if name not in self.seen:
                    try:
                        if check():
                            self.seen[name] = time.monotonic() - self.start
                    except Exception:       # not there yet
                        pass
            self._done.wait(0.05)

    def stop(self) -> dict[str, float]:
        self._done.set()
        self._thread.join()
        return self.seen


def marker_in(path: Path) -> bool:
    return path.exists() and rootfs.READY_MARKER in path.read_text(errors="replace")


def phase_summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each phase's median over the runs that saw it."""
    names = dict.fromkeys(n for r in runs for n in r)
    return {n: round(statistics.median(r[n] for r in runs if n in r), 2) for n in names}


def summary(samples: list[float]) -> dict[str, Any]:
    return {"samples_s": [round(s, 2) for s in samples],
            "p50_s": round(statistics.median(samples), 2),
            "min_s": round(min(samples), 2), "max_s": round(max(samples), 2)}


def bare_qemu(image: build.GuestImage, runs: int, work: Path
              ) -> tuple[list[float], list[dict[str, float]]]:
    """Boots of the guest under bare QEMU until ssh answers, and when its console
    said it was ready."""
    key = work / "id_ed25519"
    cleanup = bare_lab.Cleanup()
    netns = f"nbbench{os.getpid()}"
    times = []
    phases = []
    try:
        bare_lab._network(cleanup, netns)
        bare_lab._dnsmasq(cleanup, netns, work)
        public_key = Path(f"{key}.pub").read_text().strip()
        bare_lab._metadata_service(cleanup, netns, work, public_key)
        for n in range(runs):
            disk = work / f"bare-{n}.qcow2"
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image.disk),
                            "-F", "qcow2", str(disk)], check=True)
            guest = Guest(f"bare-{n}", work, netns, "nbgtap0", bare_lab.MACS["meta"],
                          ["-kernel", str(image.kernel), "-initrd", str(image.ramdisk),
                           "-append", image.command_line],
                          drives=[f"file={disk},if=virtio,format=qcow2"],
                          extra=["-device", "virtio-rng-pci", "-m", "128"])
            start = time.monotonic()
            guest.start()
            watch = Phases(start, {"console_ready": lambda g=guest: marker_in(g.console)})
            try:
                until(lambda: ssh_ok(key, bare_lab.ADDRESSES["meta"]), 300, "bare ssh")
                times.append(time.monotonic() - start)
                phases.append(watch.stop())
                say(f"bare QEMU {n + 1}/{runs}: {times[-1]:.2f} s")
            finally:
                watch.stop()
                guest.kill()
                disk.unlink(missing_ok=True)
    finally:
        cleanup.run()
    return times, phases


def nubo(runs: int, work: Path) -> tuple[list[float], list[dict[str, float]]]:
    """Servers from the CLI to ssh, and when each step of the way was first seen."""
    key = work / "id_ed25519"
    lab = Lab()
    state = work / "state"
    env = {**test_env(), "NUBO_COMPUTE__DRIVER": "libvirt",
           "NUBO_COMPUTE__GUEST_IMAGE": "always",
           "NUBO_NETWORK__AGENT_DRIVER": "linuxbridge",
           "NUBO_NETWORK__PUBLIC_BRIDGE": lab.name("pub"),
           "NUBO_NETWORK__PUBLIC_CIDR": str(free_prefix(range(192, 255)))}
    cloud = Cloud(state, free_port(), f"sqlite:///{state}/nubo.db", env=env)
    times = []
    phases = []
    try:
        say("starting nubo (libvirt, Linux bridge)")
        cloud.start()
        conn = cloud.connect("nubo")
        cloud.cli("keypair", "create", "--public-key", f"{key}.pub", "bench-key", cloud="nubo")
        group = conn.network.create_security_group(name="bench-ssh")
        conn.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", ethertype="IPv4",
            protocol="tcp", port_range_min=22, port_range_max=22,
            remote_ip_prefix="0.0.0.0/0")
        net = conn.network.create_network(name="bench-net")
        subnet = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                            cidr="10.250.72.0/24")
        public = conn.network.find_network("public")
        router = conn.network.create_router(name="bench-router",
                                            external_gateway_info={"network_id": public.id})
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        fip = conn.network.create_ip(floating_network_id=public.id)
        address = fip.floating_ip_address
        for n in range(runs + 1):          # the first boot fills the image cache: not counted
            start = time.monotonic()
            found: dict[str, str] = {}

            def domain_started(found: dict[str, str] = found) -> bool:
                pid = Path(f"/run/libvirt/qemu/nubo-{found['id']}.pid")
                return pid.exists() and pid.stat().st_size > 0

            def console_ready(found: dict[str, str] = found) -> bool:
                return any(marker_in(p) for p in state.glob(f"**/{found['id']}/console.log"))

            watch = Phases(start, {"domain_started": domain_started,
                                   "console_ready": console_ready})
            create = subprocess.Popen(
                [str(Path(sys.executable).parent / "openstack"), "server", "create",
                 "--image", "nubo-guest", "--flavor", "m1.nano", "--network", net.id,
                 "--key-name", "bench-key", "--security-group", "bench-ssh", "-f", "value",
                 "-c", "id", f"bench-{n}"],
                env={**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml),
                     "OS_CLOUD": "nubo"}, stdout=subprocess.PIPE, text=True)
            out, _ = create.communicate(timeout=120)
            server_id = found["id"] = out.strip()
            watch.seen["cli_returned"] = time.monotonic() - start
            until(lambda sid=server_id: list(conn.network.ports(device_id=sid)), 120,
                  "the port")
            port = next(iter(conn.network.ports(device_id=server_id)))
            watch.seen["port_seen"] = time.monotonic() - start
            conn.network.update_ip(fip, port_id=port.id)
            watch.seen["floating_ip_set"] = time.monotonic() - start
            until(lambda: ssh_ok(key, address), 300, "ssh through the floating IP")
            took = time.monotonic() - start
            seen = watch.stop()
            say(f"nubo {n}/{runs}: {took:.2f} s" + (" (warm-up, not counted)" if n == 0 else ""))
            if n:
                times.append(took)
                phases.append(seen)
            conn.network.update_ip(fip, port_id=None)
            conn.compute.delete_server(server_id)
            conn.compute.wait_for_delete(conn.compute.get_server(server_id), wait=300)
        conn.network.delete_ip(fip)
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
        conn.network.delete_router(router)
        conn.network.delete_network(net)
    finally:
        cloud.stop()
        from tests.e2e.compute.conftest import scrub as scrub_domains

        scrub_domains(state)
        lab.cleanup()
        scrub_state(state)
    return times, phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--bare", type=int, default=5)
    args = parser.parse_args()
    why = data_plane.missing()
    if why:
        print(json.dumps({"skipped": f"the real data plane {why}"}))
        return 1
    image = build.build(build.default_cache_dir())
    with tempfile.TemporaryDirectory(prefix="nubo-bench-dp-") as tmp:
        work = Path(tmp)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(work / "id_ed25519")], check=True)
        bare, bare_phases = bare_qemu(image, args.bare, work)
        ours, our_phases = nubo(args.servers, work)
    added = statistics.median(ours) - statistics.median(bare)
    print(json.dumps({
        "bench": "dataplane", "host": socket.gethostname(), "virt_type": "qemu (TCG)",
        "guest_image": image.key,
        "bare_qemu_boot_to_ssh": summary(bare),
        "bare_qemu_phases_p50_s": phase_summary(bare_phases),
        "nubo_create_to_ssh_via_floating_ip": summary(ours),
        "nubo_phases_p50_s": phase_summary(our_phases),
        "added_p50_s": round(added, 2),
        "target_added_p50_s": TARGET_ADDED_S, "target_met": added <= TARGET_ADDED_S,
    }, indent=2))
    return 0


if __name__ == "__main__":
    if shutil.which("ssh") is None:
        sys.exit("needs ssh (openssh-client)")
    sys.exit(main())
