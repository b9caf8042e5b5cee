"""shelve, shelveOffload and unshelve.

shelve snapshots the server into an image (``<name>-shelved``), powers it off and
leaves it SHELVED on its host. It is offloaded (the host forgets it and its
placement allocation is dropped: SHELVED_OFFLOADED; the quota stays held, as in
Nova) at once with ``[compute] shelved_offload_time = 0`` (Nova's default), by the
periodic task (``offload_shelved``) once it has been shelved longer than a positive
time, and only by shelveOffload with -1.
unshelve powers a SHELVED server on again, or schedules a SHELVED_OFFLOADED one
afresh (2.77: into another availability zone), claims the host in placement and
spawns it there; the shelved image is deleted once the server runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from nubo.compute import clients, notifications, snapshot
from nubo.compute.scheduler import NoValidHost, select_destinations
from nubo.compute.scheduler.model import HostState, resources_of
from nubo.compute.service import hosts, instance_actions, instances
from nubo.compute.service.actions import check_up, claim_task, load_for, need_host
from nubo.compute.service.servers import agent_topic, check_availability_zone
from nubo.compute.service.snapshots import context_from, context_payload, image_body
from nubo.compute.states import PowerState, TaskState, VmState
from nubo.compute.tables import instance_system_metadata, request_specs
from nubo.compute.tables import instances as instances_t
from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.errors import Conflict, NuboError
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)
SHELVE_EVENT = "compute_shelve_instance"
OFFLOAD_EVENT = "compute_shelve_offload_instance"
UNSHELVE_EVENT = "compute_unshelve_instance"
SCHEDULE_EVENT = "schedule_instances"


async def shelve(rt: Runtime, ctx: RequestContext, uuid: str, *, request_id: str) -> None:
    async with rt.db.read() as conn:
        server = await instances.get(conn, uuid)
    body = image_body(server, f"{server['display_name']}-shelved", {}, kind="snapshot")
    image = await clients.create_image(rt, ctx, body)
    try:
        async with rt.db.transaction() as tx:
            server = await load_for(tx, ctx, uuid, "shelve")
            host = need_host(server)
            await check_up(rt, host)
            payload = {"instance_uuid": uuid, "image_id": image["id"],
                       "context": context_payload(ctx)}
            # kept with the server, so that a restart can take the shelve up again
            await claim_task(tx, server, TaskState.SHELVING,
                             extra={**(server.get("extra") or {}), "shelve": payload})
            await instance_actions.start_action(tx, uuid, "shelve", request_id=request_id,
                                                user_id=ctx.user_id,
                                                project_id=ctx.project_id)
            await instance_actions.start_event(tx, uuid, SHELVE_EVENT, host=host)
            notifications.emit(tx, "compute.instance.shelve.start", server)
            tx.publish(agent_topic(host, "shelve"), payload)
    except NuboError:
        await clients.delete_image(rt, ctx, image["id"])
        raise


async def set_task(rt: Runtime, uuid: str, expected: TaskState, task: TaskState) -> bool:
    """Move the task on if it is still ``expected``; False when no longer wanted."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != expected.value:
            return False
        await instances.set_fields(tx, uuid, task_state=task.value)
        return True


async def shelved(rt: Runtime, uuid: str, payload: Mapping[str, Any], *, host: str,
                  error: str | None = None) -> None:
    """The agent stored the disk and powered the guest off (or failed to)."""
    offload = rt.settings.compute.shelved_offload_time == 0
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != \
                TaskState.SHELVING_IMAGE_UPLOADING.value:
            return
        if error:
            await instances.set_fields(tx, uuid, task_state=None)
            await instance_actions.finish_event(tx, uuid, SHELVE_EVENT, host=host,
                                                result="Error", details=error)
        else:
            fields = {"vm_state": VmState.SHELVED.value, "power_state": PowerState.SHUTDOWN,
                      "task_state": TaskState.SHELVING_OFFLOADING.value if offload else None}
            await instances.set_fields(tx, uuid, **fields)
            await instances.set_metadata(tx, uuid, {
                "shelved_at": utcnow().isoformat(), "shelved_image_id": payload["image_id"],
                "shelved_host": host}, table=instance_system_metadata)
            await instance_actions.finish_event(tx, uuid, SHELVE_EVENT, host=host)
            notifications.emit(tx, "compute.instance.shelve.end", {**server, **fields})
            if offload:
                await instance_actions.start_event(tx, uuid, OFFLOAD_EVENT, host=host)
                tx.publish(agent_topic(host, "shelve_offload"), {"instance_uuid": uuid})
    if error:
        await clients.delete_image(rt, context_from(payload["context"]),
                                   str(payload["image_id"]))


