"""``GET /v3/OS-REVOKE/events``: the revocation events still in force, as
Keystone lists them (other services once used them to check tokens offline)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from nubo.core.errors import ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t

RE = t.revocation_event
FIELDS = ("user_id", "project_id", "domain_id", "role_id", "trust_id", "audit_id",
          "audit_chain_id")


def _iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_since(value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"Invalid input for field 'since': {value!r} is not an ISO 8601 "
                              f"time.") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


async def list_events(rt: Runtime, since: dt.datetime | None) -> list[dict[str, Any]]:
    q = select(RE).order_by(RE.c.revoked_at, RE.c.id)
    if since is not None:
        q = q.where(RE.c.revoked_at > since)
    async with rt.db.read() as conn:
        rows = [r._mapping for r in await conn.execute(q)]
    out = []
    for r in rows:
        event: dict[str, Any] = {k: r[k] for k in FIELDS if r[k] is not None}
        event["issued_before"] = _iso(r["issued_before"])
        event["revoked_at"] = _iso(r["revoked_at"])
        out.append(event)
    return out
