"""Instance actions and their events: who did what to a server, and how each step
went (``/servers/{id}/os-instance-actions``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute.tables import instance_action_events, instance_actions
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import NotFound
from nubo.core.log import request_id_var


async def start_action(tx: Tx, uuid: str, action: str, *, request_id: str,
                       user_id: str | None, project_id: str | None) -> int:
    now = utcnow()
    result = await tx.execute(insert(instance_actions), {
        "action": action, "instance_uuid": uuid, "request_id": request_id or "req-none",
        "user_id": user_id, "project_id": project_id, "start_time": now, "updated_at": now})
    return int(result.inserted_primary_key[0])


A = instance_actions
E = instance_action_events


def _latest(of_kind: bool) -> Any:
    query = select(A).where(A.c.instance_uuid == bindparam("uuid"))
    if of_kind:
        query = query.where(A.c.action == bindparam("action"))
    return query.order_by(A.c.id.desc()).limit(1)


# the hot statements of an action's events, built once
_LATEST = {False: prebuilt(_latest(False)), True: prebuilt(_latest(True))}
_OF_REQUEST = prebuilt(select(A).where(
    A.c.instance_uuid == bindparam("uuid"), A.c.request_id == bindparam("request_id"))
    .order_by(A.c.id.desc()).limit(1))
# the action's open events of a name (one, unless a step was asked for twice)
_FINISH_EVENT = prebuilt(update(E).where(
    E.c.action_id == bindparam("w_action_id"), E.c.event == bindparam("w_event"),
    E.c.finish_time.is_(None)).values(
    finish_time=bindparam("b_finish_time"), result=bindparam("b_result"),
    traceback=bindparam("b_traceback"), details=bindparam("b_details")))
_TOUCH = prebuilt(update(A).where(A.c.id == bindparam("action_id")).values(
    updated_at=bindparam("b_updated_at")))
_TOUCH_FAILED = prebuilt(update(A).where(A.c.id == bindparam("action_id")).values(
    updated_at=bindparam("b_updated_at"), message="Error"))
_INSERT_EVENT = insert(E)


async def current_action(conn: AsyncConnection | Tx, uuid: str,
                         action: str | None = None) -> dict[str, Any] | None:
    """The action an event of the work at hand belongs to: the instance's action of
    the request being served (its id travels with the work over the bus, as Nova
    finds an event's action by the context's request id); else, for work no request
    of the instance's started, its latest action (of kind ``action``)."""
    request_id = request_id_var.get()
    if request_id:
        row = (await conn.execute(_OF_REQUEST, {"uuid": uuid, "request_id": request_id})
               ).mappings().first()
        if row is not None:
            return dict(row)
    params = {"uuid": uuid, "action": action} if action else {"uuid": uuid}
    row = (await conn.execute(_LATEST[bool(action)], params)).mappings().first()
    return dict(row) if row else None


async def start_event(tx: Tx, uuid: str, event: str, *, host: str | None = None,
                      action: str | None = None, action_id: int | None = None
                      ) -> int | None:
    """Start ``event`` under the instance's current action (``current_action``), or
    under ``action_id`` when the caller has just made or touched that action in this
    transaction (``start_action``, ``finish_event``): no lookup, no touch."""
    now = utcnow()
    if action_id is None:
        act = await current_action(tx, uuid, action)
        if act is None:
            return None
        action_id = int(act["id"])
        await tx.execute(_TOUCH, {"action_id": action_id, "b_updated_at": now})
    result = await tx.execute(_INSERT_EVENT, {"action_id": action_id, "event": event,
                                              "start_time": now, "host": host})
    return int(result.inserted_primary_key[0])


async def finish_event(tx: Tx, uuid: str, event: str, *, result: str = "Success",
                       host: str | None = None, traceback: str | None = None,
                       details: str | None = None, action: str | None = None
                       ) -> int | None:
    """Finish the open ``event`` of the current action (start it first if it never
    was); the action's id (None when the instance has no action)."""
    act = await current_action(tx, uuid, action)
    if act is None:
        return None
    action_id = int(act["id"])
    now = utcnow()
    finished = await tx.execute(_FINISH_EVENT, {
        "w_action_id": action_id, "w_event": event, "b_finish_time": now, "b_result": result,
        "b_traceback": traceback, "b_details": details})
    if not finished.rowcount:
        await tx.execute(_INSERT_EVENT, {
            "action_id": action_id, "event": event, "start_time": now, "host": host,
            "finish_time": now, "result": result, "traceback": traceback, "details": details})
    await tx.execute(_TOUCH_FAILED if result == "Error" else _TOUCH,
                     {"action_id": action_id, "b_updated_at": now})
    return action_id


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
