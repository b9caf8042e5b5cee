"""Each filter alone: a host, a request, and whether the host passes."""

from __future__ import annotations

from typing import Any

import pytest

from nubo.compute.scheduler import HostState, RequestSpec
from nubo.compute.scheduler.filters import FILTERS, enabled_filters, run_filters
from nubo.core.errors import ConfigError
from tests.unit.compute.scheduler.snapshots import (
    ALL_FILTERS,
    aggregate,
    context,
    flavor,
    group,
    host,
    request,
    settings,
)


def passes(name: str, candidate: HostState, spec: RequestSpec, **setting: Any) -> bool:
    return FILTERS[name].check(candidate, context(spec, **setting)) is None


CASES: list[tuple[str, str, HostState, RequestSpec, bool]] = [
    # ComputeFilter
    ("enabled and up", "ComputeFilter", host("a"), request(), True),
    ("disabled", "ComputeFilter", host("a", enabled=False), request(), False),
    ("down", "ComputeFilter", host("a", up=False), request(), False),
    # AvailabilityZoneFilter
    ("no zone asked", "AvailabilityZoneFilter",
     host("a", aggregates=(aggregate("x", availability_zone="az1"),)), request(), True),
    ("zone from aggregate", "AvailabilityZoneFilter",
     host("a", aggregates=(aggregate("x", availability_zone="az1"),)),
     request(availability_zone="az1"), True),
    ("other zone", "AvailabilityZoneFilter",
     host("a", aggregates=(aggregate("x", availability_zone="az1"),)),
     request(availability_zone="az2"), False),
    ("aggregate zone wins over the default", "AvailabilityZoneFilter",
     host("a", aggregates=(aggregate("x", availability_zone="az1"),)),
     request(availability_zone="nova"), False),
    ("default zone", "AvailabilityZoneFilter", host("a", availability_zone=""),
     request(availability_zone="nova"), True),
    ("not the default zone", "AvailabilityZoneFilter", host("a", availability_zone=""),
     request(availability_zone="az1"), False),
    ("aggregate without a zone", "AvailabilityZoneFilter",
     host("a", aggregates=(aggregate("x", ssd="true"),)), request(availability_zone="nova"),
     True),
    # ResourcesFilter
    ("fits", "ResourcesFilter", host("a", ram=1024), request(flavor=flavor(1, 1024, 1)), True),
    ("exactly full afterwards", "ResourcesFilter",
     host("a", vcpus=4, used={"VCPU": 3}), request(flavor=flavor(1, 1, 1)), True),
    ("not enough ram", "ResourcesFilter", host("a", ram=1024, used={"MEMORY_MB": 512}),
     request(flavor=flavor(1, 1024, 1)), False),
    ("not enough vcpus", "ResourcesFilter", host("a", vcpus=2),
     request(flavor=flavor(4, 1, 1)), False),
    ("not enough disk with swap", "ResourcesFilter", host("a", disk=10),
     request(flavor=flavor(1, 1, 10, swap=1)), False),
    ("custom class missing", "ResourcesFilter", host("a"),
     request(flavor=flavor(**{"resources:CUSTOM_GPU": "1"})), False),
    ("custom class present", "ResourcesFilter",
     host("a", capacity={"VCPU": 8, "MEMORY_MB": 8192, "DISK_GB": 100, "CUSTOM_GPU": 2}),
     request(flavor=flavor(**{"resources:CUSTOM_GPU": "1"})), True),
    ("required trait", "ResourcesFilter", host("a", traits=frozenset({"CUSTOM_FAST"})),
     request(flavor=flavor(**{"trait:CUSTOM_FAST": "required"})), True),
    ("required trait missing", "ResourcesFilter", host("a"),
     request(flavor=flavor(**{"trait:CUSTOM_FAST": "required"})), False),
    ("image requires trait", "ResourcesFilter", host("a"),
     request(image_properties={"trait:CUSTOM_FAST": "required"}), False),
    ("forbidden trait", "ResourcesFilter", host("a", traits=frozenset({"CUSTOM_SLOW"})),
     request(flavor=flavor(**{"trait:CUSTOM_SLOW": "forbidden"})), False),
    # AggregateMultiTenancyIsolation
    ("no isolation", "AggregateMultiTenancyIsolation", host("a"), request(), True),
    ("isolated to us", "AggregateMultiTenancyIsolation",
     host("a", aggregates=(aggregate("x", filter_tenant_id="other, proj"),)), request(), True),
    ("isolated to others", "AggregateMultiTenancyIsolation",
     host("a", aggregates=(aggregate("x", filter_tenant_id="other"),)), request(), False),
    ("numbered keys", "AggregateMultiTenancyIsolation",
     host("a", aggregates=(aggregate("x", filter_tenant_id="o1", filter_tenant_id_2="proj"),)),
     request(), True),
    # AggregateInstanceExtraSpecsFilter
    ("no extra specs", "AggregateInstanceExtraSpecsFilter", host("a"), request(), True),
    ("other scopes ignored", "AggregateInstanceExtraSpecsFilter", host("a"),
     request(flavor=flavor(**{"hw:cpu_policy": "dedicated"})), True),
    ("scoped match", "AggregateInstanceExtraSpecsFilter",
     host("a", aggregates=(aggregate("x", ssd="true"),)),
     request(flavor=flavor(**{"aggregate_instance_extra_specs:ssd": "true"})), True),
    ("scoped mismatch", "AggregateInstanceExtraSpecsFilter",
     host("a", aggregates=(aggregate("x", ssd="false"),)),
     request(flavor=flavor(**{"aggregate_instance_extra_specs:ssd": "true"})), False),
    ("unscoped key needs metadata", "AggregateInstanceExtraSpecsFilter", host("a"),
     request(flavor=flavor(ssd="true")), False),
    ("operator over comma list", "AggregateInstanceExtraSpecsFilter",
     host("a", aggregates=(aggregate("x", tier="gold, silver"),)),
     request(flavor=flavor(**{"aggregate_instance_extra_specs:tier": "<or> gold <or> bronze"})),
     True),
    ("numeric at least", "AggregateInstanceExtraSpecsFilter",
     host("a", aggregates=(aggregate("x", cores="16"),)),
     request(flavor=flavor(**{"aggregate_instance_extra_specs:cores": "= 32"})), False),
    # ImagePropertiesFilter
    ("no image constraints", "ImagePropertiesFilter", host("a"), request(), True),
    ("matching arch", "ImagePropertiesFilter", host("a"),
     request(image_properties={"hw_architecture": "x86_64"}), True),
    ("arch alias", "ImagePropertiesFilter", host("a"),
     request(image_properties={"architecture": "amd64"}), True),
    ("other arch", "ImagePropertiesFilter", host("a"),
     request(image_properties={"hw_architecture": "aarch64"}), False),
    ("hypervisor type", "ImagePropertiesFilter",
     host("a", supported_instances=(("x86_64", "qemu", "hvm"),)),
     request(image_properties={"img_hv_type": "QEMU", "hw_vm_mode": "hvm"}), True),
    ("legacy hypervisor type mismatch", "ImagePropertiesFilter", host("a"),
     request(image_properties={"hypervisor_type": "kvm"}), False),
    ("vm mode alias", "ImagePropertiesFilter", host("a"),
     request(image_properties={"vm_mode": "hv"}), True),
    ("nothing advertised", "ImagePropertiesFilter", host("a", supported_instances=()),
     request(image_properties={"hw_architecture": "x86_64"}), False),
    ("version satisfied", "ImagePropertiesFilter", host("a", hypervisor_version=6002000),
     request(image_properties={"hw_architecture": "x86_64",
                               "img_hv_requested_version": ">=6.0, <7"}), True),
    ("version too old", "ImagePropertiesFilter", host("a", hypervisor_version=5001000),
     request(image_properties={"hw_architecture": "x86_64",
                               "img_hv_requested_version": ">=6.0"}), False),
    ("legacy version property", "ImagePropertiesFilter", host("a", hypervisor_version=5001000),
     request(image_properties={"vm_mode": "hvm", "hypervisor_version_requires": ">=6.0"}),
     False),
    ("unknown host version passes", "ImagePropertiesFilter", host("a"),
     request(image_properties={"vm_mode": "hvm", "img_hv_requested_version": ">=6.0"}), True),
    # ServerGroupAffinityFilter
    ("no group", "ServerGroupAffinityFilter", host("a"), request(), True),
    ("empty affinity group", "ServerGroupAffinityFilter", host("a"),
     request(group=group("affinity")), True),
    ("affinity: the group's host", "ServerGroupAffinityFilter", host("a"),
     request(group=group("affinity", {"a": 1})), True),
    ("affinity: another host", "ServerGroupAffinityFilter", host("b"),
     request(group=group("affinity", {"a": 1})), False),
    ("anti-affinity group ignored", "ServerGroupAffinityFilter", host("b"),
     request(group=group("anti-affinity", {"a": 1})), True),
    # ServerGroupAntiAffinityFilter
    ("anti: empty host", "ServerGroupAntiAffinityFilter", host("b"),
     request(group=group("anti-affinity", {"a": 1})), True),
    ("anti: occupied host", "ServerGroupAntiAffinityFilter", host("a"),
     request(group=group("anti-affinity", {"a": 1})), False),
    ("anti: room under max_server_per_host", "ServerGroupAntiAffinityFilter", host("a"),
     request(group=group("anti-affinity", {"a": 1}, max_server_per_host=2)), True),
    ("anti: max_server_per_host reached", "ServerGroupAntiAffinityFilter", host("a"),
     request(group=group("anti-affinity", {"a": 2}, max_server_per_host=2)), False),
    ("anti: a move may stay", "ServerGroupAntiAffinityFilter",
     host("a", instance_uuids=frozenset({"inst-0"})),
     request(group=group("anti-affinity", {"a": 1})), True),
    ("soft policies are weighers", "ServerGroupAntiAffinityFilter", host("a"),
     request(group=group("soft-anti-affinity", {"a": 5})), True),
    # SameHostFilter / DifferentHostFilter
    ("same_host: no hint", "SameHostFilter", host("a"), request(), True),
    ("same_host: here", "SameHostFilter", host("a", instance_uuids=frozenset({"x"})),
     request(hints={"same_host": "x"}), True),
    ("same_host: via mapping", "SameHostFilter", host("a"),
     request(hints={"same_host": ["y", "x"]}, hosts_of_instances={"x": "a"}), True),
    ("same_host: elsewhere", "SameHostFilter", host("b"),
     request(hints={"same_host": ["x"]}, hosts_of_instances={"x": "a"}), False),
    ("different_host: no hint", "DifferentHostFilter", host("a"), request(), True),
    ("different_host: here", "DifferentHostFilter", host("a", instance_uuids=frozenset({"x"})),
     request(hints={"different_host": ["x"]}), False),
    ("different_host: elsewhere", "DifferentHostFilter", host("b"),
     request(hints={"different_host": "x"}, hosts_of_instances={"x": "a"}), True),
]


