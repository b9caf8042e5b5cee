"""Invalidation of each process's token-validation cache.

Any committed change that can alter what a token grants (roles, assignments,
users, projects, domains, application credentials) clears the cache in this
process at once and, through the bus, in every other API process (which also
notice the change counter move: ``nubo.identity.service.revoke``).
"""

from __future__ import annotations

from typing import Any

from nubo.core.db.engine import Tx
from nubo.core.runtime import Runtime
from nubo.identity.service import revoke

TOPIC = "identity.cache.invalidate"


def changed(tx: Tx, rt: Runtime) -> None:
    revoke.mark(tx)
    if not any(topic == TOPIC for topic, _ in tx.messages):
        tx.publish(TOPIC, {})
        tx.after_commit.append(lambda: invalidate(rt))


def invalidate(rt: Runtime) -> None:
    state = rt.state.get("identity.tokens")
    if state is not None:
        state.clear_cache()


async def on_message(rt: Runtime, _env: Any) -> None:
    invalidate(rt)
