"""Capacity arithmetic of inventories."""

from __future__ import annotations

from nubo.placement.capacity import Inventory, inventory_error


def test_capacity_is_total_minus_reserved_times_ratio_rounded_down() -> None:
    assert Inventory(total=10, reserved=2, allocation_ratio=1.5).capacity == 12
    assert Inventory(total=3, reserved=0, allocation_ratio=0.5).capacity == 1
    assert Inventory(total=4, reserved=4).capacity == 0


def test_fits_never_exceeds_capacity() -> None:
    inv = Inventory(total=37)
    assert inv.fits(36, 1)
    assert not inv.fits(37, 1)
    assert not inv.fits(0, 38)
    assert inv.free(40) == 0


def test_shape_errors() -> None:
    inv = Inventory(total=100, min_unit=2, max_unit=10, step_size=2)
    assert inv.shape_error(4) is None
    assert "min_unit" in (inv.shape_error(1) or "")
    assert "max_unit" in (inv.shape_error(12) or "")
    assert "step_size" in (inv.shape_error(5) or "")


def test_inventory_consistency() -> None:
    assert inventory_error({"total": 4, "reserved": 4}) is None
    assert "reserved" in (inventory_error({"total": 4, "reserved": 5}) or "")
    assert "min_unit" in (inventory_error({"total": 4, "min_unit": 3, "max_unit": 2}) or "")
