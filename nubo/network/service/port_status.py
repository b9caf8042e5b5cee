"""What network agents report: ports up (ACTIVE), down (DOWN) or failed (ERROR),
router legs up, floating IPs applied (ACTIVE) or not (DOWN).

A report only changes what it still applies to: a port is set ACTIVE or ERROR only
while bound to the reporting host, and DOWN only while bound there or nowhere (a
port that moved on is its new host's to report). Each change bumps the revision and
sends compute its event (``nubo.network.notifier``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update

from nubo.core.db.base import utcnow
from nubo.core.runtime import Runtime
from nubo.network import notifier
from nubo.network import tables as t

P, FIP = t.ports, t.floating_ips
ROUTER_LEGS = ("network:router_interface", "network:router_gateway")


async def _set(rt: Runtime, ids: Collection[str], status: str, *where: Any) -> list[str]:
    if not ids:
        return []
    async with rt.db.transaction() as tx:
        rows = (await tx.execute(
            select(P.c.id, P.c.status, P.c.device_owner, P.c.device_id)
            .where(P.c.id.in_(sorted(ids)), P.c.status != status, *where)
            .with_for_update())).mappings().all()
        if not rows:
            return []
        changed = [r["id"] for r in rows]
        await tx.execute(update(P).where(P.c.id.in_(changed)).values(
            status=status, updated_at=utcnow(), revision_number=P.c.revision_number + 1))
        notifier.status_changed_tx(tx, rows, status)
        return changed


async def ports_up(rt: Runtime, host: str, port_ids: Collection[str]) -> list[str]:
    """The host plugged these ports: ACTIVE. The ports whose status changed."""
    return await _set(rt, port_ids, "ACTIVE", P.c.binding_host_id == host)


async def ports_failed(rt: Runtime, host: str, port_ids: Collection[str]) -> list[str]:
    """The host could not plug these ports: ERROR."""
    return await _set(rt, port_ids, "ERROR", P.c.binding_host_id == host)


async def ports_down(rt: Runtime, host: str, port_ids: Collection[str]) -> list[str]:
    """The host unplugged these ports (or holds them administratively down): DOWN."""
    return await _set(rt, port_ids, "DOWN", P.c.binding_host_id.in_((host, "")))


async def router_ports_up(rt: Runtime, port_ids: Collection[str]) -> list[str]:
    """The L3 agent put these router legs in place: ACTIVE."""
    return await _set(rt, port_ids, "ACTIVE", P.c.device_owner.in_(ROUTER_LEGS))


async def floating_ips(rt: Runtime, active: Collection[str], down: Collection[str]) -> None:
    """Floating IPs the L3 agent applied (ACTIVE: only while still associated) or
    removed (DOWN)."""
    if not active and not down:
        return
    async with rt.db.transaction() as tx:
        for ids, status, where in (
                (active, "ACTIVE", FIP.c.router_id.isnot(None)),
                (down, "DOWN", FIP.c.id.isnot(None))):
            if ids:
                await tx.execute(update(FIP).where(
                    FIP.c.id.in_(sorted(ids)), FIP.c.status != status, where).values(
                    status=status, updated_at=utcnow(),
                    revision_number=FIP.c.revision_number + 1))
