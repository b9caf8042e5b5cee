"""Layer 2 of one host: a bridge per network joined to its segment (a VXLAN device
flooding to the other hosts, a VLAN sub-interface or the physical interface of a
flat network, or a mapped bridge used as is), and the ports' taps on them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from nubo.network.agent.driver import DriverError, PlacedPort
from nubo.network.agent.linuxbridge import names
from nubo.network.agent.linuxbridge.links import Link, Links
from nubo.network.agent.linuxbridge.names import Tag
from nubo.network.agent.linuxbridge.records import NetworkRecord, PortRecord, Records
from nubo.network.agent.state import Network, Port, Segment, digest_of

log = logging.getLogger(__name__)
NET, SEG, PORT = "net", "seg", "port"
DHCP_OWNER = "network:dhcp"


@dataclass
class Mappings:
    """Where a host's physical networks are: interfaces and existing bridges."""

    interfaces: dict[str, str] = field(default_factory=dict)
    bridges: dict[str, str] = field(default_factory=dict)

    def supports(self, segment: Segment) -> bool:
        if segment.network_type in ("vxlan", "local"):
            return True
        physnet = segment.physical_network or ""
        if segment.network_type == "flat":
            return physnet in self.interfaces or physnet in self.bridges
        return segment.network_type == "vlan" and physnet in self.interfaces


