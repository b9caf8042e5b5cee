"""Time from `nubo up --foreground` to the first issued token, fresh and warm.

    .venv/bin/python bench/startup/bench.py [--runs 3]

Prints JSON: seconds to first token on a fresh state dir (includes migrations,
key setup and the bootstrap's password hashing) and on a restart. Target: 2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.cloud import free_port  # noqa: E402


def first_token(state: Path) -> float:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "nubo.cli.main", "--state-dir", str(state),
                             "up", "--foreground", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("nubo exited")
            try:
                pw = json.loads((state / "secrets.json").read_text())["admin_password"]
                r = requests.post(f"http://127.0.0.1:{port}/identity/v3/auth/tokens", json={
                    "auth": {"identity": {"methods": ["password"], "password": {"user": {
                        "name": "admin", "domain": {"id": "default"}, "password": pw}}}}},
                    timeout=5)
                if r.status_code == 201:
                    return time.perf_counter() - started
            except (OSError, ValueError, requests.RequestException):
                pass
            time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait(20)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    fresh, warm = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp) / "state"
            fresh.append(first_token(state))
            warm.append(first_token(state))
    print(json.dumps({
        "benchmark": "startup_to_first_token",
        "fresh_s": {"median": statistics.median(fresh), "all": fresh},
        "restart_s": {"median": statistics.median(warm), "all": warm},
        "target_s": 2.0,
        "meets_target": max(statistics.median(fresh), statistics.median(warm)) <= 2.0,
    }, indent=2))


if __name__ == "__main__":
    main()
