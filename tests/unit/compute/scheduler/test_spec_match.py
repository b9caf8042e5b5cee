from __future__ import annotations

import pytest

from nubo.compute.scheduler.spec_match import matches


@pytest.mark.parametrize(("value", "requirement", "expected"), [
    ("ssd", "ssd", True),
    ("ssd", "hdd", False),
    (None, "ssd", False),
    # "=" is "at least", numerically
    ("4", "= 2", True),
    ("4", "= 4", True),
    ("1", "= 2", False),
    ("x", "= 2", False),
    ("2", "== 2.0", True),
    ("3", "== 2", False),
    ("3", "!= 2", True),
    ("2", ">= 3", False),
    ("2", "<= 3", True),
    # string comparisons
    ("abc", "s== abc", True),
    ("abc", "s!= abc", False),
    ("abc", "s< abd", True),
    ("abc", "s<= abc", True),
    ("abd", "s> abc", True),
    ("abc", "s>= abd", False),
    # substring and all-words
    ("fast ssd raid", "<in> ssd", True),
    ("fast hdd", "<in> ssd", False),
    ("fast ssd raid", "<all-in> ssd raid", True),
    ("fast ssd", "<all-in> ssd raid", False),
    ("fast ssd", "<all-in>", False),
    # alternatives
    ("b", "<or> a <or> b <or> c", True),
    ("d", "<or> a <or> b <or> c", False),
    ("<or>", "<or> a <or> b", False),
    (None, "<or> a", False),
    # an operator with no operand never matches
    ("2", ">=", False),
])
def test_matches(value: str | None, requirement: str, expected: bool) -> None:
    assert matches(value, requirement) is expected
