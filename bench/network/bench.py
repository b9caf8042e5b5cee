"""Networking API latency: the calls a tenant makes to get a server onto the
network, against a nubo of its own.

    .venv/bin/python bench/network/bench.py [--iterations 200] [--concurrency 1,16]
        [--url URL --password PW]

Starts ``nubo up`` (SQLite, in-process bus, fake network agents) unless ``--url``
points at a running one. As a member of a fresh project with unlimited network
quotas, each iteration makes, one call after another: a network, a /24 subnet on
it, a port, a router with its gateway on an external network (made by the admin),
the router's interface on the subnet, and a floating IP for the port. Iterations
run ``--concurrency`` at a time, once per concurrency given. Every call is timed
from request to answer.

Prints one JSON document: per concurrency and call, latency percentiles in ms, and
whether the target (p50 under 20 ms for create network, subnet, port, router
interface and floating IP) was met. The reference Neutron at 200 nodes: create_port
p50 0.55 s, create_network 0.31 s, create_floating_ip 0.7 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import accounts  # noqa: E402
from tests.cloud import Cloud, free_port  # noqa: E402

NET = "/network/v2.0"
TARGET_P50_MS = 20.0
TARGETED = ("create_network", "create_subnet", "create_port", "add_router_interface",
            "create_floatingip")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"n": len(ordered), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99),
            "max": round(ordered[-1] * 1000, 2),
            "mean": round(statistics.fmean(ordered) * 1000, 2)}


class Timer:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}


class Client:
    """The timed calls, on aiohttp: about a third of httpx's CPU per call, which
    matters when the client shares the machine's two cores with the cloud."""

    def __init__(self, session: aiohttp.ClientSession, timer: Timer) -> None:
        self.session = session
        self.timer = timer

    async def call(self, name: str, method: str, path: str, body: Any, expect: int) -> Any:
        start = time.perf_counter()
        async with self.session.request(method, f"{NET}{path}", json=body) as r:
            answer = await r.read()
        took = time.perf_counter() - start
        if r.status != expect:
            raise RuntimeError(f"{name}: {r.status} {answer.decode(errors='replace')}")
        self.timer.samples.setdefault(name, []).append(took)
        return json.loads(answer)


async def iteration(http: Client, n: int, public: str) -> None:
    cidr = f"10.{n // 256 % 256}.{n % 256}.0/24"
    net = (await http.call("create_network", "POST", "/networks", {
        "network": {"name": f"b-{n}"}}, 201))["network"]
    subnet = (await http.call("create_subnet", "POST", "/subnets", {
        "subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr}}, 201))["subnet"]
    port = (await http.call("create_port", "POST", "/ports", {
        "port": {"network_id": net["id"]}}, 201))["port"]
    router = (await http.call("create_router", "POST", "/routers", {
        "router": {"name": f"b-{n}", "external_gateway_info": {"network_id": public}}},
        201))["router"]
    await http.call("add_router_interface", "PUT",
                    f"/routers/{router['id']}/add_router_interface",
                    {"subnet_id": subnet["id"]}, 200)
    await http.call("create_floatingip", "POST", "/floatingips", {
        "floatingip": {"floating_network_id": public, "port_id": port["id"]}}, 201)


async def pool(count: int, concurrency: int, work: Callable[[int], Awaitable[None]]) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker() -> None:
        while not queue.empty():
            await work(queue.get_nowait())

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def prepare(url: str, password: str) -> tuple[str, str]:
    """A member's token in a fresh project with unlimited network quotas, and an
    external network (with a large floating-IP pool) the admin made."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as admin:
        admin.headers["X-Auth-Token"] = await accounts.admin_token(admin, password)
        member = await accounts.new_member(admin)
        r = await admin.put(f"{NET}/quotas/{member.project_id}", json={"quota": {
            key: -1 for key in ("network", "subnet", "port", "router", "floatingip")}})
        r.raise_for_status()
        r = await admin.post(f"{NET}/networks", json={"network": {
            "name": f"bench-public-{member.suffix}", "router:external": True}})
        r.raise_for_status()
        public = r.json()["network"]["id"]
        r = await admin.post(f"{NET}/subnets", json={"subnet": {
            "network_id": public, "ip_version": 4, "cidr": "172.30.0.0/16",
            "enable_dhcp": False}})
        r.raise_for_status()
        return await accounts.member_token(admin, member), public


async def bench(url: str, password: str, args: argparse.Namespace) -> dict[str, Any]:
    member, public = await prepare(url, password)
    out: dict[str, Any] = {}
    offset = 0
    for concurrency in args.concurrency:
        timer = Timer()
        connector = aiohttp.TCPConnector(limit=concurrency + 4)
        async with aiohttp.ClientSession(url, connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=120),
                                         headers={"X-Auth-Token": member}) as session:
            http = Client(session, timer)
            cpu = time.process_time()
            wall = await pool(args.iterations, concurrency,
                              lambda n, h=http, base=offset: iteration(h, base + n, public))
            cpu = time.process_time() - cpu
        offset += args.iterations
        calls = {name: percentiles(s) for name, s in timer.samples.items()}
        count = sum(len(s) for s in timer.samples.values())
        out[f"concurrency_{concurrency}"] = {
            "iterations": args.iterations, "wall_s": round(wall, 2),
            "calls_per_s": round(count / wall, 1),
            "client_cpu_ms_per_call": round(cpu / count * 1000, 2),
            "latency_ms": calls,
            "target_p50_met": {name: calls[name]["p50"] < TARGET_P50_MS for name in TARGETED}}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")],
                   default=[1, 16])
    p.add_argument("--url", help="a running nubo instead of a fresh one")
    p.add_argument("--password", help="its admin password (with --url)")
    args = p.parse_args()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="nubo-bench-network-") as tmp:
        cloud = None
        if args.url:
            url, password = args.url, args.password
        else:
            cloud = Cloud(Path(tmp) / "state", free_port(), f"sqlite:///{tmp}/nubo.db")
            cloud.start()
            url, password = cloud.url, cloud.admin_password
        try:
            results = asyncio.run(bench(url, password, args))
        finally:
            if cloud is not None:
                cloud.stop()
    met = all(all(r["target_p50_met"].values()) for r in results.values())
    print(json.dumps({
        "benchmark": "network", "started": started,
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
        "settings": {"database": "sqlite", "bus": "inproc", "agents": "fake"},
        "target_p50_ms": TARGET_P50_MS, "targets_met": met, **results,
    }, indent=2))


if __name__ == "__main__":
    main()
