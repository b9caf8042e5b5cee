"""Small builders for scheduler snapshots and requests used by these tests."""

from __future__ import annotations

from typing import Any

from nubo.compute.scheduler import (
    FlavorSpec,
    GroupSpec,
    HostAggregate,
    HostState,
    RequestSpec,
    resources_of,
    traits_of,
)
from nubo.compute.scheduler.filters import FilterContext
from nubo.core.config import SchedulerSettings


def host(name: str, *, vcpus: int = 8, ram: int = 8192, disk: int = 100,
         used: dict[str, int] | None = None, **fields: Any) -> HostState:
    values: dict[str, Any] = dict(
        host=name, node=name, provider_uuid=f"rp-{name}", enabled=True, up=True,
        availability_zone="nova", aggregates=(),
        capacity={"VCPU": vcpus, "MEMORY_MB": ram, "DISK_GB": disk}, used=used or {},
        num_instances=0, instance_uuids=frozenset(), traits=frozenset(),
        hypervisor_type="fake", supported_instances=(("x86_64", "fake", "hvm"),))
    values.update(fields)
    return HostState(**values)


def aggregate(name: str, **metadata: str) -> HostAggregate:
    return HostAggregate(uuid=f"agg-{name}", name=name, metadata=metadata)


def flavor(vcpus: int = 1, ram: int = 512, disk: int = 1, *, ephemeral: int = 0, swap: int = 0,
           **extra_specs: str) -> FlavorSpec:
    return FlavorSpec(vcpus=vcpus, memory_mb=ram, root_gb=disk, ephemeral_gb=ephemeral,
                      swap_mb=swap, extra_specs=extra_specs)


def group(policy: str, members: dict[str, int] | None = None,
          **rules: int) -> GroupSpec:
    return GroupSpec(uuid=f"group-{policy}", policy=policy, rules=rules,
                     member_hosts=members or {})


def request(count: int = 1, **fields: Any) -> RequestSpec:
    values: dict[str, Any] = dict(
        instance_uuids=tuple(f"inst-{i}" for i in range(count)), project_id="proj",
        user_id="user", flavor=flavor())
    values.update(fields)
    return RequestSpec(**values)


def settings(**fields: Any) -> SchedulerSettings:
    base = SchedulerSettings()
    for key, value in fields.items():
        setattr(base, key, value)
    return base


def context(spec: RequestSpec, instance_uuid: str = "inst-0", **setting: Any) -> FilterContext:
    """The view one filter or weigher gets of ``spec`` before anything is placed."""
    required, forbidden = traits_of(spec.flavor, spec.image_properties)
    members = dict(spec.group.member_hosts) if spec.group else {}
    return FilterContext(spec, settings(**setting), instance_uuid, resources_of(spec.flavor),
                         required, forbidden, members)


ALL_FILTERS = [
    "ComputeFilter", "AvailabilityZoneFilter", "ResourcesFilter",
    "AggregateMultiTenancyIsolation", "AggregateInstanceExtraSpecsFilter",
    "ImagePropertiesFilter", "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter",
    "SameHostFilter", "DifferentHostFilter",
]
