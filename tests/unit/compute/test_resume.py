"""What the conductor does after a restart with each unfinished migration."""

from __future__ import annotations

import pytest

from nubo.compute.resume import GIVE_UP, Step, next_step
from nubo.compute.service.migrations import IN_PROGRESS


@pytest.mark.parametrize("kind", ["resize", "migration"])
def test_cold_moves_go_on_from_where_they_stopped(kind: str) -> None:
    assert next_step(kind, "pre-migrating") == GIVE_UP
    assert next_step(kind, "migrating") == Step("resize_instance", "source")
    assert next_step(kind, "post-migrating") == Step("finish_resize", "dest")
    assert next_step(kind, "confirming") == Step("confirm_resize", "source")
    assert next_step(kind, "reverting") == Step("revert_resize", "dest")
    assert next_step(kind, "finished") is None          # waits for the user


def test_live_migrations() -> None:
    assert next_step("live-migration", "accepted") == GIVE_UP
    assert next_step("live-migration", "running") == Step("live_migration", "source")
    assert next_step("live-migration", "post-migrating") == Step("post_live_migration",
                                                                 "dest")


def test_evacuations() -> None:
    assert next_step("evacuation", "accepted") == GIVE_UP
    assert next_step("evacuation", "pre-migrating") == Step("evacuate_spawn", "dest")


def test_finished_moves_and_unknown_kinds_are_left_alone() -> None:
    for status in ("confirmed", "reverted", "completed", "done", "error", "failed",
                   "cancelled"):
        assert status not in IN_PROGRESS
        for kind in ("resize", "migration", "live-migration", "evacuation"):
            assert next_step(kind, status) is None
    assert next_step("teleport", "running") is None
