"""Pure rules of the server actions: quota deltas of a resize, what a snapshot
image inherits, the agent action table, and the state table's refusals."""

from __future__ import annotations

import pytest

from nubo.compute.service import actions, resize, snapshots
from nubo.compute.states import TaskState, VmState, check_allowed
from nubo.core.errors import Conflict

TINY = {"id": "1", "vcpus": 1, "ram": 512, "disk": 1}
SMALL = {"id": "2", "vcpus": 2, "ram": 2048, "disk": 20}


def test_resize_quota_change_splits_growth_and_shrink() -> None:
    change = resize.quota_change(TINY, SMALL)
    assert change == {"cores": 1, "ram": 1536}
    assert resize._part(change, +1) == {"cores": 1, "ram": 1536}
    assert resize._part(change, -1) == {}
    back = resize.quota_change(SMALL, TINY)
    assert resize._part(back, -1) == {"cores": 1, "ram": 1536}
    assert resize._part(resize.quota_change(TINY, TINY), +1) == {}


def test_snapshot_image_inherits_image_properties_not_core_fields() -> None:
    server = {"uuid": "u1", "user_id": "usr", "image_ref": "base", "flavor": SMALL,
              "system_metadata": {"image_os_distro": "debian", "image_min_disk": "5",
                                  "image_min_ram": "128", "image_disk_format": "qcow2",
                                  "image_name": "old", "other": "x"}}
    body = snapshots.image_body(server, "snap", {"k": "v"}, kind="backup",
                                backup_type="daily")
    assert body["os_distro"] == "debian" and body["k"] == "v"
    assert body["name"] == "snap" and "other" not in body
    assert body["min_disk"] == 20 and body["min_ram"] == 128
    assert body["image_type"] == "backup" and body["backup_type"] == "daily"
    assert body["instance_uuid"] == "u1" and body["base_image_ref"] == "base"
    assert body["visibility"] == "private"


def test_every_agent_action_has_a_distinct_task_and_a_state_rule() -> None:
    tasks = [a.task for a in actions.AGENT_ACTIONS.values() if a.task is not None]
    assert len(tasks) == len(set(tasks))
    ops = {"reboot_hard": "reboot"}
    for name in actions.AGENT_ACTIONS:
        op = ops.get(name, name)
        with pytest.raises(Conflict):
            check_allowed(op, "u", VmState.BUILDING.value, None)


@pytest.mark.parametrize(("op", "vm", "task", "allowed"), [
    ("stop", VmState.ACTIVE, None, True),
    ("stop", VmState.STOPPED, None, False),
    ("stop", VmState.ACTIVE, TaskState.REBOOTING, False),
    ("resize", VmState.STOPPED, None, True),
    ("resize", VmState.PAUSED, None, False),
    ("confirmResize", VmState.RESIZED, None, True),
    ("unshelve", VmState.SHELVED_OFFLOADED, None, True),
    ("shelveOffload", VmState.SHELVED_OFFLOADED, None, False),
    ("os-migrateLive", VmState.PAUSED, None, True),
    ("evacuate", VmState.ERROR, None, True),
    ("restore", VmState.ACTIVE, None, False),
    ("lock", VmState.ACTIVE, TaskState.RESIZE_MIGRATING, True),
])
def test_state_table(op: str, vm: VmState, task: TaskState | None, allowed: bool) -> None:
    if allowed:
        check_allowed(op, "u", vm.value, task.value if task else None)
    else:
        with pytest.raises(Conflict) as e:
            check_allowed(op, "u", vm.value, task.value if task else None)
        assert e.value.message.startswith(f"Cannot '{op}' instance u while it is in ")
