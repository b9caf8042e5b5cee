"""What an agent does on start, from the database's view and the driver's."""

from __future__ import annotations

from nubo.compute.reconcile import plan_host


def inst(uuid: str, vm: str, task: str | None = None) -> dict[str, str | None]:
    return {"uuid": uuid, "vm_state": vm, "task_state": task}


def test_nothing_to_do_when_they_agree() -> None:
    plan = plan_host([inst("a", "active"), inst("b", "stopped")], ["a", "b"])
    assert plan.spawn == plan.finish_delete == plan.destroy_orphans == plan.lost == []


def test_builds_are_spawned_again_whether_or_not_the_domain_exists() -> None:
    plan = plan_host([inst("a", "building", "spawning"), inst("b", "building", "spawning")],
                     ["a"])
    assert plan.spawn == ["a", "b"]


def test_deletes_are_finished() -> None:
    plan = plan_host([inst("a", "active", "deleting"), inst("b", "error", "deleting")], ["a"])
    assert plan.finish_delete == ["a", "b"] and plan.destroy_orphans == []


def test_domains_nobody_wants_are_destroyed() -> None:
    plan = plan_host([inst("a", "active")], ["a", "zombie", "ghost"])
    assert plan.destroy_orphans == ["ghost", "zombie"]


def test_active_instances_without_a_domain_are_lost() -> None:
    plan = plan_host([inst("a", "active"), inst("b", "error"), inst("c", "paused")], [])
    assert plan.lost == ["a", "c"]          # ERROR ones need no domain


def test_guests_of_moves_under_way_are_kept_and_not_lost() -> None:
    # "m" moves away from this host (its guest already gone), "n" moves here (the
    # guest arrived but the server is still recorded on the other host)
    plan = plan_host([inst("m", "active", "migrating"), inst("x", "active")], ["n"],
                     moving=["m", "n"])
    assert plan.lost == ["x"] and plan.destroy_orphans == []
