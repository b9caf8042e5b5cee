"""The transactional outbox: messages committed with the state they announce,
then published on the bus and deleted by the relay (at-least-once).

The relay runs in every process that writes; it is woken right after each
commit that recorded messages, and also sweeps periodically so messages left
by a crashed process go out after restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import bindparam, delete, select

from nubo.core.db.base import utcnow
from nubo.core.db.engine import Database, Tx
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.db.tables import outbox
from nubo.core.log import request_id_var

if TYPE_CHECKING:
    from nubo.core.bus.base import Bus

log = logging.getLogger(__name__)
BATCH = 200


async def write(tx: Tx) -> None:
    rid = request_id_var.get() or None
    now = utcnow()
    rows = [{"topic": topic, "created_at": now,
             "body": orjson.dumps({"payload": payload, "request_id": rid}).decode()}
            for topic, payload in tx.messages]
    await tx.execute(insert_of(outbox, ("topic", "created_at", "body")), rows)


_OLDEST = prebuilt(select(outbox).order_by(outbox.c.id).limit(BATCH))
_SENT = prebuilt(delete(outbox).where(outbox.c.id.in_(bindparam("b_ids", expanding=True))))


class Relay:
    def __init__(self, db: Database, bus: Bus, *, sweep_interval: float = 5.0) -> None:
        self.db = db
        self.bus = bus
        self.sweep_interval = sweep_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def attach(self) -> None:
        """Route the database's committed messages through this relay."""
        self.db.outbox_writer = write
        self.db.on_commit = self._wake.set

    async def start(self) -> None:
        self.attach()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.sweep_interval)
            self._wake.clear()
            try:
                await self.flush(until_empty=False)
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(1)

    async def flush(self, *, until_empty: bool = True) -> int:
        """Publish everything in the outbox; returns how many messages went out.
        Without ``until_empty`` a short batch ends it (the relay's loop: every commit
        with messages wakes it again), saving a read per wake."""
        sent = 0
        while True:
            async with self.db.read() as conn:
                rows = (await conn.execute(_OLDEST)).all()
            if not rows:
                return sent
            for row in rows:
                body = orjson.loads(row.body)
                await self.bus.publish(row.topic, body["payload"],
                                       request_id=body.get("request_id"))
            async with self.db.transaction() as tx:
                await tx.execute(_SENT, {"b_ids": [r.id for r in rows]})
            sent += len(rows)
            if len(rows) < BATCH and not until_empty:
                # drained as of the read; a commit since then has set _wake again
                return sent
