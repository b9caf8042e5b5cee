"""Compute services (one per agent and per control-plane worker) and compute
nodes (one per hypervisor): registration, heartbeats, liveness, and the
functions other compute modules read hosts through."""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.compute import clients
from nubo.compute.tables import compute_nodes, instances, services
from nubo.core.db.base import utcnow
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime

COMPUTE = "nova-compute"


def is_up(rt: Runtime, service: Mapping[str, Any], now: dt.datetime | None = None) -> bool:
    """Heartbeat within ``service_down_time`` and not forced down."""
    if service.get("forced_down"):
        return False
    seen = service.get("last_seen_up") or service.get("updated_at") or service["created_at"]
    age = ((now or utcnow()) - seen).total_seconds()
    return bool(age <= rt.settings.compute.service_down_time)


# ---------------------------------------------------------------- contract


_SERVICE = prebuilt(select(services).where(services.c.host == bindparam("host"),
                                           services.c.binary == bindparam("binary")))


async def get_service(rt: Runtime, host: str, binary: str = COMPUTE, *,
                      conn: AsyncConnection | None = None) -> dict[str, Any] | None:
    """The service row; inside a transaction pass its ``conn``: a second
    connection per request can exhaust the pool under load and wait forever."""
    params = {"host": host, "binary": binary}
    if conn is not None:
        row = (await conn.execute(_SERVICE, params)).mappings().first()
    else:
        async with rt.db.read() as own:
            row = (await own.execute(_SERVICE, params)).mappings().first()
    return dict(row) if row else None


async def list_compute_hosts(rt: Runtime) -> list[str]:
    async with rt.db.read() as conn:
        rows = await conn.execute(select(services.c.host).where(services.c.binary == COMPUTE)
                                  .order_by(services.c.host))
        return [r[0] for r in rows]


async def instances_for_usage(rt: Runtime, *, project_id: str | None, start: dt.datetime,
                              end: dt.datetime) -> list[dict[str, Any]]:
    """Instances that existed at some point in [start, end): for simple usage."""
    cols = [instances.c.uuid, instances.c.display_name.label("name"), instances.c.project_id,
            instances.c.user_id, instances.c.flavor, instances.c.vm_state,
            instances.c.launched_at, instances.c.terminated_at, instances.c.deleted,
            instances.c.created_at]
    query = select(*cols).where(
        or_(instances.c.terminated_at.is_(None), instances.c.terminated_at >= start),
        or_(and_(instances.c.launched_at.is_not(None), instances.c.launched_at < end),
            and_(instances.c.launched_at.is_(None), instances.c.created_at < end)))
    if project_id is not None:
        query = query.where(instances.c.project_id == project_id)
    async with rt.db.read() as conn:
        rows = await conn.execute(query.order_by(instances.c.id))
        return [dict(r) for r in rows.mappings()]


# ------------------------------------------------------------ registration


async def register_service(rt: Runtime, host: str, binary: str = COMPUTE) -> dict[str, Any]:
    """The service row of (host, binary), created on first start; a heartbeat."""
    now = utcnow()
    async with rt.db.transaction() as tx:
        row = (await tx.execute(select(services).where(
            services.c.host == host, services.c.binary == binary))).mappings().first()
        if row is None:
            await tx.execute(insert(services).values(
                uuid=str(uuidlib.uuid4()), host=host, binary=binary,
                topic="compute" if binary == COMPUTE else binary.removeprefix("nova-"),
                report_count=1, disabled=False, forced_down=False, last_seen_up=now,
                created_at=now, updated_at=now))
        else:
            await tx.execute(update(services).where(services.c.id == row["id"]).values(
                last_seen_up=now, updated_at=now, report_count=row["report_count"] + 1))
        row = (await tx.execute(select(services).where(
            services.c.host == host, services.c.binary == binary))).mappings().one()
    return dict(row)


async def heartbeat(rt: Runtime, service_id: int) -> bool:
    """Record a report; False when the service row is gone (deleted by an admin)."""
    now = utcnow()
    async with rt.db.transaction() as tx:
        result = await tx.execute(update(services).where(services.c.id == service_id).values(
            last_seen_up=now, updated_at=now, report_count=services.c.report_count + 1))
    return bool(result.rowcount)


