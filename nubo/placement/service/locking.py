"""Provider rows, their generations and the retry loop around claims.

Every write that changes what a provider holds ends with a compare-and-set on
``resource_provider.generation`` in the same transaction. Writers first lock
the rows they will bump (``SELECT … FOR UPDATE``, in id order, a no-op on
SQLite where transactions are serialised anyway), so concurrent claims queue
instead of racing; the compare-and-set stays the guarantee, and a lost race
(or a deadlock the database broke) retries the whole operation.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError

from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import Conflict, NotFound
from nubo.placement import tables as t

log = logging.getLogger(__name__)
RP = t.resource_provider
T = TypeVar("T")
ATTEMPTS = 8
CONCURRENT = "placement.concurrent_update"
NOT_FOUND = "placement.resource_provider.not_found"


class GenerationRace(Exception):
    """Another writer bumped a provider between our read and our write."""


async def provider_row(conn: Any, uuid: str, *, lock: bool = False) -> Mapping[str, Any]:
    stmt = select(RP).where(RP.c.uuid == uuid)
    if lock:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound(f"No resource provider with uuid {uuid} found", code=NOT_FOUND)
    found: Mapping[str, Any] = row._mapping
    return found


# built once: lock providers by uuid in id order; compare-and-set one's generation
_LOCK = prebuilt(select(RP).where(RP.c.uuid.in_(bindparam("uuids", expanding=True))).order_by(
    RP.c.id).with_for_update())
_BUMP = prebuilt(update(RP).where(RP.c.id == bindparam("b_id"),
                         RP.c.generation == bindparam("b_generation")).values(
    generation=bindparam("b_next"), updated_at=bindparam("b_now")))


async def lock_providers(tx: Tx, uuids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
    """The rows of ``uuids`` (those that exist), locked in id order."""
    wanted = sorted(set(uuids))
    if not wanted:
        return {}
    return {r.uuid: r._mapping for r in await tx.execute(_LOCK, {"uuids": wanted})}


async def bump(tx: Tx, row: Mapping[str, Any]) -> int:
    """Compare-and-set the provider's generation; returns the new generation."""
    generation = int(row["generation"])
    result = await tx.execute(_BUMP, {"b_id": row["id"], "b_generation": generation,
                                      "b_next": generation + 1, "b_now": utcnow()})
    if result.rowcount != 1:
        raise GenerationRace(row["uuid"])
    return generation + 1


async def bump_all(tx: Tx, rows: Iterable[Mapping[str, Any]]) -> None:
    for row in sorted(rows, key=lambda r: r["id"]):
        await bump(tx, row)


def stale(uuid: str) -> Conflict:
    return Conflict(f"resource provider generation conflict: resource provider {uuid} was "
                    "updated by another request; refresh and try again", code=CONCURRENT)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, GenerationRace):
        return True
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).lower()
        return any(w in text for w in ("deadlock", "serializ", "lock wait", "duplicate",
                                       "unique", "database is locked"))
    return False


async def with_retries(op: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Run ``op`` (one whole transaction) again when it lost a race; 409 in the end."""
    for attempt in range(ATTEMPTS):
        try:
            return await op()
        except (GenerationRace, DBAPIError) as exc:
            if not _retryable(exc):
                raise
            log.debug("%s lost a race (attempt %d): %s", what, attempt + 1, exc)
            await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    raise Conflict(f"Unable to {what}: another process changed the resource providers "
                   "involved; retry the request", code=CONCURRENT)
