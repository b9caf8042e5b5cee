"""Instance actions and their events: who did what to a server, and how each step
went (``/servers/{id}/os-instance-actions``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute.tables import instance_action_events, instance_actions
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import NotFound


async def start_action(tx: Tx, uuid: str, action: str, *, request_id: str,
                       user_id: str | None, project_id: str | None) -> int:
    now = utcnow()
    result = await tx.execute(insert(instance_actions).values(
        action=action, instance_uuid=uuid, request_id=request_id or "req-none",
        user_id=user_id, project_id=project_id, start_time=now, updated_at=now))
    return int(result.inserted_primary_key[0])


async def latest_action(conn: AsyncConnection | Tx, uuid: str,
                        action: str | None = None) -> dict[str, Any] | None:
    query = select(instance_actions).where(instance_actions.c.instance_uuid == uuid)
    if action:
        query = query.where(instance_actions.c.action == action)
    row = (await conn.execute(query.order_by(instance_actions.c.id.desc()).limit(1))
           ).mappings().first()
    return dict(row) if row else None


async def start_event(tx: Tx, uuid: str, event: str, *, host: str | None = None,
                      action: str | None = None) -> int | None:
    """Start ``event`` under the instance's latest action (of kind ``action``)."""
    act = await latest_action(tx, uuid, action)
    if act is None:
        return None
    now = utcnow()
    result = await tx.execute(insert(instance_action_events).values(
        action_id=act["id"], event=event, start_time=now, host=host))
    await tx.execute(update(instance_actions).where(instance_actions.c.id == act["id"])
                     .values(updated_at=now))
    return int(result.inserted_primary_key[0])


async def finish_event(tx: Tx, uuid: str, event: str, *, result: str = "Success",
                       host: str | None = None, traceback: str | None = None,
                       details: str | None = None, action: str | None = None) -> None:
    """Finish the open ``event`` (start it first if it never was)."""
    act = await latest_action(tx, uuid, action)
    if act is None:
        return
    now = utcnow()
    row = (await tx.execute(select(instance_action_events.c.id).where(
        instance_action_events.c.action_id == act["id"],
        instance_action_events.c.event == event,
        instance_action_events.c.finish_time.is_(None)).order_by(
        instance_action_events.c.id.desc()).limit(1))).first()
    values = {"finish_time": now, "result": result, "traceback": traceback,
              "details": details}
    if row is None:
        await tx.execute(insert(instance_action_events).values(
            action_id=act["id"], event=event, start_time=now, host=host, **values))
    else:
        await tx.execute(update(instance_action_events)
                         .where(instance_action_events.c.id == row[0]).values(**values))
    action_values: dict[str, Any] = {"updated_at": now}
    if result == "Error":
        action_values["message"] = "Error"
    await tx.execute(update(instance_actions).where(instance_actions.c.id == act["id"])
                     .values(**action_values))


async def list_actions(conn: AsyncConnection, uuid: str, *,
                       changes_since: dt.datetime | None = None,
                       changes_before: dt.datetime | None = None) -> list[dict[str, Any]]:
    query = select(instance_actions).where(instance_actions.c.instance_uuid == uuid)
    if changes_since is not None:
        query = query.where(instance_actions.c.updated_at >= changes_since)
    if changes_before is not None:
        query = query.where(instance_actions.c.updated_at <= changes_before)
    rows = await conn.execute(query.order_by(instance_actions.c.start_time.desc(),
                                             instance_actions.c.id.desc()))
    return [dict(r) for r in rows.mappings()]


async def get_action(conn: AsyncConnection, uuid: str, request_id: str) -> dict[str, Any]:
    row = (await conn.execute(select(instance_actions).where(
        instance_actions.c.instance_uuid == uuid,
        instance_actions.c.request_id == request_id).order_by(
        instance_actions.c.id.desc()).limit(1))).mappings().first()
    if row is None:
        raise NotFound(f"Action for request_id {request_id} on instance {uuid} not found")
    action = dict(row)
    events = await conn.execute(select(instance_action_events).where(
        instance_action_events.c.action_id == action["id"]).order_by(
        instance_action_events.c.id))
    action["events"] = [dict(e) for e in events.mappings()]
    return action
