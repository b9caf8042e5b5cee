"""DHCP servers: per network a ``qdhcp-<network>`` namespace holding the DHCP
port (``ns-`` end of a veth whose ``tap`` end is on the network's bridge) and a
dnsmasq started there, which outlives the agent (its pid file says where it is).
A change of hosts or options reaches dnsmasq by SIGHUP; a change of its command
line (subnets, lease time, domain) restarts it, and so does a change while a
host has options of its own (dnsmasq 2.90 crashes re-reading a hosts file with
``set:`` tags). Networks with a subnet that has
no router also get the metadata address on the DHCP port, served by the metadata
proxy (isolated metadata)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import shutil
import signal
from pathlib import Path
from typing import Protocol

from nubo.network.agent.driver import DriverError
from nubo.network.agent.linuxbridge import dnsmasq, names
from nubo.network.agent.linuxbridge.links import Links
from nubo.network.agent.linuxbridge.names import Tag
from nubo.network.agent.linuxbridge.netns import Namespaces
from nubo.network.agent.state import Dhcp, DhcpPort, digest_of

KIND = "dhcp"
METADATA_CIDR = f"{dnsmasq.METADATA_IP}/32"


class MetadataServing(Protocol):
    """What DHCP asks of the metadata proxy."""

    async def serve_network(self, namespace: str, network_id: str) -> None: ...

    async def stop(self, namespace: str) -> None: ...

    def serving(self, namespace: str) -> bool: ...


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _write(path: Path, text: str) -> bool:
    """Write ``text`` (atomically) when it differs; whether it did."""
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def running_pid(directory: Path) -> int | None:
    """The pid of the dnsmasq whose pid file is in ``directory``, if it runs."""
    try:
        pid = int((directory / "pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    wanted = f"--pid-file={directory / 'pid'}".encode()
    return pid if wanted in cmdline else None


def alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def command_of(pid: int) -> tuple[str, ...]:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    return tuple(a.decode() for a in raw)


class DhcpServers:
    def __init__(self, links: Links, namespaces: Namespaces, owner: str, directory: Path,
                 options: dnsmasq.Options, metadata: MetadataServing | None) -> None:
        self.links = links
        self.ns = namespaces
        self.owner = owner
        self.dir = directory
        self.options = options
        self.metadata = metadata

    def _dir(self, network_id: str) -> Path:
        return self.dir / network_id

    async def wire_port(self, port_id: str, mac: str, mtu: int, network_id: str) -> None:
        """The DHCP port's veth: ``tap`` in the host, ``ns-`` in the namespace."""
        namespace = names.dhcp_namespace(network_id)
        await self.ns.ensure(namespace, Tag(self.owner, KIND, network_id))
        inner = names.dhcp_device(port_id)
        await self.links.ensure_veth(names.tap(port_id), inner, namespace)
        outer = await self.links.get(names.tap(port_id))
        if outer is not None and outer.tag is None:     # the L2 side tags it when plugged
            await self.links.set_tag(outer.name, Tag(self.owner, "leg", port_id))
        await self.links.sh.ip("link", "set", "dev", inner, "address", mac, "mtu", str(mtu),
                               "up", ns=namespace)

    async def ensure(self, dhcp: Dhcp, bridge: str) -> None:
        if dhcp.port is None:
            raise DriverError(f"network {dhcp.network_id} has no DHCP port")
        namespace = names.dhcp_namespace(dhcp.network_id)
        await self.ns.ensure(namespace, Tag(self.owner, KIND, dhcp.network_id))
        tag = await self.ns.tag(namespace)
        if tag is not None and tag.owner != self.owner:
            raise DriverError(f"{namespace} belongs to another cloud ({tag.owner})")
        port = dhcp.port
        await self._drop_legs(namespace, keep=names.dhcp_device(port.id))
        await self.wire_port(port.id, port.mac_address, dhcp.mtu, dhcp.network_id)
        await self.links.attach(names.tap(port.id), bridge, dhcp.mtu)
        isolated = dnsmasq.metadata_isolated(dhcp, self.options)
        await self._addresses(namespace, port, isolated)
        await self._dnsmasq(dhcp, namespace)
        if self.metadata is not None:
            if isolated:
                await self.metadata.serve_network(namespace, dhcp.network_id)
            else:
                await self.metadata.stop(namespace)
        await self.ns.set_tag(namespace, Tag(self.owner, KIND, dhcp.network_id,
                                             digest_of(dhcp)))

    async def _addresses(self, namespace: str, port: DhcpPort, isolated: bool) -> None:
        device = names.dhcp_device(port.id)
        wanted = {f"{ip.ip_address}/{ipaddress.ip_network(ip.cidr).prefixlen}"
                  for ip in port.fixed_ips}
        if isolated:
            wanted.add(METADATA_CIDR)
        await self.links.set_addresses(device, wanted, namespace)

    async def _dnsmasq(self, dhcp: Dhcp, namespace: str) -> None:
        directory = self._dir(dhcp.network_id)
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True, mode=0o700)
        assert dhcp.port is not None
        config = dnsmasq.render(dhcp, directory, names.dhcp_device(dhcp.port.id), self.options)
        read = await asyncio.to_thread(_read, directory / "host")   # what dnsmasq has
        changed = False
        for name, text in (("host", config.hosts), ("opts", config.opts),
                           ("addn_hosts", config.addn_hosts)):
            changed |= await asyncio.to_thread(_write, directory / name, text)
        leases = directory / "leases"
        pid = running_pid(directory)
        if pid is not None and command_of(pid) == config.argv and not (
                changed and dnsmasq.sighup_crashes(read, config.hosts)):
            if changed:
                for lease in dnsmasq.stale_leases(await asyncio.to_thread(_read, leases), dhcp):
                    await self._release(namespace, names.dhcp_device(dhcp.port.id), lease)
                os.kill(pid, signal.SIGHUP)
            return
        if pid is not None:
            await self._kill(pid)
        # a dnsmasq about to start reads its leases: none of ports that are gone
        text = await asyncio.to_thread(_read, leases)
        stale = dnsmasq.stale_leases(text, dhcp)
        if stale:
            await asyncio.to_thread(_write, leases, dnsmasq.without(text, stale))
        await self.links.sh.daemon(*config.argv, ns=namespace,
                                   output=directory / "dnsmasq.out")

    async def _release(self, namespace: str, device: str, lease: dnsmasq.Lease) -> None:
        """Ask the running dnsmasq to drop a lease (a DHCPRELEASE on the client's
        behalf, by dnsmasq-utils' dhcp_release)."""
        client = [lease.client_id] if lease.client_id != "*" else []
        await self.links.sh.run("dhcp_release", device, lease.ip, lease.mac, *client,
                                ns=namespace, check=False)

    async def _kill(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not alive(pid):
                return
            await asyncio.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    async def remove(self, network_id: str) -> None:
        """Stop dnsmasq and the metadata proxy, remove the namespace (its veths go
        with it) and the files."""
        namespace = names.dhcp_namespace(network_id)
        directory = self._dir(network_id)
        pid = running_pid(directory)
        if pid is not None:
            await self._kill(pid)
        if self.metadata is not None:
            await self.metadata.stop(namespace)
        if await self.ns.exists(namespace):
            tag = await self.ns.tag(namespace)
            if tag is not None and tag.owner != self.owner:
                raise DriverError(f"{namespace} belongs to another cloud ({tag.owner})")
            await self._drop_legs(namespace)
            await self.ns.delete(namespace)
        await asyncio.to_thread(shutil.rmtree, directory, True)

    async def _drop_legs(self, namespace: str, keep: str | None = None) -> None:
        """The namespace's veths (``ns-`` devices) but ``keep``: an old DHCP port's."""
        if not await self.ns.exists(namespace):
            return
        for name in await self.links.all(ns=namespace):
            if name.startswith(names.DHCP_NS_DEV) and name != keep:
                await self.links.delete(name, ns=namespace)

    async def inventory(self) -> dict[str, str | None]:
        """The DHCP servers on the host: the digest applied where dnsmasq runs (and
        the metadata proxy where it should), else None."""
        out: dict[str, str | None] = {}
        for namespace in await self.ns.names(names.DHCP_NS):
            network_id = namespace[len(names.DHCP_NS):]
            tag = await self.ns.tag(namespace)
            if tag is None or tag.owner != self.owner or tag.kind != KIND:
                continue
            healthy = running_pid(self._dir(network_id)) is not None
            if healthy and self.metadata is not None and await self._wants_metadata(namespace):
                healthy = self.metadata.serving(namespace)
            out[network_id] = tag.digest if healthy and tag.id == network_id else None
        for leftover in await asyncio.to_thread(self._directories):
            out.setdefault(leftover, None)      # files of a DHCP whose namespace went
        return out

    def _directories(self) -> list[str]:
        return [d.name for d in self.dir.iterdir() if d.is_dir()] if self.dir.is_dir() else []

    async def _wants_metadata(self, namespace: str) -> bool:
        found = await self.links.sh.json("ip", "-j", "addr", "show", ns=namespace)
        return any(a.get("local") == dnsmasq.METADATA_IP
                   for d in found for a in d.get("addr_info", []))
