"""``/os-instance_usage_audit_log`` (admin): what the compute hosts' instance usage
audits (``nubo.compute.usage_audit``) recorded for the last completed audit period,
now or before a given time."""

from __future__ import annotations

import datetime as dt
from urllib.parse import unquote

from nubo.compute import usage_audit
from nubo.compute.service import hosts
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest

router = Router()
BASE = "/v2.1/os-instance_usage_audit_log"
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


async def _log(req: ApiRequest, before: dt.datetime) -> dict[str, object]:
    unit = req.rt.settings.compute.instance_usage_audit_period
    beginning, ending = usage_audit.last_period(unit, before)
    return usage_audit.summary(await hosts.list_compute_hosts(req.rt),
                               await usage_audit.records(req.rt, beginning, ending),
                               beginning, ending)


@router.get(BASE)
async def list_audit_log(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-instance-usage-audit-log:list")
    return {"instance_usage_audit_logs": await _log(req, dt.datetime.now(dt.UTC))}


@router.get(f"{BASE}/{{before_timestamp}}")
async def show_audit_log(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-instance-usage-audit-log:show")
    raw = unquote(req.params["before_timestamp"])
    for fmt in FORMATS:
        try:
            before = dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC)
            break
        except ValueError:
            continue
    else:
        raise BadRequest(f"Invalid timestamp for date {raw}")
    return {"instance_usage_audit_log": await _log(req, before)}
