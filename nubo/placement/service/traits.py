"""Traits: the standard ones (in code), ``CUSTOM_*`` ones (stored), and the traits
each provider has (changed under the provider generation)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select

from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.placement import tables as t
from nubo.placement.service.locking import bump, provider_row, stale, with_retries
from nubo.placement.standards import STANDARD_TRAITS, TRAITS, is_custom

TRAIT = t.custom_trait
PT = t.provider_trait


async def _custom(conn: Any) -> list[str]:
    return [r.name for r in await conn.execute(select(TRAIT.c.name).order_by(TRAIT.c.name))]


async def list_traits(rt: Runtime, *, names: set[str] | None = None,
                      prefix: str | None = None, associated: bool | None = None) -> list[str]:
    async with rt.db.read() as conn:
        every = [*TRAITS, *await _custom(conn)]
        used = {r.trait for r in await conn.execute(select(PT.c.trait).distinct())}
    out = [n for n in every if (names is None or n in names)
           and (prefix is None or n.startswith(prefix))]
    if associated is not None:
        out = [n for n in out if (n in used) == associated]
    return sorted(out)


async def trait_exists(conn: Any, name: str) -> bool:
    if name in STANDARD_TRAITS:
        return True
    return (await conn.execute(select(TRAIT.c.name).where(TRAIT.c.name == name))
            ).first() is not None


async def get_trait(rt: Runtime, name: str) -> None:
    async with rt.db.read() as conn:
        if not await trait_exists(conn, name):
            raise NotFound(f"No such trait(s): {name}.")


def _check_custom(name: str) -> None:
    if not is_custom(name):
        raise BadRequest(f"The trait is invalid. A valid trait must be no longer than 255 "
                         f"characters, start with the prefix \"CUSTOM_\" and use following "
                         f"characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\". Got: {name}.")


async def put_trait(rt: Runtime, name: str) -> bool:
    """Create a custom trait; True when made, False when it already existed."""
    if name in STANDARD_TRAITS:
        return False
    _check_custom(name)

    async def attempt() -> bool:
        async with rt.db.transaction() as tx:
            if await trait_exists(tx.conn, name):
                return False
            await tx.execute(insert(TRAIT).values(name=name))
            return True

    return await with_retries(attempt, what="create trait")


async def delete_trait(rt: Runtime, name: str) -> None:
    if name in STANDARD_TRAITS:
        raise BadRequest(f"Cannot delete standard trait {name}.")
    async with rt.db.transaction() as tx:
        if not await trait_exists(tx.conn, name):
            raise NotFound(f"No such trait(s): {name}.")
        used = await tx.execute(select(func.count()).select_from(PT).where(PT.c.trait == name))
        if used.scalar_one():
            raise Conflict(f"The trait {name} is in use by a resource provider.")
        await tx.execute(delete(TRAIT).where(TRAIT.c.name == name))


async def _provider_traits(conn: Any, provider_id: int) -> list[str]:
    rows = await conn.execute(select(PT.c.trait).where(PT.c.provider_id == provider_id))
    return sorted(r.trait for r in rows)


async def get_provider_traits(rt: Runtime, uuid: str) -> tuple[int, list[str]]:
    async with rt.db.read() as conn:
        row = await provider_row(conn, uuid)
        return row["generation"], await _provider_traits(conn, row["id"])


async def set_provider_traits(rt: Runtime, uuid: str, generation: int | None,
                              traits: Iterable[str], *, create_custom: bool = False
                              ) -> tuple[int, list[str]]:
    """Replace the provider's traits. Unknown traits are a 400 unless
    ``create_custom`` (in-process callers), which makes missing ``CUSTOM_*`` ones."""
    wanted = sorted(set(traits))
    if create_custom:
        for name in wanted:
            await put_trait(rt, name)

    async def attempt() -> tuple[int, list[str]]:
        async with rt.db.transaction() as tx:
            row = await provider_row(tx.conn, uuid, lock=True)
            if generation is not None and generation != row["generation"]:
                raise stale(uuid)
            missing = [n for n in wanted if not await trait_exists(tx.conn, n)]
            if missing:
                raise BadRequest(f"No such trait(s): {', '.join(missing)}.")
            await tx.execute(delete(PT).where(PT.c.provider_id == row["id"]))
            for name in wanted:
                await tx.execute(insert(PT).values(provider_id=row["id"], trait=name))
            return await bump(tx, row), wanted

    return await with_retries(attempt, what="update traits")


async def check_requested(rt: Runtime, names: Iterable[str]) -> None:
    """Traits named in a query must exist (400 otherwise)."""
    async with rt.db.read() as conn:
        missing = sorted([n for n in set(names) if not await trait_exists(conn, n)])
    if missing:
        raise BadRequest(f"No such trait(s): {', '.join(missing)}",
                         code="placement.query.bad_value")
