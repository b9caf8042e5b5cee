"""The networks' bridges a guest's taps go on, as os-vif's Linux bridge plugin does
for Nova: the bridge (``brq`` + 11 characters of the network id) is made when it
is missing, with the network's MTU, and the host's network agent then joins it
to the network (VXLAN, VLAN, flat) and filters the taps.

A bridge this driver made carries the alias ``nubo-compute``; it is removed when
its last guest goes and nothing else (no VXLAN, no DHCP port) is on it. A bridge
the network agent made is never touched.
"""

from __future__ import annotations

import json
import logging

from nubo.compute.agent.driver import DriverError
from nubo.compute.agent.libvirt.disks import run

log = logging.getLogger(__name__)
ALIAS = "nubo-compute"


def _ip(netns: str | None, *args: str) -> list[str]:
    return ["ip", *(["-n", netns] if netns else []), *args]


async def _show(name: str, netns: str | None) -> dict[str, object] | None:
    try:
        out = await run(*_ip(netns, "-j", "-d", "link", "show", "dev", name))
    except DriverError:
        return None
    found = json.loads(out or "[]")
    return found[0] if found else None


async def ensure(name: str, mtu: int | None, netns: str | None = None) -> None:
    """The bridge exists and is up (made, with ``mtu``, when missing)."""
    if await _show(name, netns) is None:
        try:
            await run(*_ip(netns, "link", "add", "name", name, "type", "bridge"))
            await run(*_ip(netns, "link", "set", "dev", name, "alias", ALIAS))
            if mtu:
                await run(*_ip(netns, "link", "set", "dev", name, "mtu", str(mtu)))
        except DriverError:
            if await _show(name, netns) is None:     # not made by someone else meanwhile
                raise
    await run(*_ip(netns, "link", "set", "dev", name, "up"))


async def remove_if_unused(name: str, netns: str | None = None) -> None:
    """Remove a bridge this driver made once nothing is on it."""
    link = await _show(name, netns)
    if link is None or link.get("ifalias") != ALIAS:
        return
    ports = json.loads(await run(*_ip(netns, "-j", "link", "show", "master", name)) or "[]")
    if ports:
        return
    try:
        await run(*_ip(netns, "link", "del", "dev", name))
    except DriverError as e:
        log.info("bridge %s not removed: %s", name, e.message)