class L2:
    def __init__(self, links: Links, records: Records, owner: str, local_ip: str,
                 mappings: Mappings) -> None:
        self.links = links
        self.records = records
        self.owner = owner
        self.local_ip = local_ip
        self.mappings = mappings
        # whether each port's device was there when the port was last wired (on its
        # plugging, or when its device came or went): what the agent has been told
        # or is about to be. An inventory does not change it: a tap it happens to
        # see first is still news for the watch (the sync taking the inventory may
        # be about other ports and not report this one)
        self.wired: dict[str, bool] = {}

    async def _save(self) -> None:
        await asyncio.to_thread(self.records.save)

    # -------------------------------------------------------------- networks

    def segment(self, network: Network) -> Segment:
        for seg in network.segments:
            if self.mappings.supports(seg):
                return seg
        kinds = ", ".join(f"{s.network_type}/{s.physical_network or '-'}"
                          for s in network.segments) or "none"
        raise DriverError(f"network {network.id}: no segment this host can join ({kinds})")

    async def ensure_network(self, network: Network) -> None:
        seg = self.segment(network)
        digest = digest_of(network)
        mapped = (self.mappings.bridges.get(seg.physical_network or "")
                  if seg.network_type == "flat" else None)
        if mapped:
            if await self.links.get(mapped) is None:
                raise DriverError(f"bridge {mapped} of physical network "
                                  f"{seg.physical_network} does not exist")
            self.records.networks[network.id] = NetworkRecord(digest, mapped, None, False)
            await self._save()
            return
        bridge = names.bridge(network.id)
        found = await self.links.ensure_bridge(bridge, network.mtu)
        if found is not None and found.tag is not None and found.tag.owner != self.owner:
            raise DriverError(f"bridge {bridge} belongs to another cloud ({found.tag.owner})")
        uplink = await self._uplink(network, seg, bridge)
        await self._drop_stale_uplinks(network.id, bridge, uplink)
        if not network.admin_state_up:
            await self.links.sh.ip("link", "set", "dev", bridge, "down")
        self.records.networks[network.id] = NetworkRecord(digest, bridge, uplink)
        await self._save()
        await self.links.set_tag(bridge, Tag(self.owner, NET, network.id, digest))

    async def _uplink(self, network: Network, seg: Segment, bridge: str) -> str | None:
        mtu = network.mtu
        if seg.network_type == "local":
            return None
        if seg.network_type == "vxlan":
            vni = int(seg.segmentation_id or 0)
            name = names.vxlan(vni)
            await self._claim(name, network.id)
            await self.links.ensure_vxlan(name, vni, self.local_ip, mtu)
            await self.links.set_flooding(
                name, tuple(p for p in network.tunnel_peers if p != self.local_ip))
        else:
            interface = self.mappings.interfaces[seg.physical_network or ""]
            if seg.network_type == "flat":
                await self.links.attach(interface, bridge, mtu)
                return interface
            name = names.vlan(interface, int(seg.segmentation_id or 0))
            await self._claim(name, network.id)
            await self.links.ensure_vlan(name, interface, int(seg.segmentation_id or 0), mtu)
        await self.links.set_tag(name, Tag(self.owner, SEG, network.id))
        await self.links.attach(name, bridge, mtu)
        return name

    async def _claim(self, name: str, network_id: str) -> None:
        """A segment device of another cloud, or of another of our networks, is not
        taken over."""
        found = await self.links.get(name)
        if found is None or found.tag is None:
            return
        if found.tag.owner != self.owner:
            raise DriverError(f"{name} belongs to another cloud ({found.tag.owner})")
        if found.tag.id != network_id:
            raise DriverError(f"{name} is the segment of network {found.tag.id}")

    async def _drop_stale_uplinks(self, network_id: str, bridge: str,
                                  uplink: str | None) -> None:
        for link in (await self.links.all()).values():
            if (link.tagged(self.owner, SEG) and link.tag is not None
                    and link.tag.id == network_id and link.name != uplink):
                await self.links.delete(link.name)
            elif link.master == bridge and link.name != uplink and link.tag is None \
                    and link.kind in ("vxlan", "vlan", ""):
                await self.links.sh.ip("link", "set", "dev", link.name, "nomaster")

    async def remove_network(self, network_id: str) -> None:
        record = self.records.networks.pop(network_id, None)
        ours = [link for link in (await self.links.all()).values()
                if link.tag is not None and link.tag.owner == self.owner
                and link.tag.id == network_id]
        for kind in (SEG, NET):         # the segment device first, the bridge last
            for link in ours:
                if link.tag is not None and link.tag.kind == kind:
                    await self.links.delete(link.name)
        if record is not None and record.own_bridge:
            found = await self.links.get(record.bridge)
            if found is not None and (found.tag is None or found.tag.owner == self.owner):
                await self.links.delete(record.bridge)
        await self._save()

    def networks(self, links: dict[str, Link]) -> dict[str, str | None]:
        """The networks on the host, with the digest applied where the bridge and
        its segment device are as they were made; orphan bridges with None."""
        out: dict[str, str | None] = {}
        for nid, rec in self.records.networks.items():
            bridge = links.get(rec.bridge)
            if bridge is None:      # lost: made again, or its leftovers removed
                out[nid] = None
                continue
            healthy = rec.uplink is None or (
                rec.uplink in links and links[rec.uplink].master == rec.bridge)
            if rec.own_bridge:
                healthy = healthy and bridge.tag == Tag(self.owner, NET, nid, rec.digest)
            out[nid] = rec.digest if healthy else None
        for link in links.values():
            if link.tag is not None and (link.tagged(self.owner, SEG) or (
                    link.kind == "bridge" and link.tagged(self.owner, NET))):
                out.setdefault(link.tag.id, None)
        return out

    # ----------------------------------------------------------------- ports

    def bridge_of(self, network_id: str) -> str:
        record = self.records.networks.get(network_id)
        if record is None:
            raise DriverError(f"network {network_id} is not on this host")
        return record.bridge

    async def record_port(self, port: Port) -> None:
        """Record the port (its tap goes on the bridge with ``wire``, now if the tap
        is there, else when the device watch sees it come)."""
        self.bridge_of(port.network_id)
        old = self.records.ports.get(port.id)
        digest = digest_of(port)
        self.records.ports[port.id] = PortRecord(port, digest, old.mark if old
                                                 else self.records.free_mark())
        await self._save()

    async def wire(self, port_id: str, bridge: str | None = None) -> bool:
        """Put a recorded port's tap on its bridge; whether the tap is there."""
        record = self.records.ports.get(port_id)
        if record is None:
            return False
        port = record.port
        tap = names.tap(port_id)
        link = await self.links.get(tap)
        if link is None:
            self.wired[port_id] = False
            return False
        if link.tag == Tag(self.owner, PORT, port_id, record.digest) \
                and link.master == (bridge or self.bridge_of(port.network_id)):
            self.wired[port_id] = True
            return True
        await self.links.attach(tap, bridge or self.bridge_of(port.network_id), port.mtu,
                                up=port.admin_state_up)
        await self.links.set_tag(tap, Tag(self.owner, PORT, port_id, record.digest))
        self.wired[port_id] = True
        return True

    async def unplug_port(self, port_id: str) -> Port | None:
        """Forget the port and take its tap off the bridge; the port it was."""
        record = self.records.ports.pop(port_id, None)
        self.wired.pop(port_id, None)
        await self._save()
        tap = names.tap(port_id)
        link = await self.links.get(tap)
        if link is not None and (link.tag is None or link.tag.owner == self.owner):
            await self.links.sh.ip("link", "set", "dev", tap, "nomaster", check=False)
            await self.links.sh.ip("link", "set", "dev", tap, "alias", "", check=False)
        return record.port if record else None

    def ports(self, links: dict[str, Link]) -> dict[str, PlacedPort]:
        out: dict[str, PlacedPort] = {}
        bridges = {r.bridge: nid for nid, r in self.records.networks.items()}
        for pid, rec in self.records.ports.items():
            link = links.get(names.tap(pid))
            bridge = self.records.networks.get(rec.port.network_id)
            if link is None:
                out[pid] = PlacedPort(rec.port.network_id, rec.digest, wired=False)
            elif (link.tag == Tag(self.owner, PORT, pid, rec.digest) and bridge is not None
                  and link.master == bridge.bridge):
                out[pid] = PlacedPort(rec.port.network_id, rec.digest)
            else:
                out[pid] = PlacedPort(rec.port.network_id, None)
        for link in links.values():
            if link.tagged(self.owner, PORT) and link.tag and link.tag.id not in out:
                out[link.tag.id] = PlacedPort(bridges.get(link.master or "", ""), None)
        return out

    async def device_changed(self, tap: str) -> str | None:
        """A device came or went: the port whose wiring changed, if any."""
        for pid in self.records.ports:
            if names.tap(pid) == tap:
                before = self.wired.get(pid)
                try:
                    now = await self.wire(pid)
                except DriverError as e:
                    log.warning("wiring %s: %s", tap, e.message)
                    return None
                return pid if now != before else None
        return None
