"""FakeDriver: a data plane that records, for tests and the all-in-one.

Everything a host was told to apply is kept in
``<state_dir>/fake-network-hosts/<host>.json`` (networks, plugged ports, DHCP,
routers, firewall, each as applied and with its digest), so a fake host survives a
restart of the process as a real host's kernel state would, and tests can read what
each host has. Operations take ``[network] fake_delays`` seconds each (by method
name) and fail with ``DriverError`` on the hosts ``[network] fake_failures`` lists
for them (``{"plug_port": ["fake-host-2"]}``).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from nubo.core.config import NetworkSettings
from nubo.network.agent.driver import (
    DriverError,
    Inventory,
    NetworkDriver,
    PlacedPort,
    PlacedRouter,
)
from nubo.network.agent.state import Dhcp, Firewall, Network, Port, Router, as_dict, digest_of

KINDS = ("networks", "ports", "dhcp", "routers")


def state_file(state_dir: Path, host: str) -> Path:
    return state_dir / "fake-network-hosts" / f"{host}.json"


class FakeDriver(NetworkDriver):
    def __init__(self, host: str, settings: NetworkSettings, state_dir: Path) -> None:
        self.host = host
        self.settings = settings
        self.path = state_file(state_dir, host)
        # kind -> id -> {"digest": .., "state": {...}}; "firewall" -> the same or None
        self.data: dict[str, Any] = self._empty()
        self._lock = asyncio.Lock()

    @staticmethod
    def _empty() -> dict[str, Any]:
        return {**{kind: {} for kind in KINDS}, "firewall": None}

    async def start(self) -> None:
        self.data = await asyncio.to_thread(self._load)

    def _load(self) -> dict[str, Any]:
        try:
            saved = json.loads(self.path.read_text())
        except FileNotFoundError:
            return self._empty()
        return {**self._empty(), **{k: saved[k] for k in (*KINDS, "firewall") if k in saved}}

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"host": self.host, **data}, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    async def _step(self, op: str) -> None:
        seconds = float(self.settings.fake_delays.get(op, 0))
        if seconds > 0:
            await asyncio.sleep(seconds)
        if self.host in self.settings.fake_failures.get(op, []):
            raise DriverError(f"fake network host {self.host} was told to fail {op}")

    async def _put(self, kind: str, key: str, value: Any) -> None:
        async with self._lock:
            self.data[kind][key] = {"digest": digest_of(value), "state": as_dict(value)}
            await asyncio.to_thread(self._write, json.loads(json.dumps(self.data)))

    async def _drop(self, kind: str, key: str) -> None:
        async with self._lock:
            if self.data[kind].pop(key, None) is not None:
                await asyncio.to_thread(self._write, json.loads(json.dumps(self.data)))

    async def inventory(self) -> Inventory:
        d = self.data
        routers = {}
        for rid, r in d["routers"].items():
            legs = [r["state"]["gateway"], *r["state"]["interfaces"]]
            routers[rid] = PlacedRouter(
                r["digest"], tuple(sorted({leg["network_id"] for leg in legs if leg})),
                tuple(sorted({f["id"] for f in r["state"]["floating_ips"]}
                             | {f["floatingip_id"] for f in r["state"]["port_forwardings"]})))
        return Inventory(
            networks={k: v["digest"] for k, v in d["networks"].items()},
            ports={k: PlacedPort(v["state"]["network_id"], v["digest"])
                   for k, v in d["ports"].items()},
            dhcp={k: v["digest"] for k, v in d["dhcp"].items()},
            routers=routers,
            firewall=d["firewall"]["digest"] if d["firewall"] else None)

    def configurations(self) -> dict[str, object]:
        return {"driver": "fake"}

    async def ensure_network(self, network: Network) -> None:
        await self._step("ensure_network")
        await self._put("networks", network.id, network)

    async def remove_network(self, network_id: str) -> None:
        await self._step("remove_network")
        await self._drop("networks", network_id)

    async def plug_port(self, port: Port) -> None:
        await self._step("plug_port")
        if port.network_id not in self.data["networks"]:
            raise DriverError(f"no bridge for network {port.network_id} on {self.host}")
        await self._put("ports", port.id, port)

    async def unplug_port(self, port_id: str) -> None:
        await self._step("unplug_port")
        await self._drop("ports", port_id)

    async def sync_firewall(self, firewall: Firewall) -> None:
        await self._step("sync_firewall")
        async with self._lock:
            self.data["firewall"] = {"digest": digest_of(firewall), "state": as_dict(firewall)}
            await asyncio.to_thread(self._write, json.loads(json.dumps(self.data)))

    async def ensure_dhcp(self, dhcp: Dhcp) -> None:
        await self._step("ensure_dhcp")
        await self._put("dhcp", dhcp.network_id, dhcp)

    async def remove_dhcp(self, network_id: str) -> None:
        await self._step("remove_dhcp")
        await self._drop("dhcp", network_id)

    async def ensure_router(self, router: Router) -> None:
        await self._step("ensure_router")
        await self._put("routers", router.id, router)

    async def remove_router(self, router_id: str) -> None:
        await self._step("remove_router")
        await self._drop("routers", router_id)
