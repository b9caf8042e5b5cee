"""Compute at scale: boots, deletes and server lists against a nubo of its own.

    .venv/bin/python bench/compute/bench.py [--servers 1000] [--hosts 50]
        [--concurrency 50] [--seed 10000] [--list-repeats 30] [--url URL --password PW]

Starts ``nubo up`` (SQLite, in-process bus, ``--hosts`` fake hypervisors with zero
delays, unlimited quota for the bench project) unless ``--url`` points at a running
one, then runs, as a member of a fresh project:

1. boot: ``--servers`` servers, ``--concurrency`` at a time, each from ``POST
   /servers`` until the server is ACTIVE (the client polls ``GET /servers/{id}``);
2. list: ``GET /servers/detail`` (Nova's default page of up to 1,000) with those
   servers, ``--list-repeats`` times;
3. delete: every server, ``--concurrency`` at a time, until it is gone;
4. boot+delete: ``--servers`` cycles of create, ACTIVE, delete, gone, at
   ``--concurrency``;
5. seed to ``--seed`` servers with multi-create (``min_count``/``max_count``) and
   time ``GET /servers/detail?limit=1000`` and a full walk of every page.

One watcher polls ``GET /servers/detail?changes-since=`` every 100 ms for the status
changes every phase waits for (a client polling each server would cost the cloud
more than the work it measures). Prints one JSON document: rates, latency percentiles, the targets and whether they
were met. Targets: >= 100 boot+delete/s, p99 of a 1,000-server detail list < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import accounts  # noqa: E402
from tests.cloud import Cloud, free_port  # noqa: E402

COMPUTE = {"OpenStack-API-Version": "compute 2.90"}
FLAVOR = {"vcpus": 1, "ram": 64, "disk": 1}
TARGET_BOOT_DELETE_PER_S = 100.0
TARGET_LIST_P99_MS = 300.0
POLL = 0.1                        # seconds between the watcher's polls
LAG = dt.timedelta(seconds=0.3)   # how far each poll looks back before the last one
STALE = 10.0                      # seconds without news before asking for one server


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"n": len(ordered), "p50": at(0.50), "p90": at(0.90), "p99": at(0.99),
            "max": ordered[-1], "mean": statistics.fmean(ordered)}


def ms(summary: dict[str, float]) -> dict[str, float]:
    return {k: (v if k == "n" else round(v * 1000, 1)) for k, v in summary.items()}


class Watcher:
    """Server status changes as one client sees them: a single poller of
    ``GET /servers/detail?changes-since=`` (deleted servers show as DELETED)
    every ``POLL`` seconds wakes whoever waits for a server's status, so the
    cost of watching does not grow with the number of servers in flight."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.waiting: dict[str, tuple[frozenset[str], asyncio.Future[None]]] = {}
        self.seen: dict[str, str] = {}
        self.polls = 0
        self.rescued = 0
        self.paused = False

    async def wait(self, server_id: str, *statuses: str) -> None:
        if self.seen.get(server_id) in statuses:
            return
        future = asyncio.get_running_loop().create_future()
        self.waiting[server_id] = (frozenset(statuses), future)
        try:
            while True:
                try:
                    return await asyncio.wait_for(asyncio.shield(future), STALE)
                except TimeoutError:   # a change the polls missed: ask the server itself
                    self.rescued += 1
                    r = await self.http.get(f"/compute/v2.1/servers/{server_id}")
                    self._saw(r.json()["server"] if r.status_code == 200 else
                              {"id": server_id, "status": "DELETED"})
        finally:
            self.waiting.pop(server_id, None)

    async def run(self) -> None:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        while True:
            started = dt.datetime.now(dt.UTC)
            if not self.paused:
                await self._poll(since)
                self.polls += 1
                since = started - LAG
            await asyncio.sleep(POLL)

    async def _poll(self, since: dt.datetime) -> None:
        params: dict[str, Any] = {"changes-since": since.isoformat(), "limit": 1000}
        while True:
            r = await self.http.get("/compute/v2.1/servers/detail", params=params)
            r.raise_for_status()
            page = r.json()["servers"]
            for server in page:
                self._saw(server)
            if len(page) < 1000:
                return
            params["marker"] = page[-1]["id"]

    def _saw(self, server: dict[str, Any]) -> None:
        self.seen[server["id"]] = status = server["status"]
        if server["id"] not in self.waiting:
            return
        wanted, future = self.waiting[server["id"]]
        if future.done():
            return
        if status in wanted:
            future.set_result(None)
        elif status == "ERROR":
            future.set_exception(RuntimeError(f"server {server['id']} is ERROR: "
                                              f"{server.get('fault')}"))


