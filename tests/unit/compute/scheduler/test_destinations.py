"""select_destinations: whole requests, multi-create, groups, alternates, failures."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from nubo.compute.scheduler import NoValidHost, Selection, select_destinations
from tests.unit.compute.scheduler.snapshots import flavor, group, host, request, settings


def hosts_of(selections: list[Selection]) -> list[str]:
    return [s.host.host for s in selections]


def test_one_selection_per_instance_in_order() -> None:
    spec = request(3)
    picked = select_destinations([host("a"), host("b")], spec, settings())
    assert [s.instance_uuid for s in picked] == ["inst-0", "inst-1", "inst-2"]
    # the snapshot's own host objects come back (the caller claims them in placement)
    assert all(s.host.provider_uuid == f"rp-{s.host.host}" for s in picked)


def test_spread_by_default_and_pack_with_negative_multipliers() -> None:
    hosts = [host("a", ram=4096), host("b", ram=4096), host("c", ram=4096)]
    spec = request(3, flavor=flavor(1, 1024, 1))
    assert sorted(hosts_of(select_destinations(hosts, spec, settings()))) == ["a", "b", "c"]
    pack = settings(ram_weight_multiplier=-1.0, disk_weight_multiplier=-1.0)
    assert hosts_of(select_destinations(hosts, spec, pack)) == ["a", "a", "a"]


def test_multi_create_never_double_books() -> None:
    hosts = [host("a", ram=2048), host("b", ram=1024)]
    spec = request(3, flavor=flavor(1, 1024, 1))
    assert Counter(hosts_of(select_destinations(hosts, spec, settings()))) == {"a": 2, "b": 1}
    with pytest.raises(NoValidHost) as error:
        select_destinations(hosts, request(4, flavor=flavor(1, 1024, 1)), settings())
    assert error.value.instance_uuid == "inst-3"
    assert "Placed 3 of 4 instances" in str(error.value)
    assert "ResourcesFilter removed 2 (not enough MEMORY_MB: need 1024, best host has 0 free)" \
        in str(error.value)


def test_affinity_puts_every_instance_on_one_host() -> None:
    hosts = [host(n) for n in "abcd"]
    picked = select_destinations(hosts, request(4, group=group("affinity")), settings())
    assert len(set(hosts_of(picked))) == 1
    # an existing member decides the host
    picked = select_destinations(hosts, request(2, group=group("affinity", {"c": 1})),
                                 settings())
    assert hosts_of(picked) == ["c", "c"]


def test_affinity_fails_when_the_groups_host_is_full() -> None:
    hosts = [host("a", ram=1024), host("b", ram=8192)]
    spec = request(2, flavor=flavor(1, 1024, 1), group=group("affinity", {"a": 1}))
    with pytest.raises(NoValidHost) as error:
        select_destinations(hosts, spec, settings())
    message = str(error.value)
    assert "ResourcesFilter removed 1" in message
    assert "ServerGroupAffinityFilter removed 1" in message


def test_anti_affinity_spreads_and_says_when_hosts_run_out() -> None:
    hosts = [host(n) for n in "abc"]
    picked = select_destinations(hosts, request(3, group=group("anti-affinity")), settings())
    assert sorted(hosts_of(picked)) == ["a", "b", "c"]
    with pytest.raises(NoValidHost) as error:
        select_destinations(hosts, request(4, group=group("anti-affinity")), settings())
    message = str(error.value)
    assert message.startswith("No valid host was found. 3 hosts: ")
    assert ("ServerGroupAntiAffinityFilter removed 3 (server group group-anti-affinity "
            "(anti-affinity) already has max_server_per_host=1 there)") in message
    assert "Placed 3 of 4 instances" in message


def test_anti_affinity_max_server_per_host() -> None:
    hosts = [host(n) for n in "ab"]
    two = group("anti-affinity", max_server_per_host=2)
    picked = select_destinations(hosts, request(4, group=two), settings())
    assert Counter(hosts_of(picked)) == {"a": 2, "b": 2}
    with pytest.raises(NoValidHost, match="max_server_per_host=2"):
        select_destinations(hosts, request(5, group=two), settings())
    # existing members count
    taken = group("anti-affinity", {"a": 2}, max_server_per_host=2)
    assert hosts_of(select_destinations(hosts, request(2, group=taken), settings())) == ["b", "b"]


def test_soft_anti_affinity_prefers_empty_hosts_but_never_fails() -> None:
    hosts = [host(n) for n in "ab"]
    picked = select_destinations(hosts, request(4, group=group("soft-anti-affinity")),
                                 settings())
    assert Counter(hosts_of(picked)) == {"a": 2, "b": 2}


def test_soft_affinity_gathers_instances() -> None:
    hosts = [host("a", ram=16384), host("b", ram=8192)]
    spec = request(3, group=group("soft-affinity", {"b": 1}))
    picked = select_destinations(hosts, spec, settings(soft_affinity_weight_multiplier=10.0))
    assert hosts_of(picked) == ["b", "b", "b"]


def test_alternates_best_first_and_bounded_by_max_attempts() -> None:
    hosts = [host("a", ram=1024), host("b", ram=2048), host("c", ram=4096), host("d", ram=8192),
             host("off", enabled=False)]
    spec = request(1, flavor=flavor(1, 512, 1))
    [selection] = select_destinations(hosts, spec, settings())
    assert selection.host.host == "d"
    assert [h.host for h in selection.alternates] == ["c", "b"]
    [selection] = select_destinations(hosts, spec, settings(max_attempts=10))
    assert [h.host for h in selection.alternates] == ["c", "b", "a"]
    [selection] = select_destinations(hosts, spec, settings(max_attempts=1))
    assert selection.alternates == ()


def test_alternates_still_fit_after_the_whole_request() -> None:
    hosts = [host("a", ram=1024), host("b", ram=1024), host("c", ram=3072)]
    picked = select_destinations(hosts, request(3, flavor=flavor(1, 1024, 1)),
                                 settings(max_attempts=5))
    assert hosts_of(picked) == ["c", "a", "b"]
    # only c has room left once all three are placed
    assert [[h.host for h in s.alternates] for s in picked] == [[], ["c"], ["c"]]
    full = select_destinations(hosts[:2], request(2, flavor=flavor(1, 1024, 1)),
                               settings(max_attempts=5))
    assert all(s.alternates == () for s in full)


def test_anti_affinity_alternates_avoid_the_groups_other_hosts() -> None:
    hosts = [host(n) for n in "abcd"]
    picked = select_destinations(hosts, request(2, group=group("anti-affinity")),
                                 settings(max_attempts=4))
    used = set(hosts_of(picked))
    for selection in picked:
        assert {h.host for h in selection.alternates} == {"a", "b", "c", "d"} - used


def test_affinity_alternates_only_for_a_lone_member() -> None:
    hosts = [host(n) for n in "abc"]
    [one] = select_destinations(hosts, request(1, group=group("affinity")), settings())
    assert len(one.alternates) == 2
    picked = select_destinations(hosts, request(2, group=group("affinity")), settings())
    assert all(s.alternates == () for s in picked)


def test_same_and_different_host_hints() -> None:
    hosts = [host("a", instance_uuids=frozenset({"x"})), host("b", ram=16384)]
    same = request(1, hints={"same_host": ["x"]})
    assert hosts_of(select_destinations(hosts, same, settings())) == ["a"]
    different = request(1, hints={"different_host": "x"})
    assert hosts_of(select_destinations([hosts[1], hosts[0]], different, settings())) == ["b"]


def test_forced_host_bypasses_filters_but_not_capacity() -> None:
    hosts = [host("a", ram=16384), host("b", enabled=False), host("c", ram=256)]
    assert hosts_of(select_destinations(hosts, request(force_host="b"), settings())) == ["b"]
    with pytest.raises(NoValidHost, match="force_host removed 3"):
        select_destinations(hosts, request(force_host="nowhere"), settings())
    with pytest.raises(NoValidHost, match="ResourcesFilter removed 1"):
        select_destinations(hosts, request(force_host="c", flavor=flavor(1, 512, 1)), settings())


def test_ignore_hosts_are_not_retried() -> None:
    hosts = [host("a", ram=16384), host("b")]
    picked = select_destinations(hosts, request(ignore_hosts=frozenset({"a"})), settings())
    assert hosts_of(picked) == ["b"] and picked[0].alternates == ()


def test_no_hosts_at_all() -> None:
    with pytest.raises(NoValidHost) as error:
        select_destinations([], request(), settings())
    assert str(error.value) == ("No valid host was found. 0 hosts. No compute host is "
                                "registered, enabled and reporting.")


def test_the_example_message() -> None:
    hosts = [host("off", up=False)] + [host(f"h{i}", ram=512) for i in range(9)]
    with pytest.raises(NoValidHost) as error:
        select_destinations(hosts, request(flavor=flavor(1, 2048, 1)), settings())
    assert str(error.value) == (
        "No valid host was found. 10 hosts: ComputeFilter removed 1 (down), "
        "AvailabilityZoneFilter removed 0, ResourcesFilter removed 9 (not enough MEMORY_MB: "
        "need 2048, best host has 512 free)")
    assert [(o.name, o.removed) for o in error.value.report] == [
        ("ComputeFilter", 1), ("AvailabilityZoneFilter", 0), ("ResourcesFilter", 9)]


def test_several_reasons_are_counted() -> None:
    hosts = [host("a", enabled=False), host("b", up=False), host("c", up=False),
             host("d", ram=100), host("e", vcpus=0)]
    with pytest.raises(NoValidHost) as error:
        select_destinations(hosts, request(), settings())
    message = str(error.value)
    assert "ComputeFilter removed 3 (down: 2, disabled: 1)" in message
    assert ("ResourcesFilter removed 2 (not enough MEMORY_MB: need 512, best host has 100 "
            "free [1 host]; not enough VCPU: need 1, best host has 0 free [1 host])") in message


def test_seeded_randomness_is_reproducible() -> None:
    hosts = [host(f"h{i}") for i in range(8)]
    spec = request(5)
    chosen = settings(host_subset_size=4)
    first = hosts_of(select_destinations(hosts, spec, chosen, rng=random.Random(3)))
    again = hosts_of(select_destinations(hosts, spec, chosen, rng=random.Random(3)))
    assert first == again
