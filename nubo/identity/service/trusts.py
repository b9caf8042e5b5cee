"""Trusts (OS-TRUST): a trustor delegates some of its roles on one project to a
trustee, optionally letting the trustee act as the trustor (impersonation), until
an expiry or a number of uses. A trust may allow redelegation (see
``redelegation.py``): its trustee then makes trusts from it with a token scoped to
it. Deleting a trust deletes those redelegated from it and revokes the tokens made
from any of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import new_id, utcnow
from nubo.core.errors import Forbidden, NotFound, Unauthorized, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.service import (
    assignments,
    cache,
    redelegation,
    resource,
    revoke,
    roles,
    users,
)

TR = t.trust_role


def _iso(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None


async def _role_ids(conn: Any, trust_id: str) -> list[str]:
    rows = await conn.execute(select(TR.c.role_id).where(TR.c.trust_id == trust_id))
    return [r.role_id for r in rows]


async def _roles(conn: Any, trust_id: str) -> list[dict[str, Any]]:
    q = select(t.role).join(TR, TR.c.role_id == t.role.c.id).where(TR.c.trust_id == trust_id)
    return [roles.to_role(r._mapping) for r in await conn.execute(q)]


async def _render(conn: Any, row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "trustor_user_id": row["trustor_user_id"],
        "trustee_user_id": row["trustee_user_id"], "project_id": row["project_id"],
        "impersonation": row["impersonation"], "expires_at": _iso(row["expires_at"]),
        "remaining_uses": row["remaining_uses"],
        "allow_redelegation": bool(row["redelegation_count"]),
        "redelegation_count": row["redelegation_count"] or 0,
        "redelegated_trust_id": row["redelegated_trust_id"],
        "roles": await _roles(conn, row["id"]),
    }


def _check_body(body: Mapping[str, Any]) -> None:
    for key in ("trustor_user_id", "trustee_user_id"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise ValidationError(f"Invalid input for field '{key}': a user id is required.")
    if not isinstance(body.get("impersonation"), bool):
        raise ValidationError("Invalid input for field 'impersonation': a boolean is required.")
    uses = body.get("remaining_uses")
    if uses is not None and (not isinstance(uses, int) or isinstance(uses, bool) or uses < 1):
        raise ValidationError("Invalid input for field 'remaining_uses': a positive integer.")
    redelegation.check_fields(body)
    if body.get("project_id") is None and body.get("roles"):
        raise ValidationError("A trust with roles needs a project_id.")


def _parse_expiry(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"Invalid input for field 'expires_at': {value!r}.") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    if when <= utcnow():
        raise ValidationError("The expiration time of a trust must be in the future.")
    return when


def _wanted_roles(requested: Any, held: Mapping[str, Any]) -> list[str]:
    if not isinstance(requested, list) or not all(isinstance(r, Mapping) for r in requested):
        raise ValidationError("Invalid input for field 'roles': a list of roles.")
    out = []
    for ref in requested:
        match = [rid for rid, r in held.items()
                 if rid == ref.get("id") or (ref.get("name") and r["name"] == ref.get("name"))]
        if not match:
            raise Forbidden(f"The trustor does not hold role {ref.get('id') or ref.get('name')} "
                            f"on the project, so it cannot be delegated.")
        out.append(match[0])
    return list(dict.fromkeys(out))


async def _delegable(rt: Runtime, conn: Any, user_id: str, project_id: Any,
                     requested: Any) -> list[str]:
    """The ids of the requested roles, all held by ``user_id`` on the project (through
    its groups too, directory groups included)."""
    if project_id is None:
        return []
    if await resource.get_row(conn, str(project_id)) is None:
        raise NotFound(f"Could not find project: {project_id}.")
    held = {r["id"]: r for r in await assignments.effective_roles(
        conn, user_id, "project", str(project_id), rt=rt)}
    wanted = _wanted_roles(requested or [], held)
    if not wanted:
        raise ValidationError("A trust on a project needs at least one role.")
    return wanted


async def _pedigree(conn: Any, trust_id: str | None) -> list[redelegation.Link]:
    """The trust a token is scoped to, then the trust it was redelegated from, …"""
    chain: list[redelegation.Link] = []
    while trust_id is not None and trust_id not in {link.id for link in chain}:
        row = await _row(conn, trust_id)
        chain.append(redelegation.Link(
            id=row["id"], project_id=row["project_id"], impersonation=row["impersonation"],
            expires_at=row["expires_at"], redelegation_count=row["redelegation_count"] or 0,
            role_ids=frozenset(await _role_ids(conn, row["id"]))))
        trust_id = row["redelegated_trust_id"]
    return chain


def refuse_restricted(ctx: RequestContext) -> None:
    """A token from a restricted application credential does not manage trusts."""
    if ctx.app_cred_id and not ctx.extra.get("app_cred_unrestricted"):
        raise Forbidden("Using method 'application_credential' is not allowed for managing "
                        "trusts.")


async def create(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create a trust; made with a trust-scoped token, a trust redelegated from it."""
    _check_body(body)
    refuse_restricted(ctx)
    if body["trustor_user_id"] != ctx.user_id:
        raise Forbidden("The trustor of a trust must be the user making the request.")
    expires = _parse_expiry(body.get("expires_at"))
    project_id = body.get("project_id")
    # outside the transaction: an LDAP user's groups are read (and recorded) here
    async with rt.db.read() as conn:
        if await users.lookup_row(rt, conn, body["trustee_user_id"]) is None:
            raise NotFound(f"Could not find user: {body['trustee_user_id']}.")
        wanted = await _delegable(rt, conn, ctx.user_id, project_id, body.get("roles"))
    async with rt.db.transaction() as tx:
        settled = redelegation.settle(redelegation.Wanted(
            project_id=project_id, impersonation=body["impersonation"], expires_at=expires,
            remaining_uses=body.get("remaining_uses"), role_ids=frozenset(wanted),
            allow_redelegation=bool(body.get("allow_redelegation")),
            redelegation_count=body.get("redelegation_count"),
        ), await _pedigree(tx.conn, ctx.trust_id), rt.settings.identity.max_redelegation_count)
        row = {"id": new_id(), "trustor_user_id": ctx.user_id,
               "trustee_user_id": body["trustee_user_id"], "project_id": project_id,
               "impersonation": body["impersonation"], "expires_at": settled.expires_at,
               "remaining_uses": body.get("remaining_uses"),
               "redelegated_trust_id": settled.redelegated_trust_id,
               "redelegation_count": settled.redelegation_count,
               "deleted_at": None, "extra": {}}
        await tx.execute(insert(t.trust).values(**row))
        if wanted:
            await tx.execute(insert(TR), [{"trust_id": row["id"], "role_id": r} for r in wanted])
        return await _render(tx.conn, row)