async def shelve_offload(rt: Runtime, ctx: RequestContext, uuid: str, *,
                         request_id: str) -> None:
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, "shelveOffload")
        host = need_host(server)
        await check_up(rt, host)
        await claim_task(tx, server, TaskState.SHELVING_OFFLOADING)
        await instance_actions.start_action(tx, uuid, "shelveOffload", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, OFFLOAD_EVENT, host=host)
        tx.publish(agent_topic(host, "shelve_offload"), {"instance_uuid": uuid})


async def shelved_too_long(rt: Runtime, now: dt.datetime) -> list[str]:
    """SHELVED servers with no task whose ``shelved_at`` is more than
    ``[compute] shelved_offload_time`` seconds before ``now``."""
    cutoff = now - dt.timedelta(seconds=rt.settings.compute.shelved_offload_time)
    t, meta = instances_t, instance_system_metadata
    async with rt.db.read() as conn:
        rows = await conn.execute(select(t.c.uuid, meta.c.value).join(
            meta, meta.c.instance_uuid == t.c.uuid).where(
            t.c.deleted.is_(False), t.c.vm_state == VmState.SHELVED.value,
            t.c.task_state.is_(None), meta.c.key == "shelved_at"))
        return [str(uuid) for uuid, shelved_at in rows
                if dt.datetime.fromisoformat(shelved_at) <= cutoff]


async def offload_shelved(rt: Runtime, uuid: str) -> bool:
    """The periodic offload of one server (as shelveOffload, under its shelve
    action); False when it changed meanwhile or its host is down."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, extras=False)
        host = server["host"]
        service = await hosts.get_service(rt, host, conn=tx.conn) if host else None
        if (server["vm_state"] != VmState.SHELVED.value or server["task_state"]
                or service is None or not hosts.is_up(rt, service)):
            return False
        await claim_task(tx, server, TaskState.SHELVING_OFFLOADING)
        await instance_actions.start_event(tx, uuid, OFFLOAD_EVENT, host=host,
                                           action="shelve")
        tx.publish(agent_topic(host, "shelve_offload"), {"instance_uuid": uuid})
    return True


async def offloaded(rt: Runtime, uuid: str, *, host: str) -> None:
    """The host forgot the guest: no host, no allocation."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != TaskState.SHELVING_OFFLOADING.value:
            return
        fields = {"vm_state": VmState.SHELVED_OFFLOADED.value, "task_state": None,
                  "power_state": PowerState.NOSTATE, "host": None, "node": None}
        await instances.set_fields(tx, uuid, **fields)
        await instance_actions.finish_event(tx, uuid, OFFLOAD_EVENT, host=host)
        notifications.emit(tx, "compute.instance.shelve_offload.end", {**server, **fields})
    await clients.delete_allocations(rt, uuid)


# ----------------------------------------------------------------- unshelve


