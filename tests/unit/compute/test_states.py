"""The instance state table: API statuses, status filters, allowed operations."""

from __future__ import annotations

import pytest

from nubo.compute.states import (
    TaskState,
    VmState,
    api_status,
    check_allowed,
    task_states_for_status,
    vm_states_for_status,
)
from nubo.core.errors import Conflict


@pytest.mark.parametrize(("vm", "task", "status"), [
    ("building", "scheduling", "BUILD"),
    ("building", "spawning", "BUILD"),
    ("active", None, "ACTIVE"),
    ("active", "deleting", "ACTIVE"),
    ("active", "rebooting", "REBOOT"),
    ("active", "rebooting_hard", "HARD_REBOOT"),
    ("active", "resize_prep", "RESIZE"),
    ("active", "rebuilding", "REBUILD"),
    ("active", "migrating", "MIGRATING"),
    ("stopped", None, "SHUTOFF"),
    ("stopped", "rebooting", "SHUTOFF"),
    ("stopped", "resize_migrating", "RESIZE"),
    ("resized", None, "VERIFY_RESIZE"),
    ("resized", "resize_reverting", "REVERT_RESIZE"),
    ("error", "resize_reverting", "ERROR"),
    ("error", None, "ERROR"),
    ("deleted", None, "DELETED"),
    ("soft-delete", None, "SOFT_DELETED"),
    ("shelved_offloaded", None, "SHELVED_OFFLOADED"),
    ("paused", None, "PAUSED"),
    ("suspended", None, "SUSPENDED"),
    ("rescued", None, "RESCUE"),
])
def test_api_status(vm: str, task: str | None, status: str) -> None:
    assert api_status(vm, task) == status


def test_every_vm_state_has_a_status() -> None:
    for vm in VmState:
        assert api_status(vm.value, None) != "UNKNOWN"


def test_status_filters() -> None:
    assert vm_states_for_status("active") >= {"active"}
    assert vm_states_for_status("SHUTOFF") == {"stopped"}
    assert task_states_for_status("REBOOT") == {"rebooting", "reboot_pending",
                                                "reboot_started"}
    assert task_states_for_status("ACTIVE") is None


def test_allowed_operations() -> None:
    check_allowed("delete", "u", "building", "scheduling")
    check_allowed("unpause", "u", "paused", None)
    with pytest.raises(Conflict, match="Cannot 'unpause' instance u while it is in "
                                       "vm_state active"):
        check_allowed("unpause", "u", "active", None)
    with pytest.raises(Conflict, match="task_state powering-off"):
        check_allowed("pause", "u", "active", TaskState.POWERING_OFF.value)
    with pytest.raises(Conflict):
        check_allowed("delete", "u", "deleted", None)
