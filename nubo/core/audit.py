"""CADF audit records for every mutating request.

Each record says who (initiator), did what (action) to what (target), with
which outcome, under which request id. Records go to their own JSON-lines log
and onto the bus (topic ``audit.<service>.<action>``) for collectors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from nubo.core.ids import new_uuid

if TYPE_CHECKING:
    from nubo.core.bus.base import Bus

log = logging.getLogger(__name__)

CADF_EVENT = "http://schemas.dmtf.org/cloud/audit/1.0/event"
ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


@dataclass(frozen=True)
class AuditEvent:
    service: str
    method: str
    path: str
    status: int
    request_id: str
    initiator_id: str | None
    project_id: str | None
    domain_id: str | None
    client_addr: str
    user_agent: str
    target_type: str
    target_id: str | None
    action: str | None = None

    def to_cadf(self) -> dict[str, Any]:
        action = self.action or ACTIONS.get(self.method, "update")
        outcome = "success" if self.status < 400 else "failure"
        return {
            "typeURI": CADF_EVENT,
            "id": new_uuid(),
            "eventType": "activity",
            "eventTime": dt.datetime.now(dt.UTC).isoformat(),
            "action": action,
            "outcome": outcome,
            "reason": {"reasonType": "HTTP", "reasonCode": str(self.status)},
            "initiator": {
                "typeURI": "service/security/account/user",
                "id": self.initiator_id or "unknown",
                "project_id": self.project_id,
                "domain_id": self.domain_id,
                "host": {"address": self.client_addr, "agent": self.user_agent},
            },
            "target": {"typeURI": self.target_type, "id": self.target_id or "unknown"},
            "observer": {"typeURI": f"service/{self.service}", "id": f"nubo-{self.service}"},
            "requestPath": self.path,
            "request_id": self.request_id,
        }


class AuditLog:
    def __init__(self, path: Path | None, bus: Bus | None = None) -> None:
        self.path = path
        self.bus = bus
        self._file = path.open("ab", buffering=0) if path else None
        self._pending: set[asyncio.Task[None]] = set()

    def record(self, event: AuditEvent) -> dict[str, Any]:
        cadf = event.to_cadf()
        if self._file is not None:
            self._file.write(orjson.dumps(cadf) + b"\n")
        if self.bus is not None:
            task = asyncio.ensure_future(self._publish(event.service, cadf))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return cadf

    async def _publish(self, service: str, cadf: dict[str, Any]) -> None:
        assert self.bus is not None
        try:
            await self.bus.publish(
                f"audit.{service}.{cadf['action']}", cadf, request_id=cadf["request_id"]
            )
        except Exception:
            log.exception("could not publish audit record %s", cadf["id"])

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._file is not None:
            self._file.close()
            self._file = None
