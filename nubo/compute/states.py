"""An instance's states as Nova names them, the API status they show as, and
which operations each state allows (one table)."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from nubo.core.errors import Conflict


class VmState(StrEnum):
    ACTIVE = "active"
    BUILDING = "building"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    RESCUED = "rescued"
    RESIZED = "resized"
    SOFT_DELETED = "soft-delete"
    DELETED = "deleted"
    ERROR = "error"
    SHELVED = "shelved"
    SHELVED_OFFLOADED = "shelved_offloaded"


class TaskState(StrEnum):
    SCHEDULING = "scheduling"
    BLOCK_DEVICE_MAPPING = "block_device_mapping"
    NETWORKING = "networking"
    SPAWNING = "spawning"
    IMAGE_SNAPSHOT = "image_snapshot"
    IMAGE_SNAPSHOT_PENDING = "image_snapshot_pending"
    IMAGE_PENDING_UPLOAD = "image_pending_upload"
    IMAGE_UPLOADING = "image_uploading"
    IMAGE_BACKUP = "image_backup"
    UPDATING_PASSWORD = "updating_password"
    RESIZE_PREP = "resize_prep"
    RESIZE_MIGRATING = "resize_migrating"
    RESIZE_MIGRATED = "resize_migrated"
    RESIZE_FINISH = "resize_finish"
    RESIZE_REVERTING = "resize_reverting"
    RESIZE_CONFIRMING = "resize_confirming"
    REBOOTING = "rebooting"
    REBOOT_PENDING = "reboot_pending"
    REBOOT_STARTED = "reboot_started"
    REBOOTING_HARD = "rebooting_hard"
    REBOOT_PENDING_HARD = "reboot_pending_hard"
    REBOOT_STARTED_HARD = "reboot_started_hard"
    PAUSING = "pausing"
    UNPAUSING = "unpausing"
    SUSPENDING = "suspending"
    RESUMING = "resuming"
    POWERING_OFF = "powering-off"
    POWERING_ON = "powering-on"
    RESCUING = "rescuing"
    UNRESCUING = "unrescuing"
    REBUILDING = "rebuilding"
    REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
    REBUILD_SPAWNING = "rebuild_spawning"
    MIGRATING = "migrating"
    DELETING = "deleting"
    SOFT_DELETING = "soft-deleting"
    RESTORING = "restoring"
    SHELVING = "shelving"
    SHELVING_IMAGE_PENDING_UPLOAD = "shelving_image_pending_upload"
    SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
    SHELVING_OFFLOADING = "shelving_offloading"
    UNSHELVING = "unshelving"


class PowerState(IntEnum):
    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


POWER_STATE_NAMES = {
    PowerState.NOSTATE: "NOSTATE", PowerState.RUNNING: "Running", PowerState.PAUSED: "Paused",
    PowerState.SHUTDOWN: "Shutdown", PowerState.CRASHED: "Crashed",
    PowerState.SUSPENDED: "Suspended",
}

# vm_state -> API status; a task state below may override it
_STATUS = {
    VmState.ACTIVE: "ACTIVE", VmState.BUILDING: "BUILD", VmState.PAUSED: "PAUSED",
    VmState.SUSPENDED: "SUSPENDED", VmState.STOPPED: "SHUTOFF", VmState.RESCUED: "RESCUE",
    VmState.RESIZED: "VERIFY_RESIZE", VmState.SOFT_DELETED: "SOFT_DELETED",
    VmState.DELETED: "DELETED", VmState.ERROR: "ERROR", VmState.SHELVED: "SHELVED",
    VmState.SHELVED_OFFLOADED: "SHELVED_OFFLOADED",
}
# (vm_state, task_state) -> API status, where the task shows through
_TASK_STATUS = {
    TaskState.REBOOTING: "REBOOT", TaskState.REBOOT_PENDING: "REBOOT",
    TaskState.REBOOT_STARTED: "REBOOT", TaskState.REBOOTING_HARD: "HARD_REBOOT",
    TaskState.REBOOT_PENDING_HARD: "HARD_REBOOT", TaskState.REBOOT_STARTED_HARD: "HARD_REBOOT",
    TaskState.UPDATING_PASSWORD: "PASSWORD", TaskState.REBUILDING: "REBUILD",
    TaskState.REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD", TaskState.REBUILD_SPAWNING: "REBUILD",
    TaskState.MIGRATING: "MIGRATING", TaskState.RESIZE_PREP: "RESIZE",
    TaskState.RESIZE_MIGRATING: "RESIZE", TaskState.RESIZE_MIGRATED: "RESIZE",
    TaskState.RESIZE_FINISH: "RESIZE", TaskState.RESIZE_REVERTING: "REVERT_RESIZE",
}
# the vm_states in which a task state changes the status shown
_TASK_SHOWS_IN = frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.RESIZED})
_STOPPED_SHOWS = frozenset({"RESIZE", "REBUILD", "REVERT_RESIZE", "MIGRATING"})


def api_status(vm_state: str, task_state: str | None) -> str:
    """The ``status`` a server shows, from its vm_state and task_state."""
    vm = VmState(vm_state)
    if task_state and vm in _TASK_SHOWS_IN:
        shown = _TASK_STATUS.get(TaskState(task_state))
        if shown and (vm is not VmState.STOPPED or shown in _STOPPED_SHOWS):
            return shown
    return _STATUS[vm]


# every status a server can show, and UNKNOWN, which status filters also accept
STATUSES = frozenset(_STATUS.values()) | frozenset(_TASK_STATUS.values()) | {"UNKNOWN"}


# vm_states for status filters: API status -> the vm_states it covers
def vm_states_for_status(status: str) -> frozenset[str]:
    status = status.upper()
    found = {vm.value for vm, shown in _STATUS.items() if shown == status}
    if status in set(_TASK_STATUS.values()):
        found |= {vm.value for vm in _TASK_SHOWS_IN}
    return frozenset(found)


def task_states_for_status(status: str) -> frozenset[str] | None:
    """The task states a status implies, or None when any task state matches."""
    status = status.upper()
    tasks = frozenset(t.value for t, shown in _TASK_STATUS.items() if shown == status)
    return tasks or None


# Groups of states.
LIVE = frozenset(vm for vm in VmState if vm not in {VmState.DELETED, VmState.SOFT_DELETED})
# on a hypervisor: the driver should have a domain for these
ON_HOST = frozenset({VmState.ACTIVE, VmState.PAUSED, VmState.SUSPENDED, VmState.STOPPED,
                     VmState.RESCUED, VmState.RESIZED, VmState.SHELVED})

# operation -> the vm_states it is allowed from (task_state must be None unless listed)
ALLOWED: dict[str, frozenset[VmState]] = {
    "delete": frozenset(LIVE),
    "forceDelete": frozenset(VmState),
    "update": frozenset(VmState),
    # Nova's ALLOW_HARD_REBOOT (a soft reboot only from active: the API checks that);
    # a rescued server is unrescued, not rebooted
    "reboot": frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED,
                         VmState.ERROR}),
    "stop": frozenset({VmState.ACTIVE, VmState.RESCUED, VmState.ERROR}),
    "start": frozenset({VmState.STOPPED}),
    "pause": frozenset({VmState.ACTIVE, VmState.RESCUED}),
    "unpause": frozenset({VmState.PAUSED}),
    "suspend": frozenset({VmState.ACTIVE}),
    "resume": frozenset({VmState.SUSPENDED}),
    "lock": frozenset(VmState),
    "unlock": frozenset(VmState),
    # server actions (actions helper), with the vm_states Nova allows them from
    "trigger_crash_dump": frozenset({VmState.ACTIVE, VmState.PAUSED, VmState.RESCUED,
                                     VmState.RESIZED, VmState.ERROR}),
    "changePassword": frozenset({VmState.ACTIVE}),
    "createImage": frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED,
                              VmState.SUSPENDED}),
    "createBackup": frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED,
                               VmState.SUSPENDED}),
    "resize": frozenset({VmState.ACTIVE, VmState.STOPPED}),
    "migrate": frozenset({VmState.ACTIVE, VmState.STOPPED}),
    "confirmResize": frozenset({VmState.RESIZED}),
    "revertResize": frozenset({VmState.RESIZED}),
    "shelve": frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED,
                         VmState.SUSPENDED}),
    "shelveOffload": frozenset({VmState.SHELVED}),
    "unshelve": frozenset({VmState.SHELVED, VmState.SHELVED_OFFLOADED}),
    "rescue": frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.ERROR}),
    "unrescue": frozenset({VmState.RESCUED}),
    "rebuild": frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.ERROR}),
    "restore": frozenset({VmState.SOFT_DELETED}),
    "os-migrateLive": frozenset({VmState.ACTIVE, VmState.PAUSED}),
    "evacuate": frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.ERROR}),
    # networking helper: os-interface
    "attach_interface": frozenset({VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED}),
    "detach_interface": frozenset({VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED}),
}
# tasks during which an operation is still allowed (others: 409)
ALLOWED_DURING_TASK: dict[str, frozenset[TaskState | None]] = {
    "delete": frozenset(TaskState) | {None},
    "forceDelete": frozenset(TaskState) | {None},
    "update": frozenset(TaskState) | {None},
    "lock": frozenset(TaskState) | {None},
    "unlock": frozenset(TaskState) | {None},
}


def check_allowed(op: str, uuid: str, vm_state: str, task_state: str | None) -> None:
    """Raise Conflict (409) with Nova's message when ``op`` is not allowed now."""
    vm = VmState(vm_state)
    if vm not in ALLOWED.get(op, frozenset()):
        raise Conflict(f"Cannot '{op}' instance {uuid} while it is in vm_state {vm.value}")
    task = TaskState(task_state) if task_state else None
    if task not in ALLOWED_DURING_TASK.get(op, frozenset({None})):
        raise Conflict(f"Cannot '{op}' instance {uuid} while it is in task_state "
                       f"{task.value if task else None}")
