"""Resource classes: the standard ones (in code) and ``CUSTOM_*`` ones (stored)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.placement import tables as t
from nubo.placement.standards import RESOURCE_CLASSES, STANDARD_CLASSES, is_custom

RC = t.custom_resource_class


async def _custom(conn: Any) -> list[str]:
    return [r.name for r in await conn.execute(select(RC.c.name).order_by(RC.c.name))]


async def list_resource_classes(rt: Runtime) -> list[str]:
    async with rt.db.read() as conn:
        return [*RESOURCE_CLASSES, *await _custom(conn)]


async def exists(conn: Any, name: str) -> bool:
    if name in STANDARD_CLASSES:
        return True
    found = await conn.execute(select(RC.c.name).where(RC.c.name == name))
    return found.first() is not None


async def check_known(conn: Any, names: Iterable[str]) -> None:
    for name in names:
        if not await exists(conn, name):
            raise BadRequest(f"Unknown resource class in inventory: {name}",
                             code="placement.resource_class.not_found")


async def get_resource_class(rt: Runtime, name: str) -> str:
    async with rt.db.read() as conn:
        if not await exists(conn, name):
            raise NotFound(f"No such resource class {name}.")
    return name


def _check_custom(name: str) -> None:
    if not is_custom(name):
        raise BadRequest(f"Invalid resource class name {name!r}: it must start with CUSTOM_ "
                         "and contain only upper-case letters, digits and underscores.")


async def create_resource_class(rt: Runtime, name: str, *, exist_ok: bool = False) -> bool:
    """Create a custom class; True when it was made, False when it existed (exist_ok)."""
    if exist_ok and name in STANDARD_CLASSES:
        return False
    _check_custom(name)
    async with rt.db.transaction() as tx:
        if await exists(tx.conn, name):
            if exist_ok:
                return False
            raise Conflict(f"Conflicting resource class already exists: {name}")
        try:
            await tx.execute(insert(RC).values(name=name))
        except IntegrityError:
            if exist_ok:
                return False
            raise Conflict(f"Conflicting resource class already exists: {name}") from None
    return True


async def _in_use(conn: Any, name: str) -> bool:
    for table in (t.inventory, t.allocation):
        n = await conn.execute(select(func.count()).select_from(table).where(
            table.c.resource_class == name))
        if n.scalar_one():
            return True
    return False


async def rename_resource_class(rt: Runtime, old: str, new: str) -> None:
    """PUT before 1.7: rename a custom class (and everything that uses it)."""
    if old in STANDARD_CLASSES:
        raise BadRequest(f"Cannot update standard resource class {old}")
    _check_custom(new)
    async with rt.db.transaction() as tx:
        if not await exists(tx.conn, old):
            raise NotFound(f"No such resource class {old}.")
        if await exists(tx.conn, new):
            raise Conflict(f"Resource class already exists: {new}")
        await tx.execute(update(RC).where(RC.c.name == old).values(name=new))
        for table in (t.inventory, t.allocation):
            await tx.execute(update(table).where(table.c.resource_class == old).values(
                resource_class=new))


async def delete_resource_class(rt: Runtime, name: str) -> None:
    if name in STANDARD_CLASSES:
        raise BadRequest(f"Cannot delete standard resource class {name}")
    async with rt.db.transaction() as tx:
        if not await exists(tx.conn, name):
            raise NotFound(f"No such resource class {name}.")
        if await _in_use(tx.conn, name):
            raise Conflict(f"Unable to delete resource class {name}. The resource class is in "
                           "use in inventory.")
        await tx.execute(delete(RC).where(RC.c.name == name))


async def check_requested(rt: Runtime, names: Iterable[str]) -> None:
    """Resource classes named in a query must exist (400 otherwise)."""
    async with rt.db.read() as conn:
        for name in names:
            if not await exists(conn, name):
                raise BadRequest(f"Invalid resource class in resources parameter: Resource "
                                 f"class with name {name} could not be found.",
                                 code="placement.query.bad_value")
