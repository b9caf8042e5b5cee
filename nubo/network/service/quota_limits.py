"""The quotas API's side of networking quotas (``/v2.0/quotas``): each project's
limits (the ``[network] quota_<resource>`` defaults unless set), what it uses, and
the admin's changes. A limit below what is in use is refused unless forced, as
Neutron's quota engine does by default (``quota-check-limit-default``).

Usage is what ``quotas.consume`` / ``quotas.release`` keep; nothing is reserved
(every claim is made in the transaction that creates the resource).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.config import NetworkSettings
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.errors import BadRequest, NotFound
from nubo.core.runtime import Runtime
from nubo.network.service.quotas import RESOURCES, UNLIMITED, Q, U, default_limit

Conn = AsyncConnection | Tx


def defaults(settings: NetworkSettings) -> dict[str, int]:
    return {r: default_limit(settings, r) for r in RESOURCES}


async def _set(conn: Conn, project_id: str) -> dict[str, int]:
    rows = await conn.execute(select(Q.c.resource, Q.c.limit).where(
        Q.c.project_id == project_id, Q.c.resource.in_(RESOURCES)))
    return {r.resource: int(r.limit) for r in rows}


async def _limits(conn: Conn, settings: NetworkSettings, project_id: str) -> dict[str, int]:
    return {**defaults(settings), **await _set(conn, project_id)}


async def _used(conn: Conn, project_id: str) -> dict[str, int]:
    rows = await conn.execute(select(U.c.resource, U.c.in_use).where(
        U.c.project_id == project_id))
    found = {r.resource: max(int(r.in_use), 0) for r in rows}
    return {r: found.get(r, 0) for r in RESOURCES}


async def project_limits(rt: Runtime, project_id: str) -> dict[str, int]:
    async with rt.db.read() as conn:
        return await _limits(conn, rt.settings.network, project_id)


async def project_details(rt: Runtime, project_id: str) -> dict[str, dict[str, int]]:
    """limit, used and reserved of every resource."""
    async with rt.db.read() as conn:
        limits = await _limits(conn, rt.settings.network, project_id)
        used = await _used(conn, project_id)
    return {r: {"limit": limits[r], "used": used[r], "reserved": 0} for r in RESOURCES}


async def non_default(rt: Runtime) -> list[dict[str, Any]]:
    """The projects with a limit of their own, each with all its limits."""
    async with rt.db.read() as conn:
        projects = [r[0] for r in await conn.execute(
            select(Q.c.project_id).where(Q.c.resource.in_(RESOURCES)).distinct()
            .order_by(Q.c.project_id))]
        out = []
        for project_id in projects:
            limits = await _limits(conn, rt.settings.network, project_id)
            out.append({**limits, "project_id": project_id, "tenant_id": project_id})
    return out


async def update_limits(rt: Runtime, project_id: str, values: Mapping[str, int], *,
                        force: bool = False) -> dict[str, int]:
    """Set some limits; 400 when one would fall below what is in use (unless forced)."""
    async with rt.db.transaction() as tx:
        if not force:
            used = await _used(tx, project_id)
            for resource, limit in values.items():
                if limit != UNLIMITED and used[resource] > limit:
                    raise BadRequest(f"Quota limit {limit} for {resource} must be greater "
                                     f"than or equal to already used {used[resource]}",
                                     type="HTTPBadRequest")
        for resource, limit in sorted(values.items()):
            await _upsert(tx, project_id, resource, limit)
        tx.publish("network.quota.update", {"id": project_id})
        return await _limits(tx, rt.settings.network, project_id)


async def _upsert(tx: Tx, project_id: str, resource: str, limit: int) -> None:
    where = (Q.c.project_id == project_id, Q.c.resource == resource)
    if (await tx.execute(update(Q).where(*where).values(limit=limit))).rowcount:
        return
    try:
        async with tx.conn.begin_nested():
            await tx.execute(insert(Q).values(project_id=project_id, resource=resource,
                                              limit=limit))
    except IntegrityError as e:
        if not is_duplicate(e):
            raise
        await tx.execute(update(Q).where(*where).values(limit=limit))


async def reset_limits(rt: Runtime, project_id: str) -> None:
    """Back to the defaults; 404 when the project had none of its own."""
    async with rt.db.transaction() as tx:
        gone = await tx.execute(delete(Q).where(Q.c.project_id == project_id))
        if not gone.rowcount:
            raise NotFound(f"Quota for project {project_id} could not be found.",
                           type="TenantQuotaNotFound")
        tx.publish("network.quota.delete", {"id": project_id})
