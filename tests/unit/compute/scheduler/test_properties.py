"""Random snapshots and requests (seeded): whatever the scheduler plans fits."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from nubo.compute.scheduler import HostState, NoValidHost, RequestSpec, select_destinations
from nubo.compute.scheduler.destinations import consume
from nubo.compute.scheduler.model import resources_of
from tests.unit.compute.scheduler.snapshots import flavor, group, host, request, settings

POLICIES = [None, "affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"]


def random_host(rng: random.Random, i: int) -> HostState:
    vcpus, ram, disk = rng.randint(0, 16), rng.choice([0, 1024, 4096, 16384]), rng.randint(0, 200)
    used = {"VCPU": rng.randint(0, vcpus), "MEMORY_MB": rng.randint(0, ram),
            "DISK_GB": rng.randint(0, disk)}
    capacity = {"VCPU": vcpus, "MEMORY_MB": ram, "DISK_GB": disk}
    if rng.random() < 0.2:
        capacity["CUSTOM_GPU"] = rng.randint(0, 3)
    return host(f"h{i}", used=used, capacity=capacity, enabled=rng.random() > 0.1,
                up=rng.random() > 0.1)


def random_request(rng: random.Random, names: list[str]) -> RequestSpec:
    extra = {"resources:CUSTOM_GPU": "1"} if rng.random() < 0.15 else {}
    policy = rng.choice(POLICIES)
    spec_group = None
    if policy is not None:
        members = {n: rng.randint(0, 2) for n in rng.sample(names, min(2, len(names)))}
        if policy == "affinity":   # an affinity group's members share one host
            members = dict(list(members.items())[:1])
        rules = {"max_server_per_host": rng.randint(1, 3)} if policy == "anti-affinity" else {}
        spec_group = group(policy, members, **rules)
    return request(rng.randint(1, 6), group=spec_group,
                   flavor=flavor(rng.randint(0, 4), rng.choice([256, 512, 2048]),
                                 rng.randint(0, 20), swap=rng.choice([0, 512]), **extra))


def check_plan(hosts: list[HostState], spec: RequestSpec, plan: list) -> None:  # type: ignore[type-arg]
    state = {h.host: h for h in hosts}
    for selection in plan:
        chosen = state[selection.host.host]
        assert chosen.enabled and chosen.up
        state[chosen.host] = consume(chosen, selection.instance_uuid, resources_of(spec.flavor))
    for final in state.values():
        for rc, used in final.used.items():
            if used > final.capacity.get(rc, 0):
                original = next(h for h in hosts if h.host == final.host)
                # the scheduler may not add to a host that was over capacity already
                assert used == original.used.get(rc, 0), (final.host, rc)
    for selection in plan:
        for alternate in selection.alternates:
            fits = state[alternate.host]
            assert all(fits.free(rc) >= n for rc, n in resources_of(spec.flavor).items())
    if spec.group is None:
        return
    placed = Counter(s.host.host for s in plan)
    members = Counter(spec.group.member_hosts) + placed
    if spec.group.policy == "affinity":
        assert len(+members) == 1
    if spec.group.policy == "anti-affinity":
        limit = spec.group.rules.get("max_server_per_host", 1)
        assert all(placed[h] + spec.group.member_hosts.get(h, 0) <= limit for h in placed)


@pytest.mark.parametrize("seed", range(40))
def test_random_plans_never_exceed_capacity(seed: int) -> None:
    rng = random.Random(seed)
    planned = refused = 0
    for _ in range(25):
        hosts = [random_host(rng, i) for i in range(rng.randint(0, 12))]
        spec = random_request(rng, [h.host for h in hosts] or ["h0"])
        chosen = settings(ram_weight_multiplier=rng.choice([1.0, -1.0, 0.0]),
                          host_subset_size=rng.randint(1, 3), max_attempts=rng.randint(1, 4))
        try:
            plan = select_destinations(hosts, spec, chosen, rng=rng)
        except NoValidHost as error:
            assert str(error).startswith("No valid host was found. ")
            assert error.report or not hosts
            refused += 1
            continue
        assert [s.instance_uuid for s in plan] == list(spec.instance_uuids)
        check_plan(hosts, spec, plan)
        planned += 1
    assert planned and refused   # both outcomes are exercised for every seed
