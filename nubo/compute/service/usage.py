"""os-simple-tenant-usage: instance hours and flavor sizes times hours over a period,
computed from the instances core reports (``hosts.instances_for_usage``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nubo.compute.service import hosts
from nubo.core.db.base import utcnow
from nubo.core.runtime import Runtime


@dataclass
class ProjectUsage:
    tenant_id: str
    start: dt.datetime
    stop: dt.datetime
    total_hours: float = 0.0
    total_memory_mb_usage: float = 0.0
    total_vcpus_usage: float = 0.0
    total_local_gb_usage: float = 0.0
    server_usages: list[dict[str, Any]] = field(default_factory=list)


def hours(launched: dt.datetime | None, terminated: dt.datetime | None,
          start: dt.datetime, stop: dt.datetime) -> float:
    """Hours an instance ran inside [start, stop]."""
    if launched is None or launched > stop or (terminated is not None and terminated < start):
        return 0.0
    begin = max(launched, start)
    end = min(stop, terminated) if terminated is not None else stop
    return max(0.0, (end - begin).total_seconds() / 3600.0)


def _size(flavor: Mapping[str, Any], *names: str) -> int:
    for name in names:
        if flavor.get(name) is not None:
            return int(flavor[name])
    return 0


def server_usage(inst: Mapping[str, Any], start: dt.datetime, stop: dt.datetime,
                 now: dt.datetime) -> dict[str, Any]:
    flavor = inst.get("flavor") or {}
    launched, terminated = inst.get("launched_at"), inst.get("terminated_at")
    memory = _size(flavor, "memory_mb", "ram")
    local = _size(flavor, "root_gb", "disk") + _size(flavor, "ephemeral_gb", "ephemeral")
    up_to = terminated or now
    deleted = bool(inst.get("deleted")) or terminated is not None
    return {
        "instance_id": inst["uuid"], "name": inst.get("name") or "",
        "hours": hours(launched, terminated, start, stop),
        "memory_mb": memory, "local_gb": local, "vcpus": _size(flavor, "vcpus"),
        "tenant_id": inst["project_id"], "flavor": flavor.get("name", ""),
        "started_at": _iso(launched or inst.get("created_at")),
        "ended_at": _iso(terminated),
        "state": "terminated" if deleted else str(inst.get("vm_state") or ""),
        "uptime": int((up_to - launched).total_seconds()) if launched else 0,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="microseconds") if value is not None else None


def summarise(instances: Sequence[Mapping[str, Any]], start: dt.datetime, stop: dt.datetime,
              now: dt.datetime | None = None) -> dict[str, ProjectUsage]:
    """Per-project totals (and per-server lines), projects in first-seen order."""
    now = now or utcnow()
    out: dict[str, ProjectUsage] = {}
    for inst in instances:
        line = server_usage(inst, start, stop, now)
        usage = out.setdefault(line["tenant_id"], ProjectUsage(line["tenant_id"], start, stop))
        usage.total_hours += line["hours"]
        usage.total_memory_mb_usage += line["memory_mb"] * line["hours"]
        usage.total_vcpus_usage += line["vcpus"] * line["hours"]
        usage.total_local_gb_usage += line["local_gb"] * line["hours"]
        usage.server_usages.append(line)
    return out


async def instances(rt: Runtime, project_id: str | None, start: dt.datetime,
                    stop: dt.datetime) -> list[dict[str, Any]]:
    return await hosts.instances_for_usage(rt, project_id=project_id, start=start, end=stop)
