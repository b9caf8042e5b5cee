"""Application credentials: a user's delegated secret for one project, with a
subset of the user's roles on it, an optional expiry and access rules."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import new_id, utcnow
from nubo.core.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import backends
from nubo.identity import tables as t
from nubo.identity.service import assignments, cache, resource, revoke, users

ACR = t.application_credential_role


def _iso(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


async def _roles(conn: Any, cred_id: str) -> list[dict[str, Any]]:
    q = select(t.role.c.id, t.role.c.name, t.role.c.domain_id).join(
        ACR, ACR.c.role_id == t.role.c.id).where(ACR.c.application_credential_id == cred_id)
    return [{"id": r.id, "name": r.name,
             "domain_id": None if r.domain_id == t.NULL_DOMAIN else r.domain_id}
            for r in await conn.execute(q)]


async def _rules(conn: Any, cred_id: str) -> list[dict[str, Any]]:
    link = t.application_credential_access_rule
    q = select(t.access_rule).join(link, link.c.access_rule_id == t.access_rule.c.id).where(
        link.c.application_credential_id == cred_id)
    return [{"id": r.id, "service": r.service, "path": r.path, "method": r.method}
            for r in await conn.execute(q)]


async def _render(conn: Any, row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "name": row["name"], "description": row["description"],
        "user_id": row["user_id"], "project_id": row["project_id"],
        "system": row["system"], "expires_at": _iso(row["expires_at"]),
        "unrestricted": row["unrestricted"], "roles": await _roles(conn, row["id"]),
        "access_rules": await _rules(conn, row["id"]),
    }


def _parse_expiry(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("Invalid input for field 'expires_at': an ISO 8601 time.")
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"Invalid input for field 'expires_at': {value!r}.") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    if when <= utcnow():
        raise ValidationError("The expiration time of an application credential must be in "
                              "the future.")
    return when


async def create(rt: Runtime, ctx: RequestContext, user_id: str, body: Mapping[str, Any]
                 ) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name or len(name) > 255:
        raise ValidationError("Invalid input for field 'name': a non-empty string.")
    if ctx.user_id != user_id:
        raise Forbidden("Application credentials can only be created for oneself.")
    if ctx.app_cred_id and not _parent_unrestricted(ctx):
        raise Forbidden("Using a restricted application credential to create another one is "
                        "not allowed.")
    if not ctx.project_id:
        raise Forbidden("Application credentials need a project-scoped token.")
    secret = body.get("secret") or secrets.token_urlsafe(64)
    if not isinstance(secret, str):
        raise ValidationError("Invalid input for field 'secret': a string.")
    unrestricted = body.get("unrestricted", False)
    if not isinstance(unrestricted, bool):
        raise ValidationError("Invalid input for field 'unrestricted': a boolean.")
    expires = _parse_expiry(body.get("expires_at"))
    async with rt.db.read() as conn:  # an LDAP user's groups are read (and recorded) here
        held = {r["id"]: r for r in await assignments.effective_roles(
            conn, user_id, "project", ctx.project_id, rt=rt)}
    async with rt.db.transaction() as tx:
        wanted = await _wanted_roles(tx.conn, body.get("roles"), held)
        row = {"id": new_id(), "name": name, "description": body.get("description"),
               "secret_hash": await users.hasher(rt).hash_async(secret), "user_id": user_id,
               "project_id": ctx.project_id, "system": None, "expires_at": expires,
               "unrestricted": unrestricted, "created_at": utcnow()}
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(t.application_credential).values(**row))
        except IntegrityError:
            raise Conflict(f"Conflict occurred attempting to store application_credential - "
                           f"Duplicate name {name}.") from None
        await tx.execute(insert(ACR), [{"application_credential_id": row["id"], "role_id": r}
                                       for r in wanted])
        await _store_rules(tx, user_id, str(row["id"]), body.get("access_rules"))
        out = await _render(tx.conn, row)
    out["secret"] = secret
    return out


def _parent_unrestricted(ctx: RequestContext) -> bool:
    return bool(ctx.extra.get("app_cred_unrestricted"))


async def _wanted_roles(conn: Any, requested: Any, held: Mapping[str, Any]) -> list[str]:
    if requested is None:
        return list(held)
    if not isinstance(requested, list):
        raise ValidationError("Invalid input for field 'roles': a list of roles.")
    out = []
    for ref in requested:
        if not isinstance(ref, Mapping):
            raise ValidationError("Invalid input for field 'roles': each role is an object.")
        match = [rid for rid, r in held.items()
                 if rid == ref.get("id") or (ref.get("name") and r["name"] == ref.get("name"))]
        if not match:
            raise Forbidden(f"The user does not hold role {ref.get('id') or ref.get('name')} "
                            f"on the project, so it cannot be delegated.")
        out.append(match[0])
    return list(dict.fromkeys(out))


async def _store_rules(tx: Any, user_id: str, cred_id: str, rules: Any) -> None:
    if rules is None:
        return
    if not isinstance(rules, list):
        raise ValidationError("Invalid input for field 'access_rules': a list.")
    for rule in rules:
        if not isinstance(rule, Mapping) or not all(isinstance(rule.get(k), str)
                                                    for k in ("service", "path", "method")):
            raise ValidationError("Invalid input for field 'access_rules': each rule needs "
                                  "service, path and method.")
        if rule["method"] not in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
            raise ValidationError(f"Invalid input for field 'access_rules.method': "
                                  f"{rule['method']!r}.")
        r = t.access_rule.c
        found = (await tx.execute(select(r.id).where(
            r.user_id == user_id, r.service == rule["service"], r.path == rule["path"],
            r.method == rule["method"]))).first()
        rule_id = found.id if found else rule.get("id") or new_id()
        if not found:
            await tx.execute(insert(t.access_rule).values(
                id=rule_id, user_id=user_id, service=rule["service"], path=rule["path"],
                method=rule["method"]))
        await tx.execute(insert(t.application_credential_access_rule).values(
            application_credential_id=cred_id, access_rule_id=rule_id))


async def _row(conn: Any, user_id: str, cred_id: str) -> Mapping[Any, Any]:
    row = (await conn.execute(select(t.application_credential).where(
        t.application_credential.c.id == cred_id,
        t.application_credential.c.user_id == user_id))).first()
    if row is None:
        raise NotFound(f"Could not find Application Credential: {cred_id}.")
    found: Mapping[Any, Any] = row._mapping
    return found


async def get(rt: Runtime, user_id: str, cred_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return await _render(conn, await _row(conn, user_id, cred_id))


async def list_for_user(rt: Runtime, user_id: str, name: str | None) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        if await users.lookup_row(rt, conn, user_id) is None:
            raise NotFound(f"Could not find user: {user_id}.")
        q = select(t.application_credential).where(
            t.application_credential.c.user_id == user_id)
        if name is not None:
            q = q.where(t.application_credential.c.name == name)
        return [await _render(conn, r._mapping) for r in await conn.execute(q)]


async def delete_app_cred(rt: Runtime, ctx: RequestContext, user_id: str, cred_id: str
                          ) -> None:
    if ctx.app_cred_id and not _parent_unrestricted(ctx):
        raise Forbidden("Using a restricted application credential to delete one is not "
                        "allowed.")
    async with rt.db.transaction() as tx:
        await _row(tx.conn, user_id, cred_id)
        await tx.execute(delete(t.application_credential).where(
            t.application_credential.c.id == cred_id))
        await revoke.record(tx, rt, app_cred_id=cred_id)
        cache.changed(tx, rt)


async def authenticate(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    """Check an application credential's secret; return the credential."""
    secret = body.get("secret")
    if not isinstance(secret, str):
        raise ValidationError("Invalid input for field 'application_credential.secret'.")
    q = select(t.application_credential)
    if body.get("id"):
        q = q.where(t.application_credential.c.id == str(body["id"]))
    elif body.get("name") and isinstance(body.get("user"), Mapping):
        owner = await _owner_id(rt, body["user"])
        q = q.where(t.application_credential.c.name == str(body["name"]),
                    t.application_credential.c.user_id == owner)
    else:
        raise ValidationError("Expecting an application credential id, or name and user.")
    async with rt.db.read() as conn:
        found = (await conn.execute(q)).first()
        if found is None:
            raise Unauthorized("The request you have made requires authentication.")
        row = found._mapping
        user_row = await users.lookup_row(rt, conn, row["user_id"])
        project = await resource.get_row(conn, row["project_id"]) if row["project_id"] else None
    if row["expires_at"] is not None and row["expires_at"] <= utcnow():
        raise Unauthorized("Application credential has expired.")
    if not await users.hasher(rt).verify_async(secret, row["secret_hash"]):
        raise Unauthorized("The request you have made requires authentication.")
    if user_row is None or not user_row["enabled"]:
        raise Unauthorized("The user of this application credential is disabled.")
    if row["project_id"] and (project is None or not project["enabled"]):
        raise Unauthorized("The project of this application credential is disabled.")
    out = dict(row)
    if out["expires_at"] is not None:
        out["expires_at"] = out["expires_at"].replace(tzinfo=dt.UTC)
    return out


