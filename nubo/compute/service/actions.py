"""Server actions done by a server's agent (stop, start, reboot, pause, ...), and
the ones done here and now (lock, unlock, resetState).

An agent action is two steps, as in Nova: ``begin_action`` checks the lock and the
state table, sets the task state with compare-and-set, records the instance
action, emits ``compute.instance.<x>.start`` and hands the server to its host's
agent; the agent asks its driver and reports through ``finish_action`` (or
``fail_action``), which writes the outcome, finishes the action's event and emits
``compute.instance.<x>.end``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from nubo.compute import notifications
from nubo.compute.service import hosts, instance_actions, instances
from nubo.compute.service.servers import agent_topic
from nubo.compute.states import PowerState, TaskState, VmState, check_allowed
from nubo.compute.tables import instances as instances_t
from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, Conflict
from nubo.core.runtime import Runtime

AGENT_OP = "server_action"


@dataclass(frozen=True)
class AgentAction:
    """How one action goes: its task state, what the driver does, where it ends."""

    name: str                     # the API's action name, also the instance action
    task: TaskState | None        # None: the action runs without a task state
    notify: str                   # compute.instance.<notify>.start / .end
    event: str                    # the instance action event
    driver_call: str              # the ComputeDriver method the agent calls
    vm_state: VmState | None      # where it ends (None: unchanged)
    power_state: PowerState | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    with_instance: bool = False   # the driver method takes the instance, not its uuid

    @property
    def task_value(self) -> str | None:
        return self.task.value if self.task else None


AGENT_ACTIONS: dict[str, AgentAction] = {a.name: a for a in (
    AgentAction("stop", TaskState.POWERING_OFF, "power_off", "compute_stop_instance",
                "power_off", VmState.STOPPED, PowerState.SHUTDOWN),
    AgentAction("start", TaskState.POWERING_ON, "power_on", "compute_start_instance",
                "power_on", VmState.ACTIVE, PowerState.RUNNING),
    AgentAction("reboot", TaskState.REBOOTING, "reboot", "compute_reboot_instance",
                "reboot", VmState.ACTIVE, PowerState.RUNNING),
    AgentAction("reboot_hard", TaskState.REBOOTING_HARD, "reboot", "compute_reboot_instance",
                "reboot", VmState.ACTIVE, PowerState.RUNNING, {"hard": True}),
    AgentAction("pause", TaskState.PAUSING, "pause", "compute_pause_instance", "pause",
                VmState.PAUSED, PowerState.PAUSED),
    AgentAction("unpause", TaskState.UNPAUSING, "unpause", "compute_unpause_instance",
                "unpause", VmState.ACTIVE, PowerState.RUNNING),
    AgentAction("suspend", TaskState.SUSPENDING, "suspend", "compute_suspend_instance",
                "suspend", VmState.SUSPENDED, PowerState.SUSPENDED),
    AgentAction("resume", TaskState.RESUMING, "resume", "compute_resume_instance", "resume",
                VmState.ACTIVE, PowerState.RUNNING),
    AgentAction("rescue", TaskState.RESCUING, "rescue", "compute_rescue_instance", "rescue",
                VmState.RESCUED, PowerState.RUNNING, with_instance=True),
    AgentAction("unrescue", TaskState.UNRESCUING, "unrescue", "compute_unrescue_instance",
                "unrescue", VmState.ACTIVE, PowerState.RUNNING),
    AgentAction("changePassword", TaskState.UPDATING_PASSWORD, "set_admin_password",
                "compute_set_admin_password", "set_admin_password", None),
    AgentAction("trigger_crash_dump", None, "trigger_crash_dump",
                "compute_trigger_crash_dump", "trigger_crash_dump", None),
)}


def check_lock(ctx: RequestContext, server: Mapping[str, Any]) -> None:
    """Nova's rule: a locked server refuses changes, except from an admin."""
    if server["locked"] and "admin" not in ctx.roles:
        raise Conflict(f"Instance {server['uuid']} is locked")


async def claim_task(tx: Tx, server: Mapping[str, Any], task: TaskState | None,
                     **fields: Any) -> None:
    """Set the task state if nobody changed the server since it was read (409 if so)."""
    result = await tx.execute(
        update(instances_t).where(
            instances_t.c.uuid == server["uuid"], instances_t.c.deleted.is_(False),
            instances_t.c.vm_state == server["vm_state"],
            instances_t.c.task_state.is_(None) if server["task_state"] is None
            else instances_t.c.task_state == server["task_state"])
        .values(task_state=task.value if task else None, updated_at=utcnow(), **fields))
    if result.rowcount != 1:
        raise Conflict(f"Instance {server['uuid']} changed state meanwhile; try again.")


async def load_for(tx: Tx, ctx: RequestContext, uuid: str, op: str, *,
                   lock: bool = True) -> dict[str, Any]:
    """The server, checked: not locked (unless ``lock`` is False) and ``op`` allowed."""
    server = await instances.get(tx, uuid)
    if lock:
        check_lock(ctx, server)
    check_allowed(op, uuid, server["vm_state"], server["task_state"])
    return server


