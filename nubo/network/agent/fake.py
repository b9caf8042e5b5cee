"""FakeDriver: a data plane that records, for tests and the all-in-one.

Everything a host was told to apply is kept under
``<state_dir>/fake-network-hosts/<host>/``, one JSON file per object
(``networks/<id>.json``, ``ports/``, ``dhcp/``, ``routers/`` and ``firewall.json``,
each the state as applied and its digest), so a fake host survives a restart of the
process as a real host's kernel state would, a change writes only what changed, and
tests can read what each host has (``read_host``). Operations take ``[network] fake_delays`` seconds each (by method
name) and fail with ``DriverError`` on the hosts ``[network] fake_failures`` lists
for them (``{"plug_port": ["fake-host-2"]}``).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson

from nubo.core.config import NetworkSettings
from nubo.network.agent.driver import (
    DriverError,
    Inventory,
    NetworkDriver,
    PlacedPort,
    PlacedRouter,
)
from nubo.network.agent.state import (
    Dhcp,
    Firewall,
    Network,
    Port,
    Router,
    as_dict,
    digest_of,
    recorded,
)

KINDS = ("networks", "ports", "dhcp", "routers")


def host_dir(state_dir: Path, host: str) -> Path:
    return state_dir / "fake-network-hosts" / host


def read_host(state_dir: Path, host: str) -> dict[str, Any]:
    """What ``host`` has applied: kind -> id -> {"digest", "state"}, and "firewall"
    (the same or None)."""
    root = host_dir(state_dir, host)
    data: dict[str, Any] = {kind: {} for kind in KINDS}
    for kind in KINDS:
        for path in sorted((root / kind).glob("*.json")):
            data[kind][path.stem] = orjson.loads(path.read_bytes())
    try:
        data["firewall"] = orjson.loads((root / "firewall.json").read_bytes())
    except FileNotFoundError:
        data["firewall"] = None
    return data


def write_host(state_dir: Path, host: str, data: dict[str, Any]) -> None:
    """Replace all ``host`` has applied with ``data`` (shaped as ``read_host``'s)."""
    root = host_dir(state_dir, host)
    for kind in KINDS:
        for path in (root / kind).glob("*.json"):
            if path.stem not in data.get(kind, {}):
                path.unlink()
        for key, item in data.get(kind, {}).items():
            _write(root / kind / f"{key}.json", item)
    if data.get("firewall") is None:
        (root / "firewall.json").unlink(missing_ok=True)
    else:
        _write(root / "firewall.json", data["firewall"])


def _write(path: Path, item: Any) -> None:
    """Atomically: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(orjson.dumps(item, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    os.replace(tmp, path)


class FakeDriver(NetworkDriver):
    def __init__(self, host: str, settings: NetworkSettings, state_dir: Path) -> None:
        self.host = host
        self.settings = settings
        self.state_dir = state_dir
        self.root = host_dir(state_dir, host)
        # kind -> id -> {"digest": .., "state": {...}}; "firewall" -> the same or None
        self.data: dict[str, Any] = self._empty()

    @staticmethod
    def _empty() -> dict[str, Any]:
        return {**{kind: {} for kind in KINDS}, "firewall": None}

    async def start(self) -> None:
        self.data = await asyncio.to_thread(read_host, self.state_dir, self.host)

    async def _step(self, op: str) -> None:
        seconds = float(self.settings.fake_delays.get(op, 0))
        if seconds > 0:
            await asyncio.sleep(seconds)
        if self.host in self.settings.fake_failures.get(op, []):
            raise DriverError(f"fake network host {self.host} was told to fail {op}")

    def _put(self, kind: str, key: str, value: Any) -> None:
        digest, state = recorded(value)
        item = self.data[kind][key] = {"digest": digest, "state": state}
        _write(self.root / kind / f"{key}.json", item)

    def _drop(self, kind: str, key: str) -> None:
        if self.data[kind].pop(key, None) is not None:
            (self.root / kind / f"{key}.json").unlink(missing_ok=True)

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
        self._put("networks", network.id, network)

    async def remove_network(self, network_id: str) -> None:
        await self._step("remove_network")
        self._drop("networks", network_id)

    async def plug_port(self, port: Port) -> None:
        await self._step("plug_port")
        if port.network_id not in self.data["networks"]:
            raise DriverError(f"no bridge for network {port.network_id} on {self.host}")
        self._put("ports", port.id, port)

    async def unplug_port(self, port_id: str) -> None:
        await self._step("unplug_port")
        self._drop("ports", port_id)

    async def sync_firewall(self, firewall: Firewall) -> None:
        await self._step("sync_firewall")
        self.data["firewall"] = {"digest": digest_of(firewall), "state": as_dict(firewall)}
        _write(self.root / "firewall.json", self.data["firewall"])

    async def ensure_dhcp(self, dhcp: Dhcp) -> None:
        await self._step("ensure_dhcp")
        self._put("dhcp", dhcp.network_id, dhcp)

    async def remove_dhcp(self, network_id: str) -> None:
        await self._step("remove_dhcp")
        self._drop("dhcp", network_id)

    async def ensure_router(self, router: Router) -> None:
        await self._step("ensure_router")
        self._put("routers", router.id, router)

    async def remove_router(self, router_id: str) -> None:
        await self._step("remove_router")
        self._drop("routers", router_id)
