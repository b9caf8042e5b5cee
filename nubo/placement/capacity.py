"""Capacity arithmetic: what an inventory can hold and whether an amount fits.

Pure functions, shared by claims, inventory changes and allocation candidates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_INT = 2147483647


@dataclass(frozen=True)
class Inventory:
    total: int
    reserved: int = 0
    min_unit: int = 1
    max_unit: int = MAX_INT
    step_size: int = 1
    allocation_ratio: float = 1.0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Inventory:
        return cls(total=int(row["total"]), reserved=int(row["reserved"]),
                   min_unit=int(row["min_unit"]), max_unit=int(row["max_unit"]),
                   step_size=int(row["step_size"]),
                   allocation_ratio=float(row["allocation_ratio"]))

    @property
    def capacity(self) -> int:
        """``(total - reserved) * allocation_ratio``, rounded down."""
        return int((self.total - self.reserved) * self.allocation_ratio)

    def shape_error(self, amount: int) -> str | None:
        """Why ``amount`` is not a valid single allocation here, or None."""
        if amount < self.min_unit:
            return f"{amount} is below the min_unit {self.min_unit}"
        if amount > self.max_unit:
            return f"{amount} is above the max_unit {self.max_unit}"
        if amount % self.step_size:
            return f"{amount} is not a multiple of the step_size {self.step_size}"
        return None

    def fits(self, used: int, amount: int) -> bool:
        """Whether ``amount`` more fits next to ``used`` without overcommitting."""
        return used + amount <= self.capacity

    def free(self, used: int) -> int:
        return max(self.capacity - used, 0)


def inventory_error(fields: Mapping[str, object]) -> str | None:
    """Why a set of inventory fields is inconsistent, or None."""
    total = fields["total"]
    reserved = fields.get("reserved", 0)
    min_unit = fields.get("min_unit", 1)
    max_unit = fields.get("max_unit", total)
    assert isinstance(total, int) and isinstance(reserved, int)
    assert isinstance(min_unit, int) and isinstance(max_unit, int)
    if reserved > total:
        return f"reserved {reserved} must not exceed total {total}"
    if min_unit > max_unit:
        return f"min_unit {min_unit} must not exceed max_unit {max_unit}"
    return None
