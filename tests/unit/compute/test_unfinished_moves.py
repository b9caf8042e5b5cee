"""The quota a resize holds beyond the server's current flavor while unfinished."""

from __future__ import annotations

from nubo.compute.service.unfinished_moves import quota_beyond

TINY = {"vcpus": 1, "ram": 512}
SMALL = {"vcpus": 1, "ram": 2048}
BIG = {"vcpus": 4, "ram": 1024}


def move(old: dict[str, int], new: dict[str, int]) -> dict[str, object]:
    return {"old_flavor": old, "new_flavor": new}


def test_bigger_flavor_before_the_switch_holds_the_difference() -> None:
    assert quota_beyond(TINY, move(TINY, SMALL)) == {"ram": 1536}


def test_after_the_switch_nothing_beyond_the_new_flavor() -> None:
    assert quota_beyond(SMALL, move(TINY, SMALL)) == {}


def test_smaller_flavor_keeps_the_old_until_confirmed() -> None:
    assert quota_beyond(TINY, move(SMALL, TINY)) == {"ram": 1536}


def test_mixed_resources_take_the_larger_of_each() -> None:
    assert quota_beyond(SMALL, move(SMALL, BIG)) == {"cores": 3}
    assert quota_beyond(BIG, move(SMALL, BIG)) == {"ram": 1024}


def test_migration_without_flavor_change_holds_nothing_more() -> None:
    assert quota_beyond(TINY, move(TINY, TINY)) == {}
