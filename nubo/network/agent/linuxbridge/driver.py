"""LinuxBridgeDriver: one host's kernel data plane (``[network] agent_driver =
"linuxbridge"``), as Neutron's Linux bridge, DHCP, L3 and metadata agents build it.

The host is the machine's root network namespace or, for the extra hosts of
``[network] netns_hosts``, a namespace of its own; ``l2`` makes its bridges and
puts taps on them, ``firewall`` its security groups and anti-spoofing, ``dhcp`` the
dnsmasq servers and ``routers`` the routers (those two only on the root host).
Every object it makes carries the cloud's tag (``names.Tag``), so ``inventory``
finds them all again after a restart and leaves other clouds' objects alone.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from nubo.core.config import NetworkSettings
from nubo.core.owner import owner_of
from nubo.network.agent.driver import DriverError, Inventory, NetworkDriver
from nubo.network.agent.linuxbridge import dnsmasq, firewall, names
from nubo.network.agent.linuxbridge.devices import DeviceWatch
from nubo.network.agent.linuxbridge.dhcp import DhcpServers
from nubo.network.agent.linuxbridge.l2 import DHCP_OWNER, L2, Mappings
from nubo.network.agent.linuxbridge.links import Links
from nubo.network.agent.linuxbridge.metadata import MetadataProxy, MetadataSource
from nubo.network.agent.linuxbridge.netns import Namespaces
from nubo.network.agent.linuxbridge.records import Records
from nubo.network.agent.linuxbridge.routers import Routers
from nubo.network.agent.linuxbridge.shell import Shell
from nubo.network.agent.state import Dhcp, Firewall, Network, Port, Router

log = logging.getLogger(__name__)
TOOLS = ("ip", "bridge", "nft", "sysctl", "dnsmasq", "dhcp_release")


class LinuxBridgeDriver(NetworkDriver):
    needs_dhcp_port = True
    # made by start(), once the cloud's owner tag and the host's records are read
    owner: str
    records: Records
    l2: L2
    dhcp: DhcpServers
    routers: Routers

    def __init__(self, host: str, settings: NetworkSettings, state_dir: Path, *,
                 netns: str | None = None, local_ip: str = "",
                 bridge_mappings: dict[str, str] | None = None,
                 metadata: MetadataSource | None = None) -> None:
        self.host = host
        self.settings = settings
        self.dir = state_dir / "linuxbridge"
        self.sh = Shell(netns)
        self.links = Links(self.sh)
        self.local_ip = local_ip or settings.local_ip
        self.mappings = Mappings(dict(settings.physical_interface_mappings),
                                 dict(settings.bridge_mappings if bridge_mappings is None
                                      else bridge_mappings))
        self.namespaces = Namespaces(self.sh, self.links)
        # the metadata proxy, on the host that has DHCP and routers
        self.metadata = MetadataProxy(metadata) if metadata is not None else None
        self.watch = DeviceWatch(self.sh, names.TAP, self._device_changed)
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        for tool in TOOLS:
            if not await self.sh.ok("which", tool, ns=None):
                raise DriverError(f"the linuxbridge driver needs {tool} (apt: iproute2, "
                                  "nftables, procps, dnsmasq-base, dnsmasq-utils)")
        if self.sh.netns and not await self.sh.ok("true"):
            raise DriverError(f"host {self.host}: network namespace {self.sh.netns} "
                              "does not exist")
        self.owner = await asyncio.to_thread(owner_of, self.dir.parent)
        self.records = await asyncio.to_thread(Records.load, self.dir / f"{self.host}.json")
        # what the firewall last applied allowed: what a change revokes is measured from
        # it, and each revocation starts a new generation of the rules in its direction
        self._allowed = self._allowances()
        self._stamps = firewall.Stamps.fresh()
        self.local_ip = self.local_ip or await self._route_source()
        self.l2 = L2(self.links, self.records, self.owner, self.local_ip, self.mappings)
        self.dhcp = self._dhcp()
        self.routers = self._routers()
        self.watch.start()

    def _dhcp(self) -> DhcpServers:
        s = self.settings
        options = dnsmasq.Options(s.dhcp_lease_duration, tuple(s.dnsmasq_dns_servers),
                                  s.enable_isolated_metadata)
        return DhcpServers(self.links, self.namespaces, self.owner, self.dir / "dhcp",
                           options, self.metadata)

    def _routers(self) -> Routers:
        return Routers(self.links, self.namespaces, self.owner, self.dir / "routers",
                       self.l2.bridge_of, self.metadata)

    def _root_only(self, what: str) -> None:
        if self.sh.netns:
            raise DriverError(f"host {self.host} lives in namespace {self.sh.netns}: "
                              f"{what} run on the machine's own host only")

    async def stop(self) -> None:
        await self.watch.stop()
        if self.metadata is not None:
            await self.metadata.close()

    async def _route_source(self) -> str:
        routes = await self.sh.json("ip", "-j", "route", "get", "1.0.0.0")
        source = routes[0].get("prefsrc") if routes else None
        if not source:
            raise DriverError(f"host {self.host}: no local_ip set and no route to find one")
        return str(source)

    def configurations(self) -> dict[str, object]:
        return {"driver": "linuxbridge", "tunneling_ip": self.local_ip,
                "interface_mappings": dict(self.mappings.interfaces),
                "bridge_mappings": dict(self.mappings.bridges)}

    async def inventory(self) -> Inventory:
        async with self._lock:
            links = await self.links.all()
            if self.sh.netns:
                dhcp, routers = {}, {}
            else:
                dhcp, routers = await self.dhcp.inventory(), await self.routers.inventory()
            return Inventory(networks=self.l2.networks(links), ports=self.l2.ports(links),
                             dhcp=dhcp, routers=routers, firewall=await self._firewall_digest())

    async def _device_changed(self, tap: str) -> None:
        async with self._lock:
            port_id = await self.l2.device_changed(tap)
        if port_id and self.devices_changed is not None:
            self.devices_changed(frozenset({port_id}))

    # ------------------------------------------------------------------ L2

    async def ensure_network(self, network: Network) -> None:
        async with self._lock:
            await self.l2.ensure_network(network)

    async def remove_network(self, network_id: str) -> None:
        async with self._lock:
            await self.l2.remove_network(network_id)

    async def plug_port(self, port: Port) -> None:
        async with self._lock:
            if port.device_owner == DHCP_OWNER:
                self._root_only("DHCP servers")
                await self.dhcp.wire_port(port.id, port.mac_address, port.mtu,
                                          port.network_id)
            await self.l2.record_port(port)
            await self._firewall()      # rules before the tap is on the bridge
            await self.l2.wire(port.id)

    async def unplug_port(self, port_id: str) -> None:
        async with self._lock:
            await self.l2.unplug_port(port_id)
            await self._firewall()

    async def sync_firewall(self, firewall: Firewall) -> None:
        async with self._lock:
            self.records.firewall = firewall
            await asyncio.to_thread(self.records.save)
            await self._firewall()

    async def _firewall(self) -> None:
        """The host's firewall tables as its ports and groups now say; when they
        revoke something, in a new generation (established connections meet the
        rules again)."""
        allowed = self._allowances()
        self._stamps = self._stamps.after(firewall.revoked(self._allowed, allowed))
        ports = [firewall.Secured(r.port, r.mark) for r in self.records.ports.values()]
        await self.sh.run("nft", "-f", "-", stdin=firewall.render(
            self.owner, ports, self.records.firewall, self._stamps))
        self._allowed = allowed

    def _allowances(self) -> dict[tuple[str, str], frozenset[firewall.Allowance]]:
        return firewall.allowances([r.port for r in self.records.ports.values()],
                                   self.records.firewall)

    async def _firewall_digest(self) -> str | None:
        """The groups' digest when the tables are there."""
        name = firewall.table(self.owner)
        if not await self.sh.ok("nft", "list", "table", "inet", name) or \
                not await self.sh.ok("nft", "list", "table", "bridge", name):
            return None
        return self.records.firewall_digest

    # ---------------------------------------------------------------- DHCP

    async def ensure_dhcp(self, dhcp: Dhcp) -> None:
        self._root_only("DHCP servers")
        async with self._lock:
            await self.dhcp.ensure(dhcp, self.l2.bridge_of(dhcp.network_id))

    async def remove_dhcp(self, network_id: str) -> None:
        async with self._lock:
            await self.dhcp.remove(network_id)

    # ------------------------------------------------------------------ L3

    async def ensure_router(self, router: Router) -> None:
        self._root_only("routers")
        async with self._lock:
            await self.routers.ensure(router)

    async def remove_router(self, router_id: str) -> None:
        async with self._lock:
            await self.routers.remove(router_id)
