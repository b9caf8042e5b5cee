"""Scheduler throughput on a synthetic snapshot.

    .venv/bin/python bench/compute/scheduler_bench.py [--hosts 1000] [--seconds 3]

Prints JSON: plans per second for single-instance requests and for a
10-instance multi-create (with an anti-affinity group), over ``--hosts`` hosts
spread over a few aggregates, with the default filters and weighers. Compare
runs as ratios on one machine; nothing asserts on these numbers.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nubo.compute.scheduler import (  # noqa: E402
    FlavorSpec,
    GroupSpec,
    HostAggregate,
    HostState,
    RequestSpec,
    select_destinations,
)
from nubo.core.config import SchedulerSettings  # noqa: E402


def snapshot(count: int, rng: random.Random) -> list[HostState]:
    zones = [HostAggregate(f"agg-{z}", f"zone-{z}", {"availability_zone": f"az{z}"})
             for z in range(4)]
    hosts = []
    for i in range(count):
        ram = rng.choice([65536, 131072, 262144])
        hosts.append(HostState(
            host=f"compute-{i}", node=f"compute-{i}", provider_uuid=f"rp-{i}",
            enabled=rng.random() > 0.02, up=rng.random() > 0.02,
            availability_zone=f"az{i % 4}", aggregates=(zones[i % 4],),
            capacity={"VCPU": 64 * 16, "MEMORY_MB": int(ram * 1.5), "DISK_GB": 2000},
            used={"VCPU": rng.randint(0, 512), "MEMORY_MB": rng.randint(0, ram),
                  "DISK_GB": rng.randint(0, 1500)},
            num_instances=rng.randint(0, 40), instance_uuids=frozenset(), traits=frozenset(),
            hypervisor_type="QEMU", supported_instances=(("x86_64", "qemu", "hvm"),)))
    return hosts


def rate(hosts: list[HostState], spec: RequestSpec, seconds: float) -> float:
    settings = SchedulerSettings()
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        select_destinations(hosts, spec, settings)
        done += 1
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rng = random.Random(42)
    hosts = snapshot(args.hosts, rng)
    flavor = FlavorSpec(vcpus=4, memory_mb=8192, root_gb=40, ephemeral_gb=0, swap_mb=0,
                        extra_specs={})
    one = RequestSpec(instance_uuids=("i-0",), project_id="p", user_id="u", flavor=flavor,
                      availability_zone="az1")
    group = GroupSpec(uuid="g", policy="anti-affinity", rules={}, member_hosts={})
    ten = RequestSpec(instance_uuids=tuple(f"i-{n}" for n in range(10)), project_id="p",
                      user_id="u", flavor=flavor, group=group)
    print(json.dumps({
        "hosts": args.hosts,
        "single_instance_plans_per_s": round(rate(hosts, one, args.seconds), 1),
        "ten_instance_anti_affinity_plans_per_s": round(rate(hosts, ten, args.seconds), 1),
    }, indent=2))


if __name__ == "__main__":
    main()