async def _owner_id(rt: Runtime, ref: Mapping[str, Any]) -> str:
    """The id of the user an application credential is named under: a SQL user, or
    a user of an LDAP domain."""
    try:
        async with rt.db.read() as conn:
            return str((await users.find_user_row(conn, ref))["id"])
    except (NotFound, Unauthorized):
        external = await backends.find_user(rt, ref)
        if external is None:
            raise Unauthorized("The request you have made requires authentication.") from None
        return str(external["id"])


async def for_token(conn: Any, cred_id: str) -> dict[str, Any] | None:
    """What a token made from this credential may carry (None: the credential is gone)."""
    found = (await conn.execute(select(t.application_credential).where(
        t.application_credential.c.id == cred_id))).first()
    if found is None:
        return None
    row = found._mapping
    if row["expires_at"] is not None and row["expires_at"] <= utcnow():
        return None
    return {"id": row["id"], "name": row["name"], "unrestricted": row["unrestricted"],
            "roles": await _roles(conn, cred_id)}


async def list_access_rules(rt: Runtime, user_id: str) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        rows = await conn.execute(select(t.access_rule).where(t.access_rule.c.user_id == user_id))
        return [{"id": r.id, "service": r.service, "path": r.path, "method": r.method}
                for r in rows]


async def get_access_rule(rt: Runtime, user_id: str, rule_id: str) -> dict[str, Any]:
    for rule in await list_access_rules(rt, user_id):
        if rule["id"] == rule_id:
            return rule
    raise NotFound(f"Could not find access rule: {rule_id}.")


async def delete_access_rule(rt: Runtime, user_id: str, rule_id: str) -> None:
    await get_access_rule(rt, user_id, rule_id)
    async with rt.db.transaction() as tx:
        link = t.application_credential_access_rule
        used = (await tx.execute(select(link.c.application_credential_id).where(
            link.c.access_rule_id == rule_id).limit(1))).first()
        if used:
            raise Forbidden(f"Access rule {rule_id} is in use by an application credential.")
        await tx.execute(delete(t.access_rule).where(t.access_rule.c.id == rule_id))
