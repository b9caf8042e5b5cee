"""Groups and group membership."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.db.base import new_id
from nubo.core.errors import Conflict, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import backends
from nubo.identity import tables as t
from nubo.identity.service import cache, resource, users
from nubo.identity.service.filters import filtered

COLUMNS = ("name", "domain_id", "description")


def to_group(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], name=row["name"], domain_id=row["domain_id"],
               description=row["description"] or "")
    return out


async def get_row(conn: Any, group_id: str) -> Mapping[str, Any] | None:
    row = (await conn.execute(select(t.group).where(t.group.c.id == group_id))).first()
    return row._mapping if row else None


async def require(conn: Any, group_id: str) -> Mapping[str, Any]:
    row = await get_row(conn, group_id)
    if row is None:
        raise NotFound(f"Could not find group: {group_id}.")
    return row


async def lookup_row(rt: Runtime, conn: Any, group_id: str) -> Mapping[str, Any] | None:
    """A SQL group row or, for the public id of an LDAP group, the directory's."""
    return await get_row(conn, group_id) or await backends.group_row(rt, conn, group_id)


async def _writable(rt: Runtime, conn: Any, group_id: str) -> Mapping[str, Any]:
    row = await get_row(conn, group_id)
    if row is None:
        await backends.refuse_write(rt, conn, group_id, "group")
        raise NotFound(f"Could not find group: {group_id}.")
    return row


async def get_group(rt: Runtime, group_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await lookup_row(rt, conn, group_id)
    if row is None:
        raise NotFound(f"Could not find group: {group_id}.")
    return to_group(row)


async def list_groups(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    external = await backends.list_groups(rt, filters)
    if external is not None:
        return [to_group(r) for r in external]
    q, params = filtered(t.group, filters, exact=("domain_id", "id"), text=("name",),
                         order_by="name")
    async with rt.db.read() as conn:
        return [to_group(r._mapping) for r in await conn.execute(q, params)]


def _validate(body: Mapping[str, Any], *, creating: bool) -> None:
    if creating or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ValidationError("Invalid input for field 'name': a non-empty string of at most "
                                  "64 characters is required.")
    if "description" in body and not isinstance(body["description"], (str, type(None))):
        raise ValidationError("Invalid input for field 'description': a string is required.")


async def create_group(rt: Runtime, body: Mapping[str, Any], default_domain: str
                       ) -> dict[str, Any]:
    _validate(body, creating=True)
    extra = {k: v for k, v in body.items() if k not in (*COLUMNS, "id", "links")}
    row = {"id": new_id(), "name": body["name"],
           "domain_id": body.get("domain_id") or default_domain,
           "description": body.get("description") or "", "extra": extra}
    backends.refuse_domain_write(rt, row["domain_id"])
    async with rt.db.transaction() as tx:
        domain = await resource.get_row(tx.conn, row["domain_id"])
        if domain is None or not domain["is_domain"]:
            raise NotFound(f"Could not find domain: {row['domain_id']}.")
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(t.group).values(**row))
        except IntegrityError:
            raise Conflict(f"Conflict occurred attempting to store group - Duplicate entry found "
                           f"with name {row['name']} at domain ID {row['domain_id']}.") from None
    return to_group(row)


async def update_group(rt: Runtime, group_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    _validate(body, creating=False)
    async with rt.db.transaction() as tx:
        row = await _writable(rt, tx.conn, group_id)
        if "domain_id" in body and body["domain_id"] != row["domain_id"]:
            raise ValidationError("Update of `domain_id` is not allowed.")
        values: dict[str, Any] = {k: body[k] for k in ("name", "description") if k in body}
        extra = {k: v for k, v in body.items() if k not in (*COLUMNS, "id", "links")}
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            try:
                async with tx.conn.begin_nested():
                    await tx.execute(update(t.group).where(t.group.c.id == group_id)
                                     .values(**values))
            except IntegrityError:
                raise Conflict(f"Conflict occurred attempting to store group - Duplicate entry "
                               f"found with name {body.get('name')}.") from None
        new = await require(tx.conn, group_id)
    return to_group(new)


async def delete_group(rt: Runtime, group_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _writable(rt, tx.conn, group_id)
        await tx.execute(delete(t.assignment).where(t.assignment.c.actor_id == group_id))
        await tx.execute(delete(t.user_group_membership).where(
            t.user_group_membership.c.group_id == group_id))
        await tx.execute(delete(t.group).where(t.group.c.id == group_id))
        cache.changed(tx, rt)


async def _both(rt: Runtime, conn: Any, group_id: str, user_id: str) -> None:
    """Both in SQL, as membership changes need (LDAP membership is read-only)."""
    await _writable(rt, conn, group_id)
    if await users.get_row(conn, user_id) is None:
        await backends.refuse_write(rt, conn, user_id, "user")
        raise NotFound(f"Could not find user: {user_id}.")


async def add_user(rt: Runtime, group_id: str, user_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _both(rt, tx.conn, group_id, user_id)
        m = t.user_group_membership.c
        found = (await tx.execute(select(m.user_id).where(m.user_id == user_id,
                                                          m.group_id == group_id))).first()
        if not found:
            await tx.execute(insert(t.user_group_membership).values(user_id=user_id,
                                                                    group_id=group_id))
        cache.changed(tx, rt)


async def check_user(rt: Runtime, group_id: str, user_id: str) -> None:
    async with rt.db.read() as conn:
        if await get_row(conn, group_id) is None:
            members = await backends.users_in_group(rt, conn, group_id, {})
            if members is None:
                raise NotFound(f"Could not find group: {group_id}.")
            if user_id not in {u["id"] for u in members}:
                raise NotFound(f"User {user_id} is not a member of group {group_id}.")
            return
        await _both(rt, conn, group_id, user_id)
        m = t.user_group_membership.c
        found = (await conn.execute(select(m.user_id).where(m.user_id == user_id,
                                                            m.group_id == group_id))).first()
    if not found:
        raise NotFound(f"User {user_id} is not a member of group {group_id}.")


async def remove_user(rt: Runtime, group_id: str, user_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _both(rt, tx.conn, group_id, user_id)
        m = t.user_group_membership.c
        result = await tx.execute(delete(t.user_group_membership).where(
            m.user_id == user_id, m.group_id == group_id))
        if result.rowcount == 0:
            raise NotFound(f"User {user_id} is not a member of group {group_id}.")
        cache.changed(tx, rt)


async def member_ids(conn: Any, group_id: str) -> list[str]:
    rows = await conn.execute(select(t.user_group_membership.c.user_id).where(
        t.user_group_membership.c.group_id == group_id))
    return [r.user_id for r in rows]


async def list_users_in_group(rt: Runtime, group_id: str, filters: Mapping[str, str]
                              ) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        if await get_row(conn, group_id) is None:
            external = await backends.users_in_group(rt, conn, group_id, filters)
            if external is None:
                raise NotFound(f"Could not find group: {group_id}.")
            return [users.to_user(r, None) for r in external]
        ids = set(await member_ids(conn, group_id))
    return [u for u in await users.list_users(rt, filters) if u["id"] in ids]


async def list_groups_for_user(rt: Runtime, user_id: str) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        if await users.get_row(conn, user_id) is None:
            external = await backends.groups_for_user(rt, conn, user_id)
            if external is None:
                raise NotFound(f"Could not find user: {user_id}.")
            return [to_group(r) for r in external]
        m = t.user_group_membership.c
        q = select(t.group).join(t.user_group_membership, m.group_id == t.group.c.id).where(
            m.user_id == user_id)
        return [to_group(r._mapping) for r in await conn.execute(q.order_by(t.group.c.name))]
