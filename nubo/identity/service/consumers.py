"""OAuth1 consumers (``/v3/OS-OAUTH1/consumers``): a client registered to ask for
delegated access. The secret is shown once, when the consumer is made."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update

from nubo.core.db.base import new_id
from nubo.core.errors import NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t

C = t.consumer


def _render(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], description=row["description"])
    return out


def _check(body: Mapping[str, Any]) -> None:
    if "description" in body and not isinstance(body["description"], (str, type(None))):
        raise ValidationError("Invalid input for field 'description': a string is required.")


def _extra(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("id", "description", "secret", "links")}


async def _row(conn: Any, consumer_id: str) -> Mapping[Any, Any]:
    found = (await conn.execute(select(C).where(C.c.id == consumer_id))).first()
    if found is None:
        raise NotFound(f"Could not find consumer: {consumer_id}.")
    row: Mapping[Any, Any] = found._mapping
    return row


async def create_consumer(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    _check(body)
    row = {"id": new_id(), "description": body.get("description"),
           "secret": secrets.token_hex(32), "extra": _extra(body)}
    async with rt.db.transaction() as tx:
        await tx.execute(insert(C).values(**row))
    return {**_render(row), "secret": row["secret"]}


async def get_consumer(rt: Runtime, consumer_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return _render(await _row(conn, consumer_id))


async def list_consumers(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q = select(C).order_by(C.c.id)
    if "description" in filters:
        q = q.where(C.c.description == filters["description"])
    async with rt.db.read() as conn:
        return [_render(r._mapping) for r in await conn.execute(q)]


async def update_consumer(rt: Runtime, consumer_id: str, body: Mapping[str, Any]
                          ) -> dict[str, Any]:
    _check(body)
    if "secret" in body:
        raise ValidationError("Invalid input for field 'secret': a consumer's secret cannot "
                              "be changed.")
    if "id" in body and body["id"] != consumer_id:
        raise ValidationError("Cannot change ID")
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, consumer_id)
        values: dict[str, Any] = {}
        if "description" in body:
            values["description"] = body["description"]
        extra = _extra(body)
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            await tx.execute(update(C).where(C.c.id == consumer_id).values(**values))
        new = await _row(tx.conn, consumer_id)
    return _render(new)


async def delete_consumer(rt: Runtime, consumer_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _row(tx.conn, consumer_id)
        await tx.execute(delete(C).where(C.c.id == consumer_id))
