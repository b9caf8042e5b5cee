"""Measure nubo and the reference Keystone with the same client; print one JSON document.

The shared harness (``identity_bench.py``) measures token issue (password method),
token validate, project list and catalog. It has no token-method issue scenario
(``POST /v3/auth/tokens`` with ``"methods": ["token"]``, rescoping an existing token),
so this script measures that one itself with the harness's own client and point
runner (``run_point``), against both servers, in the same run.

Started by ``run.sh``, which brings both servers up and down.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

# scenario -> minimum nubo/keystone requests-per-second ratio, at every concurrency
TARGETS = {
    "token_issue": 1.5,
    "token_issue_token": 10.0,
    "token_validate": 10.0,
    "project_list": 10.0,
    "catalog": 10.0,
}
RSS_LIMIT_MIB = 150


def load_harness(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("identity_bench", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["identity_bench"] = module
    spec.loader.exec_module(module)
    return module


def harness_run(a: argparse.Namespace, url: str, password: str, pid: int, label: str) -> Any:
    """The shared harness as a subprocess, exactly as one would run it by hand."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, a.harness, "--auth-url", url, "--password", password,
               "--server-pid", str(pid), "--concurrency", a.concurrency,
               "--duration", str(a.duration), "--warmup", str(a.warmup),
               "--repeats", str(a.repeats), "--client", a.client, "--label", label,
               "--output", out.name]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text())


def token_method_run(
    bench: ModuleType, a: argparse.Namespace, url: str, password: str, pid: int
) -> dict[str, Any]:
    """POST /v3/auth/tokens, token method, project scope, expect 201: the harness's
    client and point runner, with the harness's defaults for everything else."""
    h = argparse.Namespace(
        auth_url=url, username="admin", password=password, project="admin",
        user_domain_name="Default", user_domain_id=None, project_domain_name="Default",
        project_domain_id=None, duration=a.duration, warmup=a.warmup, timeout=60.0,
        connection_close=False, insecure=False, server_pid=pid, max_drain=90.0, probes=4,
        wrk=shutil.which("wrk") or "wrk", wrk_threads=1,
    )
    api = bench.Api(h)
    client = bench.run_wrk if a.client == "wrk" else bench.run_aiohttp
    runs = []
    for rep in range(1, a.repeats + 1):
        body = {"auth": {
            "identity": {"methods": ["token"], "token": {"id": api.issue_token()}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
        }}
        spec = dict(method="POST", path="/auth/tokens", expect=201,
                    headers={"Content-Type": "application/json"},
                    body=json.dumps(body, separators=(",", ":")).encode())
        st, _, resp = api.call(spec["method"], spec["path"], spec["headers"], spec["body"])
        if st != 201:
            raise SystemExit(f"sanity check token_issue_token: HTTP {st}: {resp[:300]!r}")
        for c in (int(x) for x in a.concurrency.split(",")):
            r = bench.run_point(h, client, spec, url.rstrip("/") + spec["path"], c)
            r.update(scenario="token_issue_token", concurrency=c, rep=rep)
            runs.append(r)
            bench.log(f"rep {rep} token_issue_token c={c:<3d} {r['rps']:8.1f} req/s"
                      f"  p50 {r['p50_ms']:8.1f} ms  err {r['errors']}")
    return dict(median=bench.medians(runs), runs=runs)


def measure(bench: ModuleType, a: argparse.Namespace, side: str) -> dict[str, Any]:
    url, password, pid = (getattr(a, f"{side}_{k}") for k in ("url", "password", "pid"))
    bench.log(f"== {side}: {url}")
    result = harness_run(a, url, password, pid, side)
    extra = token_method_run(bench, a, url, password, pid)
    result["median"].update(extra["median"])
    result["runs"] += extra["runs"]
    result["meta"]["scenarios"].append("token_issue_token")
    result["meta"]["server_mem_after"] = bench.proc_tree.snapshot(pid)
    return result


def verdicts(nubo: dict[str, Any], keystone: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scenario, target in TARGETS.items():
        points = {}
        for conc, n in nubo["median"][scenario].items():
            k = keystone["median"][scenario][conc]
            ratio = round(n["rps"] / k["rps"], 2) if k.get("rps") else None
            points[conc] = dict(
                nubo_rps=n["rps"], keystone_rps=k["rps"], ratio=ratio,
                nubo_errors=n["errors_total"], keystone_errors=k["errors_total"],
                nubo_cpu_ms_per_req=n.get("server_cpu_ms_per_req"),
                keystone_cpu_ms_per_req=k.get("server_cpu_ms_per_req"),
                passed=ratio is not None and ratio >= target and n["errors_total"] == 0,
            )
        out[scenario] = dict(target_ratio=target, points=points,
                             passed=all(p["passed"] for p in points.values()))
    return out


def peak_rss_mib(result: dict[str, Any]) -> float:
    kib = [r.get("server_rss_kib", 0) for r in result["runs"]]
    kib.append(result["meta"]["server_mem_after"]["rss_kib"])
    return round(max(kib) / 1024, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--harness", required=True, help="path of identity_bench.py")
    for side in ("nubo", "keystone"):
        ap.add_argument(f"--{side}-url", required=True)
        ap.add_argument(f"--{side}-password", required=True)
        ap.add_argument(f"--{side}-pid", type=int, required=True)
    ap.add_argument("--hash", required=True, help="password hash algorithm on both sides")
    ap.add_argument("--rounds", type=int, required=True, help="its work factor on both sides")
    ap.add_argument("--client", choices=("wrk", "aiohttp"), default="aiohttp")
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--output", help="also write the JSON, with every run, here")
    a = ap.parse_args()

    bench = load_harness(a.harness)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    keystone = measure(bench, a, "keystone")
    nubo = measure(bench, a, "nubo")
    table = verdicts(nubo, keystone)
    rss = peak_rss_mib(nubo)
    doc: dict[str, Any] = dict(
        benchmark="bench/identity",
        started=started,
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        client=nubo["meta"]["client_version"] or a.client,
        password_hash=dict(algorithm=a.hash, rounds=a.rounds,
                           note="same on both sides; nubo's default stays argon2id"),
        token_issue_token_note=("token-method issue is not in identity_bench.py; measured by "
                                "bench/identity/compare.py with the harness's client"),
        ratios=table,
        nubo_rss_mib=dict(peak=rss, limit=RSS_LIMIT_MIB, passed=rss < RSS_LIMIT_MIB),
        keystone_rss_mib=peak_rss_mib(keystone),
        passed=all(t["passed"] for t in table.values()) and rss < RSS_LIMIT_MIB,
        nubo={"meta": nubo["meta"], "median": nubo["median"]},
        keystone={"meta": keystone["meta"], "median": keystone["median"]},
    )
    if a.output:
        full = dict(doc, nubo=nubo, keystone=keystone)
        Path(a.output).write_text(json.dumps(full, indent=1) + "\n")
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