async def register_node(rt: Runtime, service: Mapping[str, Any], node: str,
                        resources: Mapping[str, Any]) -> dict[str, Any]:
    """The compute node row of ``node``, created or refreshed from the driver."""
    now = utcnow()
    values = {
        "host": service["host"], "service_id": service["id"],
        "hypervisor_type": resources["hypervisor_type"],
        "hypervisor_version": resources["hypervisor_version"],
        "host_ip": resources.get("host_ip"), "vcpus": resources["vcpus"],
        "memory_mb": resources["memory_mb"], "local_gb": resources["local_gb"],
        "cpu_info": resources.get("cpu_info", "{}"), "updated_at": now,
    }
    async with rt.db.transaction() as tx:
        row = (await tx.execute(select(compute_nodes).where(
            compute_nodes.c.hypervisor_hostname == node))).mappings().first()
        if row is None:
            await tx.execute(insert(compute_nodes).values(
                uuid=str(uuidlib.uuid4()), hypervisor_hostname=node, created_at=now,
                **values))
        else:
            await tx.execute(update(compute_nodes).where(compute_nodes.c.id == row["id"])
                             .values(**values))
        row = (await tx.execute(select(compute_nodes).where(
            compute_nodes.c.hypervisor_hostname == node))).mappings().one()
    return dict(row)


# ------------------------------------------------------------------ reading


async def list_services(rt: Runtime, *, host: str | None = None,
                        binary: str | None = None) -> list[dict[str, Any]]:
    query = select(services)
    if host:
        query = query.where(services.c.host == host)
    if binary:
        query = query.where(services.c.binary == binary)
    async with rt.db.read() as conn:
        rows = await conn.execute(query.order_by(services.c.id))
        return [dict(r) for r in rows.mappings()]


_NODES = prebuilt(select(compute_nodes, services.c.disabled, services.c.disabled_reason,
                services.c.forced_down, services.c.last_seen_up,
                services.c.created_at.label("service_created_at"),
                services.c.uuid.label("service_uuid")).join(
    services, services.c.id == compute_nodes.c.service_id).order_by(compute_nodes.c.id))


async def list_nodes(rt: Runtime) -> list[dict[str, Any]]:
    """Compute nodes joined with their service's state."""
    async with rt.db.read() as conn:
        return [dict(r) for r in (await conn.execute(_NODES)).mappings()]


async def host_has_instances(rt: Runtime, host: str) -> bool:
    async with rt.db.read() as conn:
        row = (await conn.execute(select(instances.c.id).where(
            instances.c.host == host, instances.c.deleted.is_(False)).limit(1))).first()
    return row is not None


async def instances_by_host(rt: Runtime) -> dict[str, list[dict[str, Any]]]:
    """Live instances (uuid, name, flavor) per host."""
    async with rt.db.read() as conn:
        rows = await conn.execute(select(
            instances.c.id, instances.c.uuid, instances.c.project_id, instances.c.display_name, instances.c.host,
            instances.c.flavor).where(instances.c.deleted.is_(False),
                                      instances.c.host.is_not(None)).order_by(instances.c.id))
        out: dict[str, list[dict[str, Any]]] = {}
        for r in rows.mappings():
            out.setdefault(r["host"], []).append(dict(r))
    return out


async def update_service(rt: Runtime, service_uuid: str, **fields: Any) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        result = await tx.execute(update(services).where(services.c.uuid == service_uuid)
                                  .values(**fields, updated_at=utcnow()))
        if result.rowcount != 1:
            raise NotFound(f"Service {service_uuid} could not be found.")
        row = (await tx.execute(select(services).where(services.c.uuid == service_uuid))
               ).mappings().one()
    return dict(row)


async def delete_service(rt: Runtime, service_uuid: str) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        row = (await tx.execute(select(services).where(services.c.uuid == service_uuid))
               ).mappings().first()
        if row is None:
            raise NotFound(f"Service {service_uuid} could not be found.")
        nodes = [n for (n,) in await tx.execute(select(compute_nodes.c.uuid).where(
            compute_nodes.c.service_id == row["id"]))]
        await tx.execute(delete(compute_nodes).where(compute_nodes.c.service_id == row["id"]))
        await tx.execute(delete(services).where(services.c.id == row["id"]))
    for uuid in nodes:
        await clients.delete_provider(rt, uuid)
    return dict(row)
