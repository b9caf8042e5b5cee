"""Availability zones of networks and routers (``/v2.0/availability_zones``).

As in Neutron, a zone is where DHCP agents (for networks) or L3 agents (for
routers) run, and it is available while one of them is up and enabled. A resource
no zoned agent serves yet is served by the control plane in the default zone
(``[compute] default_availability_zone``, the zone networks report).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.service.agents import is_alive

RESOURCES = {"DHCP agent": "network", "L3 agent": "router"}
AVAILABLE, UNAVAILABLE = "available", "unavailable"


async def list_zones(rt: Runtime) -> list[dict[str, Any]]:
    """Every (zone, resource) with its state, sorted."""
    settings = rt.settings.network
    default = rt.settings.compute.default_availability_zone
    A = t.agents
    states: dict[tuple[str, str], bool] = {}
    async with rt.db.read() as conn:
        rows = await conn.execute(select(
            A.c.agent_type, A.c.availability_zone, A.c.admin_state_up,
            A.c.heartbeat_timestamp).where(A.c.agent_type.in_(list(RESOURCES))))
        for row in rows:
            key = (row.availability_zone or default, RESOURCES[row.agent_type])
            up = bool(row.admin_state_up) and is_alive(settings, row.heartbeat_timestamp)
            states[key] = states.get(key, False) or up
    for resource in RESOURCES.values():
        if not any(r == resource for _, r in states):
            states[(default, resource)] = True
    return [{"name": name, "resource": resource,
             "state": AVAILABLE if up else UNAVAILABLE}
            for (name, resource), up in sorted(states.items())]
