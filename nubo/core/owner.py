"""The owner tag of a state directory: a short random id made once and kept in
``<state>/owner``. Every object nubo makes outside its database — kernel devices,
namespaces and firewall tables of the network agents, libvirt domains — carries
it, so that two nubos on one machine (a test run beside a running cloud, or hosts
simulated as namespaces with state of their own) each touch only what they made."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE = "owner"
# where the Linux bridge driver kept it before the libvirt driver needed it too
LEGACY = Path("linuxbridge") / "owner"


def owner_of(state_path: Path) -> str:
    """The tag of ``state_path``, made (or carried over from the old place) on
    first use; concurrent first uses agree on one."""
    path = state_path / FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    state_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    legacy = state_path / LEGACY
    owner = legacy.read_text().strip() if legacy.exists() else secrets.token_hex(4)
    tmp = state_path / f".{FILE}.{os.getpid()}.{secrets.token_hex(2)}"
    tmp.write_text(owner + "\n")
    try:
        os.link(tmp, path)          # the first writer wins; the others read its tag
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