async def unshelve(rt: Runtime, ctx: RequestContext, uuid: str, *, request_id: str,
                   availability_zone: str | None = None) -> None:
    if availability_zone is not None:
        await check_availability_zone(rt, availability_zone)
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, "unshelve")
        offloaded_now = server["vm_state"] == VmState.SHELVED_OFFLOADED.value
        if availability_zone is not None and not offloaded_now:
            raise Conflict("The availability_zone parameter can only be used to unshelve "
                           "a server in SHELVED_OFFLOADED state.")
        await claim_task(tx, server, TaskState.UNSHELVING, extra={
            **(server.get("extra") or {}), "unshelve": {"context": context_payload(ctx)}})
        await instance_actions.start_action(tx, uuid, "unshelve", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        notifications.emit(tx, "compute.instance.unshelve.start", server)
        spec = (await tx.execute(select(request_specs.c.spec).where(
            request_specs.c.instance_uuid == uuid))).scalar()
        if not offloaded_now:
            await check_up(rt, need_host(server))
            await instance_actions.start_event(tx, uuid, UNSHELVE_EVENT, host=server["host"])
            tx.publish(agent_topic(server["host"], "unshelve"),
                       {"instance_uuid": uuid, "context": context_payload(ctx)})
            return
        await instance_actions.start_event(tx, uuid, SCHEDULE_EVENT)
    await _place(rt, ctx, server, dict(spec or {}), availability_zone)


async def _place(rt: Runtime, ctx: RequestContext, server: Mapping[str, Any],
                 spec: dict[str, Any], zone: str | None) -> None:
    uuid = server["uuid"]
    spec.update({"ignore_hosts": [], "force_host": None, "force_node": None})
    if zone is not None:
        spec["availability_zone"] = zone
    try:
        dest = await _claim_somewhere(rt, server, spec)
    except NoValidHost as e:
        async with rt.db.transaction() as tx:
            await instances.set_fields(tx, uuid, task_state=None)
            await instances.add_fault(tx, uuid, code=500, message=e.message)
            await instance_actions.finish_event(tx, uuid, SCHEDULE_EVENT, result="Error",
                                                details=e.message)
        return
    async with rt.db.transaction() as tx:
        fields: dict[str, Any] = {"host": dest.host, "node": dest.node}
        if zone is not None:
            fields["availability_zone"] = zone
        await instances.set_fields(tx, uuid, **fields)
        await instance_actions.finish_event(tx, uuid, SCHEDULE_EVENT)
        await instance_actions.start_event(tx, uuid, UNSHELVE_EVENT, host=dest.host)
        tx.publish(agent_topic(dest.host, "unshelve"),
                   {"instance_uuid": uuid, "context": context_payload(ctx)})


async def _claim_somewhere(rt: Runtime, server: Mapping[str, Any],
                           spec: Mapping[str, Any]) -> HostState:
    request = await snapshot.request_spec(rt, [server], spec)
    selection = select_destinations(await snapshot.host_states(rt), request,
                                    rt.settings.scheduler)[0]
    for candidate in (selection.host, *selection.alternates):
        try:
            await clients.claim(rt, consumer=server["uuid"],
                                provider_uuid=candidate.provider_uuid,
                                resources=resources_of(request.flavor),
                                project_id=server["project_id"], user_id=server["user_id"])
        except Conflict:
            continue
        return candidate
    raise NoValidHost(len(selection.alternates) + 1, (), server["uuid"],
                      detail="Every candidate host was claimed by concurrent requests.")


async def unshelved(rt: Runtime, uuid: str, payload: Mapping[str, Any], *, host: str,
                    power_state: int) -> None:
    """The guest runs again: ACTIVE, and the shelved image goes."""
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != TaskState.UNSHELVING.value:
            return
        fields = {"vm_state": VmState.ACTIVE.value, "task_state": None,
                  "power_state": power_state}
        await instances.set_fields(tx, uuid, **fields)
        image_id = server["system_metadata"].get("shelved_image_id")
        t = instance_system_metadata
        await tx.execute(delete(t).where(t.c.instance_uuid == uuid, t.c.key.in_(
            ["shelved_at", "shelved_image_id", "shelved_host"])))
        await instance_actions.finish_event(tx, uuid, UNSHELVE_EVENT, host=host)
        notifications.emit(tx, "compute.instance.unshelve.end", {**server, **fields})
    if image_id:
        await clients.delete_image(rt, context_from(payload["context"]), image_id)


async def unshelve_failed(rt: Runtime, uuid: str, *, host: str, reason: str) -> None:
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        if server["deleted"] or server["task_state"] != TaskState.UNSHELVING.value:
            return
        offloaded_now = server["vm_state"] == VmState.SHELVED_OFFLOADED.value
        fields: dict[str, Any] = {"task_state": None}
        if offloaded_now:
            fields.update(host=None, node=None)
        await instances.set_fields(tx, uuid, **fields)
        await instances.add_fault(tx, uuid, code=500, message=reason, host=host)
        await instance_actions.finish_event(tx, uuid, UNSHELVE_EVENT, host=host,
                                            result="Error", details=reason)
    if offloaded_now:
        await clients.delete_allocations(rt, uuid)
