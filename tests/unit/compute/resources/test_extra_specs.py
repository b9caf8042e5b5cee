"""Flavor extra spec validation (2.86)."""

from __future__ import annotations

import pytest

from nubo.compute.service import extra_specs
from nubo.core.errors import BadRequest


@pytest.mark.parametrize(("key", "value"), [
    ("hw:cpu_policy", "dedicated"), ("hw:mem_page_size", "2MB"), ("hw:numa_cpus.0", "0-3"),
    ("hw:numa_mem.1", "1024"), ("hw_rng:rate_bytes", "10"), ("quota:disk_read_iops_sec", "5"),
    ("trait:CUSTOM_FAST", "forbidden"), ("trait1:HW_NIC_SRIOV", "required"),
    ("resources:VGPU", "1"), ("resources_g1:CUSTOM_X", "2"), ("group_policy", "isolate"),
    ("aggregate_instance_extra_specs:any", "thing"), ("os:secure_boot", "required"),
    ("somevendor:key", "any value"), ("plainkey", "x"),
])
def test_valid(key: str, value: str) -> None:
    extra_specs.validate({key: value})


@pytest.mark.parametrize(("key", "value"), [
    ("hw:cpu_policy", "sometimes"), ("hw:unknown", "1"), ("hw:numa_mem.1", "lots"),
    ("hw_rng:allowed", "perhaps"), ("quota:cpu_shares", "-1"), ("quota:nope", "1"),
    ("trait:lowercase", "required"), ("trait:CUSTOM_X", "maybe"), ("resources:VCPU", "x"),
    ("group_policy", "spread"), ("os:secure_boot", "yes please"),
])
def test_invalid(key: str, value: str) -> None:
    with pytest.raises(BadRequest):
        extra_specs.validate({key: value})


@pytest.mark.parametrize("key", ["a/b", "", "x" * 256, "ünicode"])
def test_key_format(key: str) -> None:
    with pytest.raises(BadRequest):
        extra_specs.check_key_format(key)
