"""Which data plane the all-in-one runs: ``nubo up --data-plane``.

``real`` is the libvirt compute driver (QEMU guests) with the Linux bridge network
agent (bridges, VXLAN, dnsmasq, router namespaces, nftables) and the guest image;
``fake`` is the fake compute driver and network agents (no guest runs, no packet
flows); ``auto`` (what `make up` asks for) is real when this machine can run it and
fake otherwise, saying why. Without the flag the configuration decides
(``[compute] driver``, ``[network] agent_driver``; both default to fake).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from nubo.core.config import Settings
from nubo.core.errors import ConfigError

MODES = ("auto", "real", "fake")
FILE = "data-plane"
# what the real data plane runs, and the Debian package that has it
TOOLS = {"ip": "iproute2", "bridge": "iproute2", "nft": "nftables",
         "dnsmasq": "dnsmasq-base", "dhcp_release": "dnsmasq-utils",
         "qemu-system-x86_64": "qemu-system-x86",
         "qemu-img": "qemu-utils", "virsh": "libvirt-clients"}
LIBVIRTD = ("libvirtd", "/usr/sbin/libvirtd")


def missing() -> str | None:
    """Why this machine cannot run the real data plane (None: it can)."""
    if os.geteuid() != 0:
        return "needs root (libvirt's system daemon, bridges, namespaces, nftables)"
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            return f"needs {tool} (apt-get install {package}; `make up` installs it)"
    if not (shutil.which(LIBVIRTD[0]) or Path(LIBVIRTD[1]).exists()):
        return "needs libvirtd (apt-get install libvirt-daemon-system)"
    if importlib.util.find_spec("libvirt") is None:
        return "needs libvirt-python (pip install -e '.[libvirt]'; `make up` installs it)"
    probe = f"nuboprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make network namespaces: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def choose(mode: str) -> tuple[str, str | None]:
    """``real`` or ``fake`` for ``mode``, and why not real when auto fell back;
    ConfigError when real was asked for and cannot be."""
    if mode not in MODES:
        raise ConfigError(f"--data-plane must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "fake":
        return "fake", None
    why = missing()
    if why is None:
        return "real", None
    if mode == "real":
        raise ConfigError(f"the real data plane cannot run here: {why}")
    return "fake", why


def apply(settings: Settings, chosen: str) -> None:
    """Set the drivers of the chosen data plane (the flag wins over the configuration,
    as command-line flags do)."""
    real = chosen == "real"
    settings.compute.driver = "libvirt" if real else "fake"
    settings.network.agent_driver = "linuxbridge" if real else "fake"


def recorded(settings: Settings) -> str | None:
    """The data plane an earlier ``nubo up --data-plane`` chose for this state dir."""
    try:
        return (settings.state_path / FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def record(settings: Settings, chosen: str) -> None:
    settings.state_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    (settings.state_path / FILE).write_text(chosen + "\n")


def is_real(settings: Settings) -> bool:
    return settings.compute.driver == "libvirt"
