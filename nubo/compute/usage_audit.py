"""The instance usage audit, as Nova's ``instance_usage_audit`` does it.

With ``[compute] instance_usage_audit`` on, each compute agent looks every
``instance_usage_audit_check_interval`` seconds for the last completed audit
period (``instance_usage_audit_period``: the last whole hour, day, month or year)
that it has not audited. It then sends a ``compute.instance.exists`` notification
for every instance that was on its host during that period (launched before the
period ended, not terminated by the time it began; billing systems count these) and
records the run in ``task_log``: RUNNING while it works, then DONE with the number
of instances and errors (an audit its agent died in is run again when the agent
starts). ``/os-instance_usage_audit_log`` reports those records
per period (``summary``): which hosts have run, which have not, and the totals.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, or_, select, update

from nubo.compute import notifications
from nubo.compute.tables import instances, task_log
from nubo.core.db.engine import is_duplicate
from nubo.core.runtime import Runtime

if TYPE_CHECKING:
    from nubo.compute.agent.manager import ComputeAgent

log = logging.getLogger(__name__)

TASK = "instance_usage_audit"
UNITS = ("hour", "day", "month", "year")
RUNNING, DONE = "RUNNING", "DONE"


def last_period(unit: str, before: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``(beginning, ending)`` of the last whole ``unit`` that ended at or before
    ``before``."""
    if unit == "hour":
        end = before.replace(minute=0, second=0, microsecond=0)
        return end - dt.timedelta(hours=1), end
    if unit == "day":
        end = before.replace(hour=0, minute=0, second=0, microsecond=0)
        return end - dt.timedelta(days=1), end
    if unit == "month":
        end = before.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return (end - dt.timedelta(days=1)).replace(day=1), end
    if unit == "year":
        end = before.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return end.replace(year=end.year - 1), end
    raise ValueError(f"an audit period is one of {', '.join(UNITS)}, not {unit!r}")


def summary(hosts: Iterable[str], records: Sequence[Mapping[str, Any]],
            beginning: dt.datetime, ending: dt.datetime) -> dict[str, Any]:
    """The audit log of one period: ``hosts`` are the compute hosts, ``records`` the
    period's task_log rows."""
    hosts = sorted(set(hosts))
    ran = {r["host"]: r for r in records}
    done = [h for h, r in ran.items() if r["state"] == DONE]
    running = [h for h, r in ran.items() if r["state"] == RUNNING]
    not_run = [h for h in hosts if h not in ran]
    errors = sum(int(r["errors"]) for r in records)
    if hosts and len(done) == len(hosts):
        status = f"ALL hosts done. {errors} errors."
    else:
        status = f"{len(done)} of {len(hosts)} hosts done. {errors} errors."
    return {
        "hosts_not_run": not_run,
        "log": {h: {"state": r["state"], "instances": int(r["task_items"]),
                    "errors": int(r["errors"]), "message": r["message"]}
                for h, r in sorted(ran.items())},
        "num_hosts": len(hosts),
        "num_hosts_done": len(done),
        "num_hosts_not_run": len(not_run),
        "num_hosts_running": len(running),
        "overall_status": status,
        "period_beginning": _text(beginning),
        "period_ending": _text(ending),
        "total_errors": errors,
        "total_instances": sum(int(r["task_items"]) for r in records),
    }


def _text(when: dt.datetime) -> str:
    """Nova's rendering: ``2026-10-01 00:00:00``."""
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat(" ", "seconds")


async def records(rt: Runtime, beginning: dt.datetime, ending: dt.datetime
                  ) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        rows = await conn.execute(select(task_log).where(
            task_log.c.task_name == TASK, task_log.c.period_beginning == beginning,
            task_log.c.period_ending == ending))
        return [dict(r._mapping) for r in rows]


async def audit(rt: Runtime, host: str, now: dt.datetime) -> int | None:
    """Audit ``host`` for the last period completed at ``now``; the number of
    instances, or None when that period was audited (or is being) already."""
    beginning, ending = last_period(rt.settings.compute.instance_usage_audit_period, now)
    started = time.monotonic()
    try:
        async with rt.db.transaction() as tx:
            found = (await tx.execute(select(task_log.c.id).where(
                task_log.c.task_name == TASK, task_log.c.host == host,
                task_log.c.period_beginning == beginning,
                task_log.c.period_ending == ending))).first()
            if found is not None:
                return None
            record = (await tx.execute(insert(task_log).values(
                task_name=TASK, state=RUNNING, host=host, period_beginning=beginning,
                period_ending=ending, message="", task_items=0, errors=0,
                created_at=now))).inserted_primary_key[0]
    except Exception as e:
        if is_duplicate(e):     # another process of this host got there first
            return None
        raise
    async with rt.db.transaction() as tx:
        rows = (await tx.execute(select(instances).where(
            instances.c.host == host, instances.c.launched_at < ending,
            or_(instances.c.terminated_at.is_(None),
                instances.c.terminated_at > beginning)))).mappings().all()
        period = {"audit_period_beginning": beginning.isoformat(),
                  "audit_period_ending": ending.isoformat()}
        for row in rows:
            notifications.emit(tx, "compute.instance.exists", row, extra=period)
        seconds = time.monotonic() - started
        await tx.execute(update(task_log).where(task_log.c.id == record).values(
            state=DONE, task_items=len(rows), errors=0, updated_at=now,
            message=f"Instance usage audit ran for host {host}, {len(rows)} instances "
                    f"in {seconds:.3f} seconds."))
    return len(rows)


async def forget_unfinished(rt: Runtime, host: str) -> int:
    """Remove the audits of ``host`` left RUNNING by its agent's previous life (it
    died between the two transactions of ``audit``); their periods are audited
    again. Nothing was sent for them: the notifications go out with the DONE
    record or not at all. The number removed."""
    async with rt.db.transaction() as tx:
        result = await tx.execute(delete(task_log).where(
            task_log.c.task_name == TASK, task_log.c.host == host,
            task_log.c.state == RUNNING))
        return int(result.rowcount or 0)


async def run_periodically(agent: ComputeAgent) -> None:
    """The agent's audit loop (only with ``[compute] instance_usage_audit``); an
    audit its host's agent left unfinished runs again."""
    settings = agent.rt.settings.compute
    try:
        if forgotten := await forget_unfinished(agent.rt, agent.host):
            log.info("compute host %s: %d unfinished usage audits run again", agent.host,
                     forgotten)
    except Exception:
        log.exception("compute host %s: unfinished usage audits not looked at", agent.host)
    while True:
        try:
            counted = await audit(agent.rt, agent.host, dt.datetime.now(dt.UTC))
            if counted is not None:
                log.info("compute host %s: usage audit of %d instances", agent.host, counted)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("compute host %s: usage audit failed", agent.host)
        await asyncio.sleep(settings.instance_usage_audit_check_interval)

