"""Public ids for users and groups that live outside SQL, as Keystone's
``id_mapping``: a stable sha256 of (domain, local id, entity type), recorded so
that a public id resolves back to its domain and local id. Ids an LDAP default
domain keeps unhashed (Keystone's backward-compatible ids) are recorded too, as
their own public ids."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from nubo.core.db.engine import Tx
from nubo.identity import tables as t

USER = "user"
GROUP = "group"


def public_id(domain_id: str, local_id: str, entity_type: str) -> str:
    """Keystone's sha256 generator: the values hashed in the order of their keys
    (domain_id, entity_type, local_id)."""
    h = hashlib.sha256()
    for value in (domain_id, entity_type, local_id):
        h.update(value.encode("utf-8"))
    return h.hexdigest()


async def resolve(conn: Any, public: str) -> tuple[str, str, str] | None:
    """(domain id, local id, entity type) of a recorded public id."""
    m = t.id_mapping.c
    row = (await conn.execute(select(m.domain_id, m.local_id, m.entity_type).where(
        m.public_id == public))).first()
    return (row.domain_id, row.local_id, row.entity_type) if row else None


async def record(tx: Tx, domain_id: str, entities: Iterable[tuple[str, str, str]]) -> None:
    """Remember (public id, local id, entity type) of one domain; known ones are skipped."""
    wanted = {public: (local, kind) for public, local, kind in entities}
    if not wanted:
        return
    m = t.id_mapping.c
    known = {r.public_id for r in await tx.execute(select(m.public_id).where(
        m.public_id.in_(list(wanted))))}
    for pid, (local, kind) in wanted.items():
        if pid in known:
            continue
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(t.id_mapping).values(
                    public_id=pid, domain_id=domain_id, local_id=local, entity_type=kind))
        except IntegrityError:
            pass  # recorded meanwhile by another worker
