"""libvirtd and virtlogd, started by the compute agent when they are not running
(hosts without systemd), and the choice of ``virt_type``.

``choose_virt_type`` is a pure decision from what the host offers (``KvmFacts``):
KVM is used only when it is asked for and can run ordinary guests; otherwise the
driver falls back to QEMU's TCG and says why. The facts come from ``kvm_facts``.
"""

from __future__ import annotations

import asyncio
import grp
import logging
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from nubo.compute.agent.driver import DriverError
from nubo.core.errors import ConfigError

log = logging.getLogger(__name__)

VIRT_TYPES = frozenset({"qemu", "kvm"})
SYSTEM_SOCKET = Path("/run/libvirt/libvirt-sock")
VIRTLOGD_SOCKET = Path("/run/libvirt/virtlogd-sock")
QEMU_LOG_DIR = Path("/var/log/libvirt/qemu")
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class KvmFacts:
    dev_kvm: bool                  # /dev/kvm exists
    libvirt_offers_kvm: bool       # the capabilities list <domain type='kvm'>
    pvm: bool                      # the host's KVM is PVM (kvm_pvm module)


def choose_virt_type(wanted: str, facts: KvmFacts) -> tuple[str, str | None]:
    """The virt type to use and, when it is not ``wanted``, why."""
    if wanted not in VIRT_TYPES:
        raise ConfigError(f"[compute] virt_type must be one of {sorted(VIRT_TYPES)}, "
                          f"not {wanted!r}")
    if wanted == "qemu":
        return "qemu", None
    if not facts.dev_kvm:
        return "qemu", "/dev/kvm does not exist"
    if facts.pvm:
        return "qemu", ("the host's KVM is PVM (kvm_pvm), which runs only guest kernels "
                        "built with CONFIG_PVM_GUEST")
    if not facts.libvirt_offers_kvm:
        return "qemu", "libvirt offers no kvm domains on this host"
    return "kvm", None


def kvm_facts(capabilities_xml: str) -> KvmFacts:
    return KvmFacts(dev_kvm=Path("/dev/kvm").exists(),
                    libvirt_offers_kvm="<domain type='kvm'" in capabilities_xml,
                    pvm=Path("/sys/module/kvm_pvm").exists())


def open_dev_kvm() -> None:
    """/dev/kvm as udev makes it on Debian (group kvm, 0660), where no udev ran.

    Needed for virt_type kvm (QEMU runs as the libvirt user), and also for qemu:
    libvirtd probes QEMU with KVM as root but then finds the libvirt user unable
    to use /dev/kvm, calls its cached capabilities outdated and probes QEMU again
    (a minute under TCG) before it defines or starts a domain."""
    path = Path("/dev/kvm")
    try:
        gid = grp.getgrnam("kvm").gr_gid
        st = path.stat()
        if st.st_gid != gid or st.st_mode & 0o777 != 0o660:
            os.chown(path, 0, gid)
            os.chmod(path, 0o660)
    except FileNotFoundError:
        return
    except (KeyError, OSError) as e:
        log.warning("could not give /dev/kvm to group kvm: %s", e)


# ------------------------------------------------------------------ daemons


def socket_of(uri: str) -> Path | None:
    """The unix socket a local ``qemu:///system`` URI reaches; None for a remote one
    (nubo starts no daemon there)."""
    parts = urlsplit(uri)
    if parts.netloc or parts.scheme not in {"qemu", "qemu+unix"}:
        return None
    sockets = parse_qs(parts.query).get("socket")
    return Path(sockets[0]) if sockets else SYSTEM_SOCKET


def _listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


def _binary(name: str) -> str:
    exe = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if exe is None:
        raise DriverError(f"{name} is not installed (apt-get install libvirt-daemon-system)")
    return exe


async def _start(what: str, argv: list[str], path: Path) -> None:
    """Run a daemon's start command (it forks and returns) and wait for its socket."""
    log.info("starting %s: nothing listens on %s", what, path)
    # its errors go to a file, not a pipe: the daemon it leaves behind may keep a
    # copy of the pipe open, and reading it to the end would never finish
    with tempfile.TemporaryFile() as errors:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=errors)
        if await proc.wait() != 0:
            await asyncio.to_thread(errors.seek, 0)
            said = (await asyncio.to_thread(errors.read)).decode(errors="replace").strip()
            raise DriverError(f"{what} failed: {said}")
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT
    while not await asyncio.to_thread(_listening, path):
        if asyncio.get_running_loop().time() > deadline:
            raise DriverError(f"{what} started but {path} does not answer")
        await asyncio.sleep(0.1)


async def ensure_running(uri: str) -> None:
    """Start virtlogd and libvirtd unless they answer (local system URIs only)."""
    path = socket_of(uri)
    if path is None or path != SYSTEM_SOCKET:
        return
    if not await asyncio.to_thread(_listening, VIRTLOGD_SOCKET):
        await _start("virtlogd -d", [_binary("virtlogd"), "-d"], VIRTLOGD_SOCKET)
    if not await asyncio.to_thread(_listening, path):
        await _start("libvirtd -d", [_binary("libvirtd"), "-d"], path)


# ---------------------------------------------------- hosts in network namespaces


@dataclass(frozen=True)
class PrivateDaemons:
    """The libvirtd and virtlogd of a compute host that is a network namespace of
    this machine. They run in the namespace (their guests' taps are made there) and
    in a mount namespace where their state directories are this host's own:
    ``<root>/{run,lib,log,etc-qemu}`` in place of /run/libvirt, /var/lib/libvirt,
    /var/log/libvirt and /etc/libvirt/qemu, so that two hosts' daemons never see
    each other's domains. QEMU's capability cache stays shared."""

    root: Path
    netns: str

    BINDS = (("run", "/run/libvirt"), ("lib", "/var/lib/libvirt"),
             ("log", "/var/log/libvirt"), ("etc-qemu", "/etc/libvirt/qemu"))

    @property
    def socket(self) -> Path:
        return self.root / "run" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.socket}"

    @property
    def qemu_log_dir(self) -> Path:
        return self.root / "log" / "qemu"

    def pid_file(self, binary: str) -> Path:
        return self.root / f"{binary}.pid"

    def command(self, binary: str) -> list[str]:
        """Start ``binary`` (-d) in the namespace with this host's directories."""
        lines = ["set -e"]
        for sub, target in self.BINDS:
            lines += [f"mkdir -p {self.root / sub} {target}",
                      f"mount --bind {self.root / sub} {target}"]
        lines.append(f"exec {_binary(binary)} -d -p {self.pid_file(binary)}")
        return ["ip", "netns", "exec", self.netns, "sh", "-c", "\n".join(lines)]

    async def ensure_running(self) -> None:
        if not await asyncio.to_thread(os.path.exists, f"/run/netns/{self.netns}"):
            raise DriverError(f"network namespace {self.netns} does not exist")
        logd = self.root / "run" / "virtlogd-sock"
        if not await asyncio.to_thread(_listening, logd):
            await _start(f"virtlogd in {self.netns}", self.command("virtlogd"), logd)
        if not await asyncio.to_thread(_listening, self.socket):
            await _start(f"libvirtd in {self.netns}", self.command("libvirtd"),
                         self.socket)

    def stop(self) -> None:
        """End both daemons (their guests' QEMU processes are not theirs to end)."""
        for binary in ("libvirtd", "virtlogd"):
            try:
                os.kill(int(self.pid_file(binary).read_text().strip()), 15)
            except (FileNotFoundError, ValueError, ProcessLookupError):
                pass
