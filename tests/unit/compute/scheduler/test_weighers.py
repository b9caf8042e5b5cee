"""Ranking: each weigher, multipliers (spread vs pack), aggregate overrides, randomness."""

from __future__ import annotations

import random
from typing import Any

import pytest

from nubo.compute.scheduler import HostState, RequestSpec
from nubo.compute.scheduler.weighers import normalize, order_candidates, weigh_hosts
from tests.unit.compute.scheduler.snapshots import aggregate, context, group, host, request

NO_WEIGHTS = dict(ram_weight_multiplier=0.0, cpu_weight_multiplier=0.0,
                  disk_weight_multiplier=0.0, soft_affinity_weight_multiplier=0.0,
                  soft_anti_affinity_weight_multiplier=0.0)


def ranking(hosts: list[HostState], spec: RequestSpec | None = None, **setting: Any) -> list[str]:
    ctx = context(spec or request(), **{**NO_WEIGHTS, **setting})
    return [w.host.host for w in weigh_hosts(hosts, ctx)]


@pytest.mark.parametrize(("values", "expected"), [
    ([], []),
    ([5.0], [0.0]),
    ([3.0, 3.0], [0.0, 0.0]),
    ([0.0, 5.0, 10.0], [0.0, 0.5, 1.0]),
    ([-2.0, 2.0], [0.0, 1.0]),
])
def test_normalize(values: list[float], expected: list[float]) -> None:
    assert normalize(values) == expected


HOSTS = [
    host("little-ram", ram=2048, vcpus=32, disk=50),
    host("much-ram", ram=16384, vcpus=4, disk=10),
    host("mid", ram=8192, vcpus=8, disk=500, used={"MEMORY_MB": 1024}),
]


@pytest.mark.parametrize(("setting", "expected"), [
    ({"ram_weight_multiplier": 1.0}, ["much-ram", "mid", "little-ram"]),     # spread
    ({"ram_weight_multiplier": -1.0}, ["little-ram", "mid", "much-ram"]),    # pack
    ({"cpu_weight_multiplier": 1.0}, ["little-ram", "mid", "much-ram"]),
    ({"cpu_weight_multiplier": -1.0}, ["much-ram", "mid", "little-ram"]),
    ({"disk_weight_multiplier": 1.0}, ["mid", "little-ram", "much-ram"]),
    ({"disk_weight_multiplier": -1.0}, ["much-ram", "little-ram", "mid"]),
    # all zero: snapshot order
    ({}, ["little-ram", "much-ram", "mid"]),
    # weights add up: RAM x1 (0, 1, .42) + disk x2 (.08, 0, 2)
    ({"ram_weight_multiplier": 1.0, "disk_weight_multiplier": 2.0},
     ["mid", "much-ram", "little-ram"]),
])
def test_resource_weighers(setting: dict[str, float], expected: list[str]) -> None:
    assert ranking(HOSTS, **setting) == expected


def test_num_instances_weigher() -> None:
    hosts = [host("busy", num_instances=9), host("idle"), host("some", num_instances=3)]
    assert ranking(hosts, num_instances_weight_multiplier=-1.0) == ["idle", "some", "busy"]
    assert ranking(hosts, num_instances_weight_multiplier=1.0) == ["busy", "some", "idle"]


def test_aggregate_metadata_overrides_the_multiplier() -> None:
    # the aggregate turns packing on for its hosts only: "much-ram" loses its lead
    packed = aggregate("pack", ram_weight_multiplier="-1.0")
    hosts = [host("much-ram", ram=16384, aggregates=(packed,)), host("less", ram=8192),
             host("least", ram=4096)]
    assert ranking(hosts, ram_weight_multiplier=1.0) == ["less", "least", "much-ram"]
    # several aggregates: the lowest value wins; unparsable values are ignored
    other = aggregate("spread", ram_weight_multiplier="5, junk")
    hosts[0] = host("much-ram", ram=16384, aggregates=(packed, other))
    assert ranking(hosts, ram_weight_multiplier=1.0)[-1] == "much-ram"


@pytest.mark.parametrize(("policy", "multiplier", "expected"), [
    ("soft-affinity", 1.0, ["crowded", "one", "empty"]),
    ("soft-affinity", -1.0, ["empty", "one", "crowded"]),
    ("soft-anti-affinity", 1.0, ["empty", "one", "crowded"]),
    ("affinity", 1.0, ["empty", "one", "crowded"]),   # hard policies do not weigh
])
def test_soft_group_weighers(policy: str, multiplier: float, expected: list[str]) -> None:
    hosts = [host("empty"), host("one"), host("crowded")]
    spec = request(group=group(policy, {"one": 1, "crowded": 3}))
    key = ("soft_anti_affinity_weight_multiplier" if policy == "soft-anti-affinity"
           else "soft_affinity_weight_multiplier")
    assert ranking(hosts, spec, **{key: multiplier}) == expected


def test_host_subset_size_picks_among_the_best_n() -> None:
    hosts = [host(f"h{i}", ram=1024 * (10 - i)) for i in range(6)]
    ctx = context(request(), host_subset_size=3)
    weighed = weigh_hosts(hosts, ctx)
    rng = random.Random(7)
    firsts = {order_candidates(weighed, ctx.settings, rng)[0].host.host for _ in range(200)}
    assert firsts == {"h0", "h1", "h2"}
    ordered = order_candidates(weighed, ctx.settings, rng)
    assert sorted(w.host.host for w in ordered) == [f"h{i}" for i in range(6)]
    single = context(request(), host_subset_size=1)
    assert {order_candidates(weighed, single.settings, rng)[0].host.host
            for _ in range(50)} == {"h0"}


def test_shuffle_best_same_weighed_hosts() -> None:
    hosts = [host("a"), host("b"), host("c"), host("small", ram=1024)]
    weighed = weigh_hosts(hosts, context(request()))
    rng = random.Random(1)
    fixed = context(request(), shuffle_best_same_weighed_hosts=False)
    assert {order_candidates(weighed, fixed.settings, rng)[0].host.host
            for _ in range(50)} == {"a"}
    shuffled = context(request(), shuffle_best_same_weighed_hosts=True)
    orders = [order_candidates(weighed, shuffled.settings, rng) for _ in range(100)]
    assert {o[0].host.host for o in orders} == {"a", "b", "c"}
    assert all(o[-1].host.host == "small" for o in orders)