@dataclass
class Bench:
    http: httpx.AsyncClient       # the member's token, compute microversion 2.90
    watcher: Watcher
    image_id: str
    flavor_id: str

    async def create(self, count: int = 1) -> list[str]:
        body: dict[str, Any] = {"name": f"b-{uuid.uuid4().hex[:6]}", "imageRef": self.image_id,
                                "flavorRef": self.flavor_id, "networks": "none"}
        if count > 1:
            body.update(min_count=count, max_count=count)
        r = await self.http.post("/compute/v2.1/servers", json={"server": body})
        if r.status_code != 202:
            raise RuntimeError(f"create: {r.status_code} {r.text}")
        return [r.json()["server"]["id"]] if count == 1 else []

    async def boot(self) -> str:
        (server_id,) = await self.create()
        await self.watcher.wait(server_id, "ACTIVE")
        return server_id

    async def delete(self, server_id: str) -> None:
        r = await self.http.delete(f"/compute/v2.1/servers/{server_id}")
        if r.status_code != 204:
            raise RuntimeError(f"delete: {r.status_code} {r.text}")
        await self.watcher.wait(server_id, "DELETED")

    async def list_detail(self, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        r = await self.http.get("/compute/v2.1/servers/detail", params=params)
        if r.status_code != 200:
            raise RuntimeError(f"list: {r.status_code} {r.text}")
        servers: list[dict[str, Any]] = r.json()["servers"]
        return servers


async def pool(items: list[Any], concurrency: int,
               work: Callable[[Any], Awaitable[Any]]) -> tuple[float, list[float], list[Any]]:
    """Run ``work(item)`` for every item, ``concurrency`` at a time: wall seconds,
    each item's seconds, the results."""
    queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
    for n, item in enumerate(items):
        queue.put_nowait((n, item))
    took: list[float] = [0.0] * len(items)
    results: list[Any] = [None] * len(items)

    async def worker() -> None:
        while not queue.empty():
            n, item = queue.get_nowait()
            start = time.perf_counter()
            results[n] = await work(item)
            took[n] = time.perf_counter() - start

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, took, results


async def timed(repeats: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        await call()
        out.append(time.perf_counter() - start)
    return out


async def walk(b: Bench) -> int:
    """Every page of ``GET /servers/detail?limit=1000``; how many servers."""
    params: dict[str, Any] = {"limit": 1000}
    total = 0
    while True:
        page = await b.list_detail(params)
        total += len(page)
        if len(page) < 1000:
            return total
        params["marker"] = page[-1]["id"]


async def count_building(b: Bench) -> int:
    r = await b.http.get("/compute/v2.1/servers", params={"status": "BUILD", "limit": 1000})
    return len(r.json()["servers"])


async def seed(b: Bench, total: int, have: int, batch: int = 100) -> float:
    """Multi-create batches until ``total`` servers exist, all ACTIVE."""
    start = time.perf_counter()
    sizes = [batch] * ((total - have) // batch) + ([(total - have) % batch]
                                                   if (total - have) % batch else [])
    await pool(sizes, 4, lambda n: b.create(n))
    while True:
        if not await count_building(b):
            break
        await asyncio.sleep(0.5)
    return time.perf_counter() - start


async def run_phases(b: Bench, args: argparse.Namespace) -> dict[str, Any]:
    n, c = args.servers, args.concurrency
    out: dict[str, Any] = {}

    async def cycle(_: Any) -> None:
        await b.delete(await b.boot())

    if args.only_cycles:            # 50 cycles to warm up, then the measured ones
        await pool(list(range(min(n, 50))), c, cycle)
        wall, took, _ = await pool(list(range(n)), c, cycle)
        out["boot_delete"] = {"cycles": n, "seconds": round(wall, 2),
                              "per_s": round(n / wall, 1), "cycle_ms": ms(percentiles(took))}
        return out
    wall, took, ids = await pool(list(range(n)), c, lambda _: b.boot())
    out["boot"] = {"servers": n, "seconds": round(wall, 2), "servers_per_s": round(n / wall, 1),
                   "create_to_active_ms": ms(percentiles(took))}
    listed = len(await b.list_detail())
    out["list_detail_1000"] = {"servers_listed": listed,
                               "ms": ms(percentiles(await timed(args.list_repeats,
                                                                b.list_detail)))}
    wall, took, _ = await pool(ids, c, b.delete)
    out["delete"] = {"servers": n, "seconds": round(wall, 2), "servers_per_s": round(n / wall, 1),
                     "delete_to_gone_ms": ms(percentiles(took))}
    wall, took, _ = await pool(list(range(n)), c, cycle)
    out["boot_delete"] = {"cycles": n, "seconds": round(wall, 2),
                          "per_s": round(n / wall, 1), "cycle_ms": ms(percentiles(took))}
    if args.seed:
        b.watcher.paused = True
        seconds = await seed(b, args.seed, 0)
        out["seed"] = {"servers": args.seed, "seconds": round(seconds, 1)}
        page = await timed(args.list_repeats, lambda: b.list_detail({"limit": 1000}))
        out["list_detail_limit_1000_of_10000"] = {"ms": ms(percentiles(page))}
        walked: list[int] = []

        async def full() -> None:
            walked.append(await walk(b))

        walk_times = await timed(max(3, args.list_repeats // 10), full)
        out["walk_all_pages"] = {"servers": walked[0], "ms": ms(percentiles(walk_times))}
    return out


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    rate = results["boot_delete"]["per_s"]
    listed = results.get("list_detail_1000")
    meets = {"boot_delete_per_s": rate >= TARGET_BOOT_DELETE_PER_S}
    if listed is not None:          # not with --only-cycles
        meets["list_detail_1000_p99_ms"] = listed["ms"]["p99"] < TARGET_LIST_P99_MS
    return {"targets": {"boot_delete_per_s": f">= {TARGET_BOOT_DELETE_PER_S}",
                        "list_detail_1000_p99_ms": f"< {TARGET_LIST_P99_MS}",
                        "reference": "OpenStack with its fake driver: 5.4 boot+delete/s "
                                     "(1,000-node testbed)"},
            "meets": meets}


async def prepare(url: str, password: str) -> tuple[str, str, str]:
    """A project with unlimited compute quota, a member's token, a flavor, an image."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as admin:
        admin.headers["X-Auth-Token"] = await accounts.admin_token(admin, password)
        member = await accounts.new_member(admin)
        r = await admin.put(f"/compute/v2.1/os-quota-sets/{member.project_id}",
                            json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
        r.raise_for_status()
        r = await admin.post("/compute/v2.1/flavors", headers=COMPUTE, json={"flavor": {
            "name": f"bench-{member.suffix}", **FLAVOR}})
        r.raise_for_status()
        flavor = r.json()["flavor"]["id"]
        r = await admin.post("/image/v2/images", json={
            "name": "bench", "disk_format": "raw", "container_format": "bare",
            "visibility": "public"})
        r.raise_for_status()
        image = r.json()["id"]
        r = await admin.put(f"/image/v2/images/{image}/file", content=b"\0" * 4096,
                            headers={"Content-Type": "application/octet-stream"})
        r.raise_for_status()
        return await accounts.member_token(admin, member), flavor, image


async def bench(url: str, password: str, args: argparse.Namespace) -> dict[str, Any]:
    token, flavor, image = await prepare(url, password)
    limits = httpx.Limits(max_connections=args.concurrency + 8)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits,
                                 headers={"X-Auth-Token": token, **COMPUTE}) as http:
        watcher = Watcher(http)
        polling = asyncio.create_task(watcher.run())
        try:
            results = await run_phases(Bench(http, watcher, image, flavor), args)
        finally:
            polling.cancel()
        results["watcher"] = {"polls": watcher.polls, "direct_gets": watcher.rescued}
        return results


def start_cloud(tmp: str, args: argparse.Namespace) -> Cloud:
    env = {"NUBO_COMPUTE__FAKE_HOSTS": str(args.hosts), "NUBO_COMPUTE__FAKE_DELAYS": "{}",
           "NUBO_COMPUTE__FAKE_VCPUS": "128", "NUBO_COMPUTE__FAKE_MEMORY_MB": "262144",
           "NUBO_COMPUTE__FAKE_DISK_GB": "4096"}
    cloud = Cloud(Path(tmp) / "state", free_port(), f"sqlite:///{tmp}/nubo.db", env=env)
    cloud.start()
    return cloud


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--servers", type=int, default=1000)
    p.add_argument("--hosts", type=int, default=50)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--seed", type=int, default=10000, help="0: skip the 10,000 phase")
    p.add_argument("--list-repeats", type=int, default=30)
    p.add_argument("--only-cycles", action="store_true",
                   help="only the boot+delete phase (after 50 cycles to warm up)")
    p.add_argument("--url", help="a running nubo instead of a fresh one")
    p.add_argument("--password", help="its admin password (with --url)")
    args = p.parse_args()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="nubo-bench-compute-") as tmp:
        cloud = None
        if args.url:
            url, password = args.url, args.password
        else:
            cloud = start_cloud(tmp, args)
            url, password = cloud.url, cloud.admin_password
        try:
            results = asyncio.run(bench(url, password, args))
        finally:
            if cloud is not None:
                cloud.stop()
    print(json.dumps({
        "benchmark": "compute", "started": started,
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
        "settings": {"database": "sqlite", "bus": "inproc", "driver": "fake, zero delays",
                     "hosts": args.hosts, "concurrency": args.concurrency,
                     "servers": args.servers, "seed": args.seed,
                     "only_cycles": args.only_cycles},
        **results, **verdicts(results),
    }, indent=2))


if __name__ == "__main__":
    main()