async def _row(conn: Any, trust_id: str) -> Mapping[Any, Any]:
    found = (await conn.execute(select(t.trust).where(
        t.trust.c.id == trust_id, t.trust.c.deleted_at.is_(None)))).first()
    if found is None:
        raise NotFound(f"Could not find trust: {trust_id}.")
    row: Mapping[Any, Any] = found._mapping
    return row


async def get_trust(rt: Runtime, trust_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return await _render(conn, await _row(conn, trust_id))


async def list_trusts(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q = select(t.trust).where(t.trust.c.deleted_at.is_(None))
    for key in ("trustor_user_id", "trustee_user_id"):
        if filters.get(key):
            q = q.where(t.trust.c[key] == filters[key])
    async with rt.db.read() as conn:
        return [await _render(conn, r._mapping) for r in await conn.execute(q)]


async def _redelegated_from(conn: Any, trust_id: str) -> list[str]:
    """``trust_id`` and every live trust redelegated from it, at any depth."""
    found, todo = [trust_id], [trust_id]
    while todo:
        rows = await conn.execute(select(t.trust.c.id).where(
            t.trust.c.redelegated_trust_id.in_(todo), t.trust.c.deleted_at.is_(None)))
        todo = [r.id for r in rows if r.id not in found]
        found += todo
    return found


async def delete_trust(rt: Runtime, trust_id: str) -> None:
    """Delete the trust and those redelegated from it; revoke their tokens."""
    async with rt.db.transaction() as tx:
        await _row(tx.conn, trust_id)
        doomed = await _redelegated_from(tx.conn, trust_id)
        await tx.execute(update(t.trust).where(t.trust.c.id.in_(doomed)).values(
            deleted_at=utcnow()))
        await tx.execute(delete(TR).where(TR.c.trust_id.in_(doomed)))
        for gone in doomed:
            await revoke.record(tx, rt, trust_id=gone)
        cache.changed(tx, rt)


async def get_role(rt: Runtime, trust_id: str, role_id: str) -> dict[str, Any]:
    for role in (await get_trust(rt, trust_id))["roles"]:
        if role["id"] == role_id:
            return dict(role)
    raise NotFound(f"Could not find role: {role_id}.")


# ---------------------------------------------------------------- tokens


async def _usable(conn: Any, trust_id: str) -> Mapping[Any, Any] | None:
    found = (await conn.execute(select(t.trust).where(
        t.trust.c.id == trust_id, t.trust.c.deleted_at.is_(None)))).first()
    if found is None:
        return None
    row: Mapping[Any, Any] = found._mapping
    if row["expires_at"] is not None and row["expires_at"] <= utcnow():
        return None
    return row


async def consume(rt: Runtime, trust_id: str, trustee_id: str) -> dict[str, Any]:
    """Spend one use of the trust for a token asked by ``trustee_id``; the trust."""
    async with rt.db.transaction() as tx:
        row = await _usable(tx.conn, trust_id)
        if row is None or row["trustee_user_id"] != trustee_id:
            raise Unauthorized(f"Could not use trust {trust_id}.")
        if row["remaining_uses"] is not None:
            c = t.trust.c
            done = await tx.execute(update(t.trust).where(
                c.id == trust_id, c.remaining_uses > 0).values(
                remaining_uses=c.remaining_uses - 1))
            if done.rowcount != 1:
                raise Unauthorized(f"Trust {trust_id} has no uses left.")
        return dict(row)


async def _original_trustor(conn: Any, row: Mapping[Any, Any]) -> str | None:
    """The trustor at the root of the trust's chain (None: a link is gone or expired)."""
    seen = {row["id"]}
    while row["redelegated_trust_id"] is not None:
        parent = await _usable(conn, row["redelegated_trust_id"])
        if parent is None or parent["id"] in seen:
            return None
        seen.add(parent["id"])
        row = parent
    trustor: str = row["trustor_user_id"]
    return trustor


async def for_token(rt: Runtime, conn: Any, trust_id: str) -> dict[str, Any] | None:
    """What a token made from this trust carries (None: the trust, or one it was
    redelegated from, is gone or expired): the trust's roles (and those they imply)
    that the original trustor of its chain still holds."""
    row = await _usable(conn, trust_id)
    if row is None:
        return None
    original = await _original_trustor(conn, row)
    if original is None:
        return None
    granted: list[dict[str, str]] = []
    if row["project_id"]:
        delegated = await roles.expand(conn, await _role_ids(conn, trust_id))
        held = await assignments.effective_roles(conn, original, "project",
                                                 row["project_id"], rt=rt)
        granted = [r for r in held if r["id"] in delegated]
    return {"id": row["id"], "impersonation": row["impersonation"],
            "trustor_user": {"id": row["trustor_user_id"]},
            "trustee_user": {"id": row["trustee_user_id"]},
            "project_id": row["project_id"], "expires_at": row["expires_at"],
            "roles": granted}
