"""evacuate: rebuild a server of a dead host on another one (admin).

The source host's compute service must be down. A migration of type
``evacuation`` takes over the source allocation while the server claims the
destination; the destination agent spawns the guest again and the migration is
``done``. The dead host's copy is its own agent's to clean up when it returns
(its restart reconcile removes guests placed elsewhere).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from nubo.compute import clients, notifications
from nubo.compute.service import hosts, instance_actions, instances, migrations, resize
from nubo.compute.service.actions import claim_task, load_for, need_host
from nubo.compute.service.servers import agent_topic
from nubo.compute.states import TaskState, VmState
from nubo.compute.tables import request_specs
from nubo.core.auth.context import RequestContext
from nubo.core.errors import BadRequest
from nubo.core.runtime import Runtime

EVENT = "compute_rebuild_instance"


async def evacuate(rt: Runtime, ctx: RequestContext, uuid: str, *, host: str | None,
                   force: bool, request_id: str) -> None:
    async with rt.db.read() as conn:
        current = await instances.get(conn, uuid)
    source = need_host(current)
    service = await hosts.get_service(rt, source)
    if service is not None and hosts.is_up(rt, service):
        raise BadRequest(f"Compute service of {source} is still in use.")
    async with rt.db.transaction() as tx:
        server = await load_for(tx, ctx, uuid, "evacuate")
        await claim_task(tx, server, TaskState.REBUILDING)
        migration = await migrations.create(
            tx, server, migration_type="evacuation", new_flavor=server["flavor"],
            status="accepted", user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_action(tx, uuid, "evacuate", request_id=request_id,
                                            user_id=ctx.user_id, project_id=ctx.project_id)
        await instance_actions.start_event(tx, uuid, resize.PREP_EVENT)
        notifications.emit(tx, "compute.instance.evacuate", server)
        spec = (await tx.execute(select(request_specs.c.spec).where(
            request_specs.c.instance_uuid == uuid))).scalar()
    try:
        dest = await resize.choose_and_claim(rt, server, migration, dict(spec or {}),
                                             host=host, force=force)
    except BadRequest as e:
        await resize.abandon(rt, server, migration, {}, e.message)
        raise
    async with rt.db.transaction() as tx:
        wanted = await migrations.advance(tx, migration["uuid"], migration["status"],
                                          dest_compute=dest.host, dest_node=dest.node,
                                          dest_host=dest.host, status="pre-migrating")
        if wanted:
            await instance_actions.finish_event(tx, uuid, resize.PREP_EVENT)
            await instance_actions.start_event(tx, uuid, EVENT, host=dest.host)
            tx.publish(agent_topic(dest.host, "evacuate_spawn"),
                       {"instance_uuid": uuid, "migration_uuid": migration["uuid"]})
    if not wanted:
        await resize.drop_claims(rt, uuid, migration["uuid"])


async def evacuated(rt: Runtime, uuid: str, migration_uuid: str, *, power_state: int,
                    error: str | None = None) -> None:
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, deleted=True)
        m = await migrations.get(tx, migration_uuid)
        if m["status"] != "pre-migrating":
            return
        await migrations.set_fields(tx, migration_uuid, status="failed" if error else "done")
        fields: dict[str, Any] = {"host": m["dest_compute"], "node": m["dest_node"],
                                  "task_state": None, "power_state": power_state,
                                  "vm_state": (VmState.ERROR if error
                                               else VmState.ACTIVE).value}
        if not server["deleted"]:
            await instances.set_fields(tx, uuid, **fields)
            if error:
                await instances.add_fault(tx, uuid, code=500, message=error,
                                          host=m["dest_compute"])
        await instance_actions.finish_event(tx, uuid, EVENT, host=m["dest_compute"],
                                            result="Error" if error else "Success",
                                            details=error)
    await clients.delete_allocations(rt, migration_uuid)
