"""End-to-end tests: real guests and real networking on this machine.

They need root, network namespaces and some tools (and for guests QEMU and
libvirt); where something is missing they skip with the reason, which
``pytest -ra`` prints. Objects they make use the ``nb`` prefix and addresses in
10.250.0.0/16 or 172.31.250.0/24, and are removed by fixture finalizers even when
a test fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def root_net_missing(*tools: str) -> str | None:
    """Why tests needing root networking cannot run here (None: they can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, bridges, nftables)"
    for tool in ("ip", *tools):
        if shutil.which(tool) is None:
            return f"needs {tool} (make sys-deps installs it)"
    probe = f"nbprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make network namespaces: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def requires_root_net(*tools: str) -> None:
    """Skip the calling test or fixture, with the reason, unless it can run here."""
    reason = root_net_missing(*tools)
    if reason:
        pytest.skip(reason)
