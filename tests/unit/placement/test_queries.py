"""Parsing of resources, required traits and member_of query values."""

from __future__ import annotations

import pytest

from nubo.core.errors import BadRequest
from nubo.placement.queries import parse_member_of, parse_required, parse_resources

A = "11111111-1111-1111-1111-111111111111"
B = "22222222-2222-2222-2222-222222222222"


def test_resources() -> None:
    assert parse_resources("VCPU:1,MEMORY_MB:512") == {"VCPU": 1, "MEMORY_MB": 512}
    for bad in ("VCPU", "VCPU:x", "VCPU:0", "vcpu:1", "VCPU:1,VCPU:2", ""):
        with pytest.raises(BadRequest) as err:
            parse_resources(bad)
        assert err.value.details["code"] == "placement.query.bad_value"


def test_required_plain_forbidden_and_any_of() -> None:
    q = parse_required(["HW_CPU_X86_AVX,!CUSTOM_SLOW", "in:CUSTOM_A,CUSTOM_B"])
    assert q.required == [frozenset({"HW_CPU_X86_AVX"}), frozenset({"CUSTOM_A", "CUSTOM_B"})]
    assert q.forbidden == {"CUSTOM_SLOW"}
    assert q.matches({"HW_CPU_X86_AVX", "CUSTOM_B"})
    assert not q.matches({"HW_CPU_X86_AVX"})
    assert not q.matches({"HW_CPU_X86_AVX", "CUSTOM_A", "CUSTOM_SLOW"})


def test_required_refusals() -> None:
    with pytest.raises(BadRequest):
        parse_required(["!CUSTOM_X"], forbidden_ok=False)
    with pytest.raises(BadRequest):
        parse_required(["in:CUSTOM_X"], any_of_ok=False)
    with pytest.raises(BadRequest):
        parse_required(["CUSTOM_X,!CUSTOM_X"])
    with pytest.raises(BadRequest):
        parse_required(["bad trait"])


def test_member_of() -> None:
    q = parse_member_of([f"in:{A},{B}", A])
    assert q.any_of == [frozenset({A, B}), frozenset({A})]
    assert q.matches({A}) and not q.matches({B})
    q = parse_member_of([f"!in:{A},{B}"])
    assert q.forbidden == {A, B} and q.matches(set()) and not q.matches({B})
    with pytest.raises(BadRequest):
        parse_member_of(["not-a-uuid"])
    with pytest.raises(BadRequest):
        parse_member_of([f"!{A}"], forbidden_ok=False)
