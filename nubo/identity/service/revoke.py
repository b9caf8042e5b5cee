"""Token revocation: events in the database, an index in every process.

A Fernet token has no row; it is revoked when an event matches it and the
token was issued before the event: by audit id (one token deleted), by user
(disabled, password changed, deleted, role removed), by project or domain
(disabled or deleted), by trust or application credential (deleted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select

from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.runtime import Runtime
from nubo.identity import tables as t

TOPIC = "identity.revocation.created"
KEYS = ("user_id", "project_id", "domain_id", "trust_id", "app_cred_id", "audit_id")


@dataclass
class RevocationIndex:
    """For each key kind, id -> the latest ``issued_before`` revoked for it."""

    by: dict[str, dict[str, dt.datetime]] = field(default_factory=lambda: {k: {} for k in KEYS})
    # user_id -> {project or domain id -> issued_before}: role removed on one scope
    by_user_scope: dict[str, dict[str, dt.datetime]] = field(default_factory=dict)

    def add(self, event: Mapping[str, Any]) -> None:
        before = _as_dt(event["issued_before"])
        user, scope = event.get("user_id"), event.get("project_id") or event.get("domain_id")
        if user and scope:
            slot = self.by_user_scope.setdefault(user, {})
            slot[scope] = max(before, slot.get(scope, before))
            return
        for key in KEYS:
            value = event.get(key)
            if value:
                slot2 = self.by[key]
                slot2[value] = max(before, slot2.get(value, before))

    def is_revoked(self, issued_at: dt.datetime, ids: Mapping[str, str | None]) -> bool:
        """``ids``: the token's user_id, project_id, domain_id (its scope and the
        domains of its user and project), trust_id, app_cred_id, audit ids."""
        for key, value in ids.items():
            if not value:
                continue
            kind = key.rstrip("0123456789")
            before = self.by.get(kind, {}).get(value)
            if before is not None and issued_at <= before:
                return True
        user = ids.get("user_id")
        if user and user in self.by_user_scope:
            scopes = self.by_user_scope[user]
            for scope_key in ("project_id", "domain_id"):
                before = scopes.get(ids.get(scope_key) or "")
                if before is not None and issued_at <= before:
                    return True
        return False


def _as_dt(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)


async def record(tx: Tx, rt: Runtime, **ids: str | None) -> None:
    """Write a revocation event; it applies locally at commit and elsewhere via the bus."""
    now = utcnow()
    event: dict[str, Any] = {k: v for k, v in ids.items() if v}
    event["issued_before"] = now
    await tx.execute(insert(t.revocation_event).values(**event, revoked_at=now))
    wire = {**event, "issued_before": now.isoformat()}
    tx.publish(TOPIC, wire)
    tx.after_commit.append(lambda: apply(rt, wire))


def apply(rt: Runtime, event: Mapping[str, Any]) -> None:
    state = rt.state.get("identity.tokens")
    if state is not None:
        state.revocations.add(event)
        state.clear_cache()


async def on_message(rt: Runtime, env: Any) -> None:
    apply(rt, env.payload)


async def load(rt: Runtime, max_age: dt.timedelta) -> RevocationIndex:
    """Build the index from the events young enough to matter; drop older ones."""
    index = RevocationIndex()
    cutoff = utcnow() - max_age
    async with rt.db.transaction() as tx:
        await tx.execute(delete(t.revocation_event).where(t.revocation_event.c.revoked_at < cutoff))
        rows = await tx.execute(select(t.revocation_event))
        for row in rows:
            index.add(row._mapping)
    return index
