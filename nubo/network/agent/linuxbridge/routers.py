"""Routers: a ``qrouter-<router>`` namespace per router with IP forwarding, a
``qr-`` device per interface (its address the subnet's gateway) and a ``qg-``
device on the external network's bridge holding the gateway address and the
floating IPs (so it answers ARP for them), each the inside end of a veth whose
``tap`` end is on the network's bridge; the default route through the external
subnet's gateway, the router's static routes, and its NAT (``nat.py``). What was
applied (digest, networks, floating IPs, devices) is kept in
``<state_dir>/linuxbridge/routers/<router>.json`` for the inventory."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from nubo.network.agent.driver import DriverError, PlacedRouter
from nubo.network.agent.linuxbridge import names, nat
from nubo.network.agent.linuxbridge.links import Links
from nubo.network.agent.linuxbridge.names import Tag
from nubo.network.agent.linuxbridge.netns import Namespaces
from nubo.network.agent.state import Router, RouterPort, digest_of

KIND = "router"
LEG = "leg"


class MetadataServing(Protocol):
    """What routers ask of the metadata proxy."""

    async def serve_router(self, namespace: str, router_id: str,
                           network_ids: tuple[str, ...]) -> None: ...

    async def stop(self, namespace: str) -> None: ...

    def serving(self, namespace: str) -> bool: ...


def _cidr(address: str, cidr: str) -> str:
    return f"{address}/{ipaddress.ip_network(cidr).prefixlen}"


class Routers:
    def __init__(self, links: Links, namespaces: Namespaces, owner: str, directory: Path,
                 bridge_of: Callable[[str], str], metadata: MetadataServing | None) -> None:
        self.links = links
        self.sh = links.sh
        self.ns = namespaces
        self.owner = owner
        self.dir = directory
        self.bridge_of = bridge_of
        self.metadata = metadata

    def _record(self, router_id: str) -> Path:
        return self.dir / f"{router_id}.json"

    async def ensure(self, router: Router) -> None:
        ns = names.router_namespace(router.id)
        await self.ns.ensure(ns, Tag(self.owner, KIND, router.id))
        tag = await self.ns.tag(ns)
        if tag is not None and tag.owner != self.owner:
            raise DriverError(f"{ns} belongs to another cloud ({tag.owner})")
        await self.sh.sysctl("net.ipv4.ip_forward", "1", ns=ns)
        await self.sh.sysctl("net.ipv6.conf.all.forwarding", "1", ns=ns)
        up = router.admin_state_up
        legs = [await self._leg(ns, leg, names.router_interface(leg.id), up)
                for leg in router.interfaces]
        if router.gateway is not None:
            carried = sorted({f.floating_ip_address for f in router.floating_ips}
                             | {f.floating_ip_address for f in router.port_forwardings})
            legs.append(await self._leg(ns, router.gateway,
                                        names.router_gateway(router.gateway.id), up,
                                        extra={f"{a}/32" for a in carried}))
        await self._drop_other_legs(ns, legs)
        await self._routes(ns, router)
        serve = self.metadata is not None and bool(router.interfaces)
        await self.sh.run("nft", "-f", "-", ns=ns, stdin=nat.render(router, metadata=serve))
        if self.metadata is not None:
            if serve:
                await self.metadata.serve_router(
                    ns, router.id, tuple(sorted({leg.network_id for leg in router.interfaces})))
            else:
                await self.metadata.stop(ns)
        digest = digest_of(router)
        await asyncio.to_thread(self._save, router, digest, legs)
        await self.ns.set_tag(ns, Tag(self.owner, KIND, router.id, digest))

    def _save(self, router: Router, digest: str, legs: list[str]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._record(router.id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({
            "digest": digest, "legs": legs, "network_ids": list(router.network_ids()),
            "floating_ip_ids": sorted(router.floating_ip_ids())}))
        os.replace(tmp, path)

    async def _leg(self, ns: str, leg: RouterPort, inner: str, up: bool, *,
                   extra: set[str] | None = None) -> str:
        """One leg: the veth, its MAC, MTU and addresses, its tap on the bridge."""
        outer = names.tap(leg.id)
        await self.links.ensure_veth(outer, inner, ns)
        found = await self.links.get(outer)
        if found is not None and found.tag is None:
            await self.links.set_tag(outer, Tag(self.owner, LEG, leg.id))
        await self.sh.ip("link", "set", "dev", inner, "address", leg.mac_address, "mtu",
                         str(leg.mtu), ns=ns)
        wanted = {_cidr(ip.ip_address, ip.cidr) for ip in leg.fixed_ips} | (extra or set())
        await self.links.set_addresses(inner, wanted, ns)
        await self.sh.ip("link", "set", "dev", inner, "up" if up else "down", ns=ns)
        await self.links.attach(outer, self.bridge_of(leg.network_id), leg.mtu)
        return inner

    async def _drop_other_legs(self, ns: str, legs: list[str]) -> None:
        for name in await self.links.all(ns=ns):
            if name.startswith((names.ROUTER_IF, names.ROUTER_GW)) and name not in legs:
                await self.links.delete(name, ns=ns)

    async def _routes(self, ns: str, router: Router) -> None:
        """The default route through the external gateway; the static routes."""
        gateway = names.router_gateway(router.gateway.id) if router.gateway else None
        for version in (4, 6):
            via = [g for g in router.external_gateways
                   if ipaddress.ip_address(g).version == version]
            family = "-4" if version == 4 else "-6"
            if gateway and via:
                await self.sh.ip(family, "route", "replace", "default", "via", via[0], "dev",
                                 gateway, ns=ns)
            else:
                await self.sh.ip(family, "route", "del", "default", ns=ns, check=False)
        wanted = {(r.destination, r.nexthop) for r in router.routes}
        have: set[tuple[str, str]] = set()
        for family in ("-4", "-6"):
            for r in await self.sh.json("ip", family, "-j", "route", "show", "proto", "static",
                                        ns=ns):
                have.add((_destination(r), str(r.get("gateway", ""))))
        for dest, hop in sorted(have - wanted):
            await self.sh.ip("route", "del", dest, "via", hop, "proto", "static", ns=ns,
                             check=False)
        for dest, hop in sorted(wanted - have):
            await self.sh.ip("route", "replace", dest, "via", hop, "proto", "static", ns=ns)

    async def remove(self, router_id: str) -> None:
        ns = names.router_namespace(router_id)
        if self.metadata is not None:
            await self.metadata.stop(ns)
        if await self.ns.exists(ns):
            tag = await self.ns.tag(ns)
            if tag is not None and tag.owner != self.owner:
                raise DriverError(f"{ns} belongs to another cloud ({tag.owner})")
            await self.ns.delete(ns)
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._record(router_id).unlink)

    async def inventory(self) -> dict[str, PlacedRouter]:
        out: dict[str, PlacedRouter] = {}
        for ns in await self.ns.names(names.ROUTER_NS):
            router_id = ns[len(names.ROUTER_NS):]
            tag = await self.ns.tag(ns)
            if tag is None or tag.owner != self.owner or tag.kind != KIND:
                continue
            record = await asyncio.to_thread(self._load, router_id)
            if record is None:
                out[router_id] = PlacedRouter(None)
                continue
            healthy = tag.digest == record["digest"] and await self._healthy(ns, record)
            out[router_id] = PlacedRouter(
                record["digest"] if healthy else None, tuple(record["network_ids"]),
                tuple(record["floating_ip_ids"]))
        for leftover in await asyncio.to_thread(self._recorded):
            out.setdefault(leftover, PlacedRouter(None))   # a record whose namespace went
        return out

    def _recorded(self) -> list[str]:
        return [p.stem for p in self.dir.glob("*.json")] if self.dir.is_dir() else []

    def _load(self, router_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = json.loads(self._record(router_id).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return found

    async def _healthy(self, ns: str, record: dict[str, Any]) -> bool:
        have = await self.links.all(ns=ns)
        if any(leg not in have for leg in record["legs"]):
            return False
        if not await self.sh.ok("nft", "list", "table", "ip", nat.TABLE, ns=ns):
            return False
        serves = any(leg.startswith(names.ROUTER_IF) for leg in record["legs"])
        return self.metadata is None or not serves or self.metadata.serving(ns)


def _destination(route: dict[str, Any]) -> str:
    dest = str(route.get("dst", ""))
    if dest and "/" not in dest and dest != "default":
        dest += "/32" if ":" not in dest else "/128"
    return dest