@pytest.mark.parametrize(("name", "candidate", "spec", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filter(name: str, candidate: HostState, spec: RequestSpec, expected: bool) -> None:
    assert passes(name, candidate, spec) is expected


def test_every_filter_has_cases() -> None:
    assert {c[1] for c in CASES} == set(FILTERS) == set(ALL_FILTERS)


def test_default_zone_comes_from_settings() -> None:
    spec = request(availability_zone="zone0")
    assert passes("AvailabilityZoneFilter", host("a", availability_zone=""), spec,
                  default_availability_zone="zone0")


def test_unknown_filter_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="NoSuchFilter"):
        enabled_filters(settings(enabled_filters=["ComputeFilter", "NoSuchFilter"]))


def test_report_counts_each_filter_in_order_and_stops_when_empty() -> None:
    hosts = [host("down", up=False), host("small", ram=256), host("small2", ram=512),
             host("ok")]
    spec = request(flavor=flavor(1, 1024, 1))
    filters = enabled_filters(settings(enabled_filters=ALL_FILTERS))
    result = run_filters(hosts, context(spec), filters)
    assert [h.host for h in result.passed] == ["ok"]
    assert [(o.name, o.removed) for o in result.report] == [
        ("ComputeFilter", 1), ("AvailabilityZoneFilter", 0), ("ResourcesFilter", 2),
        *[(n, 0) for n in ALL_FILTERS[3:]]]
    assert result.report[2].reason == "not enough MEMORY_MB: need 1024, best host has 512 free"
    empty = run_filters(hosts[:3], context(spec), filters)
    assert empty.passed == [] and [o.name for o in empty.report] == [
        "ComputeFilter", "AvailabilityZoneFilter", "ResourcesFilter"]


def test_ignore_hosts_and_forced_host() -> None:
    hosts = [host("a"), host("b", enabled=False), host("c", ram=1)]
    ignored = run_filters(hosts, context(request(ignore_hosts=frozenset({"a"}))),
                          enabled_filters(settings()))
    assert ignored.passed == [] and ignored.report[0].name == "ignore_hosts"
    assert ignored.report[0].removed == 1
    # a forced host skips the filters (even a disabled one) but not the resource fit
    forced = run_filters(hosts, context(request(force_host="b")), enabled_filters(settings()))
    assert [h.host for h in forced.passed] == ["b"]
    too_small = run_filters(hosts, context(request(force_host="c")),
                            enabled_filters(settings()))
    assert too_small.passed == []
    assert [o.name for o in too_small.report] == ["force_host", "ResourcesFilter"]
    by_node = run_filters(hosts, context(request(force_node="a")), enabled_filters(settings()))
    assert [h.host for h in by_node.passed] == ["a"]
