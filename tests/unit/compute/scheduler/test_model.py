from __future__ import annotations

import pytest

from nubo.compute.scheduler import FilterOutcome, NoValidHost, resources_of, traits_of
from nubo.core.errors import BadRequest
from tests.unit.compute.scheduler.snapshots import flavor


@pytest.mark.parametrize(("spec", "expected"), [
    (flavor(2, 2048, 20), {"VCPU": 2, "MEMORY_MB": 2048, "DISK_GB": 20}),
    # ephemeral and swap count as disk; swap MiB rounds up to whole GiB
    (flavor(1, 512, 10, ephemeral=5, swap=1), {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 16}),
    (flavor(1, 512, 10, swap=2048), {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 12}),
    (flavor(1, 512, 10, swap=2049), {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 13}),
    # zero amounts are left out (boot from volume: no disk)
    (flavor(1, 512, 0), {"VCPU": 1, "MEMORY_MB": 512}),
    # overrides and custom classes
    (flavor(4, 1024, 10, **{"resources:VCPU": "0"}), {"MEMORY_MB": 1024, "DISK_GB": 10}),
    (flavor(4, 1024, 10, **{"resources:MEMORY_MB": "64"}),
     {"VCPU": 4, "MEMORY_MB": 64, "DISK_GB": 10}),
    (flavor(4, 1024, 10, **{"resources:CUSTOM_BAREMETAL_GOLD": "1", "resources:VCPU": "0",
                            "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}),
     {"CUSTOM_BAREMETAL_GOLD": 1}),
    # PCPU replaces the flavor's VCPU
    (flavor(4, 1024, 10, **{"resources:PCPU": "4"}),
     {"PCPU": 4, "MEMORY_MB": 1024, "DISK_GB": 10}),
    # numbered request groups add up and count as explicit
    (flavor(4, 1024, 10, **{"resources1:CUSTOM_X": "1", "resources2:CUSTOM_X": "2",
                            "resources1:VCPU": "1"}),
     {"VCPU": 1, "CUSTOM_X": 3, "MEMORY_MB": 1024, "DISK_GB": 10}),
    # other scopes are not resources
    (flavor(1, 512, 1, **{"hw:cpu_policy": "dedicated", "resourcesx:CUSTOM_Y": "1"}),
     {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}),
])
def test_resources_of(spec: object, expected: dict[str, int]) -> None:
    assert resources_of(spec) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["two", "-1", "1.5", ""])
def test_resources_of_refuses_a_bad_amount(amount: str) -> None:
    with pytest.raises(BadRequest, match="resources:VCPU"):
        resources_of(flavor(**{"resources:VCPU": amount}))


def test_traits_from_flavor_and_image() -> None:
    spec = flavor(**{"trait:HW_CPU_X86_AVX2": "required", "trait:CUSTOM_SLOW": "forbidden",
                     "trait1:CUSTOM_GPU": "required", "traitx:IGNORED": "required",
                     "other:CUSTOM_Z": "required"})
    required, forbidden = traits_of(spec, {"trait:CUSTOM_IMAGE": "required",
                                           "trait:CUSTOM_NOT_HERE": "forbidden",
                                           "hw_architecture": "x86_64"})
    assert required == {"HW_CPU_X86_AVX2", "CUSTOM_GPU", "CUSTOM_IMAGE"}
    # images can only require traits (as in Nova)
    assert forbidden == {"CUSTOM_SLOW"}


def test_no_valid_host_message_names_every_filter() -> None:
    error = NoValidHost(10, (
        FilterOutcome("ComputeFilter", 1, "disabled"),
        FilterOutcome("AvailabilityZoneFilter", 0),
        FilterOutcome("ResourcesFilter", 9, "not enough MEMORY_MB: need 2048, best host has "
                      "512 free"),
    ))
    assert str(error) == (
        "No valid host was found. 10 hosts: ComputeFilter removed 1 (disabled), "
        "AvailabilityZoneFilter removed 0, ResourcesFilter removed 9 (not enough MEMORY_MB: "
        "need 2048, best host has 512 free)")
    assert error.status == 400
    assert [o.removed for o in error.report] == [1, 0, 9]