async def check_up(rt: Runtime, *hosts_: str) -> None:
    """409 as Nova's ServiceUnavailable when an agent that must act is down: the
    request would wait for it forever."""
    for host in hosts_:
        service = await hosts.get_service(rt, host)
        if service is None or not hosts.is_up(rt, service):
            raise Conflict("Service is unavailable at this time.")


def need_host(server: Mapping[str, Any]) -> str:
    host = server["host"]
    if not host:
        raise Conflict(f"Instance {server['uuid']} has no host; cannot act on it now.")
    return str(host)


async def begin_action(rt: Runtime, ctx: RequestContext, uuid: str, name: str, *,
                       request_id: str, op: str | None = None,
                       args: Mapping[str, Any] | None = None) -> None:
    """Start agent action ``name`` (a key of ``AGENT_ACTIONS``) on a server; ``op``
    is the name the state table and the 409 message use (default: ``name``)."""
    action = AGENT_ACTIONS[name]
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, op or name)
        host = need_host(server)
        await check_up(rt, host)
        await claim_task(tx, server, action.task)
        await instance_actions.start_action(tx, uuid, op or name, request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, action.event, host=host)
        notifications.emit(tx, f"compute.instance.{action.notify}.start",
                           {**server, "task_state": action.task_value})
        tx.publish(agent_topic(host, AGENT_OP), {"instance_uuid": uuid, "action": name,
                                                 "args": dict(args or {})})


async def finish_action(rt: Runtime, uuid: str, name: str, *, host: str,
                        power_state: int | None = None) -> None:
    """The agent did ``name``: record where the server is now."""
    action = AGENT_ACTIONS[name]
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != action.task_value:
            return
        fields: dict[str, Any] = {"task_state": None}
        if action.vm_state is not None:
            fields["vm_state"] = action.vm_state.value
        power = power_state if power_state is not None else action.power_state
        if power is not None:
            fields["power_state"] = int(power)
        await instances.set_fields(tx, uuid, **fields)
        await instance_actions.finish_event(tx, uuid, action.event, host=host)
        notifications.emit(tx, f"compute.instance.{action.notify}.end", {**server, **fields})


async def fail_action(rt: Runtime, uuid: str, name: str, *, host: str, reason: str) -> None:
    """The driver refused ``name``: the server keeps its state, the task is cleared
    and the action's event records the error."""
    action = AGENT_ACTIONS[name]
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != action.task_value:
            return
        await instances.set_fields(tx, uuid, task_state=None)
        await instance_actions.finish_event(tx, uuid, action.event, result="Error",
                                            host=host, details=reason)
        notifications.emit(tx, f"compute.instance.{action.notify}.error",
                           {**server, "task_state": None})


async def clear_task(rt: Runtime, uuid: str, task: str, *, reason: str) -> None:
    """Clear ``task`` if the server still has it (work that cannot be resumed)."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != task:
            return
        await instances.set_fields(tx, uuid, task_state=None)
        await instances.add_fault(tx, uuid, code=500, message=f"{task}: {reason}",
                                  host=server["host"])


# ------------------------------------------------------- done here and now


async def lock_server(rt: Runtime, ctx: RequestContext, uuid: str, *, request_id: str,
                      reason: str | None) -> None:
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid)
        if server["locked"]:
            return
        by = "owner" if ctx.project_id == server["project_id"] else "admin"
        await instances.set_fields(tx, uuid, locked=True, locked_by=by, locked_reason=reason)
        await instance_actions.start_action(tx, uuid, "lock", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        notifications.emit(tx, "compute.instance.lock", {**server, "locked": True})


async def unlock_server(rt: Runtime, ctx: RequestContext, uuid: str, *,
                        request_id: str) -> None:
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid)
        if not server["locked"]:
            return
        await instances.set_fields(tx, uuid, locked=False, locked_by=None,
                                   locked_reason=None)
        await instance_actions.start_action(tx, uuid, "unlock", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        notifications.emit(tx, "compute.instance.unlock", {**server, "locked": False})


RESET_STATES = {"active": VmState.ACTIVE, "error": VmState.ERROR}


async def reset_state(rt: Runtime, ctx: RequestContext, uuid: str, state: str, *,
                      request_id: str) -> None:
    """os-resetState: vm_state active or error, no task."""
    if state not in RESET_STATES:
        raise BadRequest(f"Invalid input for field/attribute state. Value: {state}. "
                         f"'{state}' is not one of ['active', 'error']")
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid)
        fields = {"vm_state": RESET_STATES[state].value, "task_state": None}
        await instances.set_fields(tx, uuid, **fields)
        await instance_actions.start_action(tx, uuid, "resetState", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        notifications.emit(tx, "compute.instance.update", {**server, **fields})
