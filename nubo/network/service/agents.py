"""Network agents' rows (``/v2.0/agents``): registration and heartbeats, and what
admins see and change of them through the API.

An agent registers once per (type, host) when it starts, which also counts as a
heartbeat, then beats every ``[network] agent_report_interval``; it is alive while
its last heartbeat is younger than ``[network] agent_down_time`` (Neutron's rule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.config import NetworkSettings
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.service.listing import Collection, ListQuery, column_filter, list_rows, to_bool
from nubo.network.service.standard import new_id

A = t.agents
# an agent came with a tunnel endpoint, or moved it: the other hosts' VXLAN
# devices flood to it
TUNNEL_TOPIC = "network.agent.tunnel"


def is_alive(settings: NetworkSettings, heartbeat: dt.datetime,
             now: dt.datetime | None = None) -> bool:
    return ((now or utcnow()) - heartbeat).total_seconds() <= settings.agent_down_time


async def register_agent_tx(tx: Tx, *, host: str, agent_type: str, binary: str, topic: str,
                            configurations: Mapping[str, Any],
                            availability_zone: str | None = None) -> str:
    """The id of the (type, host) agent, created on its first start; its start
    time, configurations and heartbeat are refreshed. Admin state and description
    (set through the API) are kept."""
    now = utcnow()
    fresh = {"binary": binary, "topic": topic, "configurations": dict(configurations),
             "availability_zone": availability_zone, "started_at": now,
             "heartbeat_timestamp": now}
    found = (await tx.execute(select(A.c.id, A.c.configurations).where(
        A.c.agent_type == agent_type, A.c.host == host))).first()
    tunnel = configurations.get("tunneling_ip")
    if found is not None:
        await tx.execute(update(A).where(A.c.id == found.id).values(fresh))
        if tunnel != (found.configurations or {}).get("tunneling_ip"):
            tx.publish(TUNNEL_TOPIC, {"id": found.id, "host": host})
        return str(found.id)
    agent_id = new_id()
    await tx.execute(insert(A).values(id=agent_id, agent_type=agent_type, host=host,
                                      admin_state_up=True, created_at=now, **fresh))
    if tunnel:
        tx.publish(TUNNEL_TOPIC, {"id": agent_id, "host": host})
    return agent_id


async def register_agent(rt: Runtime, **kwargs: Any) -> str:
    """``register_agent_tx`` in a transaction of its own; a concurrent first
    registration of the same agent is retried as an update."""
    for attempt in range(2):
        try:
            async with rt.db.transaction() as tx:
                return await register_agent_tx(tx, **kwargs)
        except IntegrityError as e:
            if attempt or not is_duplicate(e):
                raise
    raise AssertionError("unreachable")


async def heartbeat(rt: Runtime, agent_id: str,
                    configurations: Mapping[str, Any] | None = None) -> bool:
    """The agent is alive now; False when its row is gone (deleted by an admin:
    the agent registers again)."""
    values: dict[str, Any] = {"heartbeat_timestamp": utcnow()}
    if configurations is not None:
        values["configurations"] = dict(configurations)
    async with rt.db.transaction() as tx:
        result = await tx.execute(update(A).where(A.c.id == agent_id).values(values))
        return bool(result.rowcount)


# ------------------------------------------------------------ the /v2.0/agents API

def _alive_filter(settings: NetworkSettings) -> Callable[[list[str]], ColumnElement[bool]]:
    def where(values: list[str]) -> ColumnElement[bool]:
        recent = A.c.heartbeat_timestamp >= utcnow() - dt.timedelta(
            seconds=settings.agent_down_time)
        wanted = {to_bool(v) for v in values}
        if wanted == {True}:
            return recent
        if wanted == {False}:
            return ~recent
        return recent | ~recent

    return where


def collection(settings: NetworkSettings) -> Collection:
    columns = ("id", "agent_type", "binary", "topic", "host", "description",
               "availability_zone")
    return Collection(
        name="agents", table=A, tagged=False,
        filters={**{c: column_filter(A.c[c]) for c in columns},
                 "admin_state_up": column_filter(A.c.admin_state_up, to_bool),
                 "alive": _alive_filter(settings)},
        sort_keys={c: A.c[c] for c in (*columns, "admin_state_up", "created_at",
                                       "started_at", "heartbeat_timestamp")})


def _time(value: dt.datetime) -> str:
    """Neutron shows agents' times as ``2017-09-12 19:40:38``."""
    return value.strftime("%Y-%m-%d %H:%M:%S")


def view(settings: NetworkSettings, row: Row[Any]) -> dict[str, Any]:
    return {"id": row.id, "agent_type": row.agent_type, "binary": row.binary,
            "topic": row.topic, "host": row.host, "admin_state_up": row.admin_state_up,
            "created_at": _time(row.created_at), "started_at": _time(row.started_at),
            "heartbeat_timestamp": _time(row.heartbeat_timestamp),
            "alive": is_alive(settings, row.heartbeat_timestamp),
            "configurations": dict(row.configurations or {}),
            "description": row.description, "availability_zone": row.availability_zone,
            "resources_synced": row.resources_synced}


async def list_agents(rt: Runtime, query: ListQuery) -> tuple[list[dict[str, Any]], bool]:
    settings = rt.settings.network
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, collection(settings), query)
    return [view(settings, r) for r in rows], more


async def _find(conn: AsyncConnection | Tx, agent_id: str) -> Row[Any]:
    row: Row[Any] | None = (await conn.execute(select(A).where(A.c.id == agent_id))).first()
    if row is None:
        raise NotFound(f"Agent {agent_id} could not be found.", type="AgentNotFound")
    return row


async def get_agent(rt: Runtime, agent_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return view(rt.settings.network, await _find(conn, agent_id))


async def update_agent(rt: Runtime, agent_id: str, values: Mapping[str, Any]
                       ) -> dict[str, Any]:
    """An admin's ``admin_state_up`` and ``description``."""
    async with rt.db.transaction() as tx:
        await _find(tx, agent_id)
        if values:
            await tx.execute(update(A).where(A.c.id == agent_id).values(dict(values)))
        tx.publish("network.agent.update", {"id": agent_id})
        return view(rt.settings.network, await _find(tx, agent_id))


async def delete_agent(rt: Runtime, agent_id: str) -> None:
    """Forget an agent (one that is still running registers again)."""
    async with rt.db.transaction() as tx:
        await _find(tx, agent_id)
        await tx.execute(delete(A).where(A.c.id == agent_id))
        tx.publish("network.agent.delete", {"id": agent_id})
