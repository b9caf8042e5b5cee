"""Image data path and listing, against a fresh `nubo up --foreground`.

    .venv/bin/python bench/image/bench.py [--mib 256] [--images 300]

Prints JSON: upload and download throughput of one raw image of ``--mib`` MiB sent
chunked (upload includes md5 + sha512 hashing and the qemu-img inspection), the
growth of the server's peak RSS meanwhile, and the latency of listing ``--images``
images. The upload is compared, as a ratio in the same run, with hashing the same
bytes with md5 and sha512 in this process: the API's own cost on top of the hashing
it must do. Targets: upload ratio >= 0.5, download >= 300 MiB/s, peak RSS growth
< 64 MiB, a 25-image page in < 100 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.cloud import Cloud, free_port  # noqa: E402

CHUNK = os.urandom(1024 * 1024)


def _hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _body(mib: int) -> Iterator[bytes]:
    for _ in range(mib):
        yield CHUNK


def _local_hash_s(mib: int) -> float:
    started = time.perf_counter()
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha512()
    for chunk in _body(mib):
        md5.update(chunk)
        sha.update(chunk)
    return time.perf_counter() - started


def _token(cloud: Cloud) -> str:
    r = requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": cloud.admin_password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    r.raise_for_status()
    return r.headers["X-Subject-Token"]


def data_path(cloud: Cloud, api: str, headers: dict[str, str], mib: int) -> dict[str, float]:
    assert cloud.proc is not None
    image = requests.post(f"{api}/images", headers=headers, timeout=30, json={
        "name": "bench", "disk_format": "raw", "container_format": "bare"}).json()
    before = _hwm_kib(cloud.proc.pid)
    started = time.perf_counter()
    r = requests.put(f"{api}/images/{image['id']}/file", data=_body(mib), timeout=600,
                     headers={**headers, "Content-Type": "application/octet-stream"})
    r.raise_for_status()
    upload_s = time.perf_counter() - started
    started = time.perf_counter()
    with requests.get(f"{api}/images/{image['id']}/file", headers=headers, stream=True,
                      timeout=600) as r:
        got = sum(len(c) for c in r.iter_content(1024 * 1024))
    download_s = time.perf_counter() - started
    assert got == mib * 1024 * 1024
    grown = (_hwm_kib(cloud.proc.pid) - before) / 1024
    requests.delete(f"{api}/images/{image['id']}", headers=headers, timeout=30)
    return {"upload_s": upload_s, "download_s": download_s, "rss_growth_mib": grown}


def listing(api: str, headers: dict[str, str], count: int) -> list[float]:
    for i in range(count):
        requests.post(f"{api}/images", headers=headers, timeout=30, json={
            "name": f"list-{i}", "disk_format": "raw", "container_format": "bare",
            "tags": ["bench"], "flavour": str(i % 7)})
    times = []
    for _ in range(20):
        started = time.perf_counter()
        requests.get(f"{api}/images?tag=bench&sort=name:asc", headers=headers,
                     timeout=30).raise_for_status()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mib", type=int, default=256)
    p.add_argument("--images", type=int, default=300)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        cloud = Cloud(state, free_port(), f"sqlite:///{state / 'nubo.db'}")
        cloud.start()
        try:
            api = f"{cloud.url}/image/v2"
            headers = {"X-Auth-Token": _token(cloud)}
            data = data_path(cloud, api, headers, args.mib)
            pages = listing(api, headers, args.images)
        finally:
            cloud.stop()
    hash_s = _local_hash_s(args.mib)
    page_ms = statistics.median(pages) * 1000
    download = args.mib / data["download_s"]
    result = {
        "benchmark": "image_data_and_listing",
        "mib": args.mib,
        "upload_mib_s": args.mib / data["upload_s"],
        "local_hash_mib_s": args.mib / hash_s,
        "upload_vs_local_hash": hash_s / data["upload_s"],
        "download_mib_s": download,
        "server_peak_rss_growth_mib": data["rss_growth_mib"],
        "images": args.images,
        "list_page_ms_median": page_ms,
        "targets": {"upload_vs_local_hash": 0.5, "download_mib_s": 300,
                    "server_peak_rss_growth_mib": 64, "list_page_ms": 100},
    }
    result["meets_targets"] = (result["upload_vs_local_hash"] >= 0.5 and download >= 300
                               and data["rss_growth_mib"] < 64 and page_ms < 100)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
