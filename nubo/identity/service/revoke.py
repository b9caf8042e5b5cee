"""Token revocation: events in the database, an index in every process.

A Fernet token has no row; it is revoked when an event matches it and the
token was issued before the event: by audit id (one token deleted), by user
(disabled, password changed, deleted, role removed), by project or domain
(disabled or deleted), by trust or application credential (deleted).

How every process learns of a revocation at once: the committing process applies
it at commit, and the others get it on the bus a moment later. That moment is too
long when a client revokes through one API process and tries the token at another
right after, so every transaction that revokes a token or changes what tokens
grant (``mark``) also bumps the ``identity_change`` counter just before it
commits. In a cloud of several processes (a bus other than the in-process one),
each process reads the counter before it trusts a token (``catch_up``: one
primary-key read) and, when it moved, reads the events recorded since it last
looked and clears its caches. The all-in-one process writes alone and skips it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update

from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.runtime import Runtime
from nubo.identity import tables as t

TOPIC = "identity.revocation.created"
WATCH = "identity.changes"
# events are reread from this long before the last catch-up: a transaction that
# recorded one may commit a little later, and hosts' clocks may differ a little
SLACK = dt.timedelta(minutes=2)
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
    mark(tx)
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


def mark(tx: Tx) -> None:
    """Bump the change counter when ``tx`` commits (once, whatever it changed)."""
    if _bump not in tx.before_commit:
        tx.before_commit.append(_bump)


async def _bump(tx: Tx) -> None:
    c = t.identity_change.c
    await tx.execute(update(t.identity_change).where(c.id == 1).values(counter=c.counter + 1))


@dataclass
class Watch:
    """What this process has seen of the counter, and since when it read events."""

    seen: int
    since: dt.datetime
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def _counter(rt: Runtime) -> int:
    async with rt.db.read() as conn:
        value = (await conn.execute(select(t.identity_change.c.counter).where(
            t.identity_change.c.id == 1))).scalar()
    return int(value or 0)


async def watch(rt: Runtime) -> None:
    """Start watching the counter (before the index is loaded) unless alone."""
    if not rt.settings.bus.url.startswith("inproc:"):
        rt.state[WATCH] = Watch(await _counter(rt), utcnow())


async def catch_up(rt: Runtime) -> None:
    """Apply what other processes committed since this one last looked."""
    seen: Watch | None = rt.state.get(WATCH)
    if seen is None:
        return
    counter = await _counter(rt)
    if counter == seen.seen:
        return
    async with seen.lock:
        if seen.seen >= counter:
            return  # another request caught up meanwhile
        now = utcnow()
        async with rt.db.read() as conn:
            rows = await conn.execute(select(t.revocation_event).where(
                t.revocation_event.c.revoked_at >= seen.since - SLACK))
            events = [dict(row._mapping) for row in rows]
        state = rt.state.get("identity.tokens")
        if state is not None:
            for event in events:
                state.revocations.add(event)
            state.clear_cache()
        seen.seen, seen.since = counter, now


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
