"""Users and their passwords (the SQL identity back end), with Keystone's
security-compliance rules: lockout, password expiry and history, minimum age,
change on first use, and a password regex."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.db.base import new_id, utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, Conflict, NotFound, Unauthorized, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import backends
from nubo.identity import tables as t
from nubo.identity.passwords import PasswordHasher
from nubo.identity.service import cache, resource, revoke
from nubo.identity.service.filters import filtered, parse_bool

USER_COLUMNS = ("name", "domain_id", "enabled", "default_project_id", "description", "options")
RESERVED = frozenset({"id", "links", "password", "password_expires_at"})
USER_OPTIONS = frozenset({
    "ignore_change_password_upon_first_use", "ignore_password_expiry",
    "ignore_lockout_failure_attempts", "lock_password", "multi_factor_auth_enabled",
    "multi_factor_auth_rules", "ignore_user_inactivity",
})


def hasher(rt: Runtime) -> PasswordHasher:
    h = rt.state.get("identity.hasher")
    if h is None:
        cfg = rt.settings.identity
        h = PasswordHasher(cfg.password_hash_algorithm, rounds=cfg.password_hash_rounds or None)
        rt.state["identity.hasher"] = h
    assert isinstance(h, PasswordHasher)
    return h


def to_user(row: Mapping[Any, Any], expires_at: dt.datetime | None) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], name=row["name"], domain_id=row["domain_id"],
               enabled=row["enabled"], options=row["options"] or {},
               password_expires_at=_iso(expires_at))
    if row["default_project_id"]:
        out["default_project_id"] = row["default_project_id"]
    if row["description"] is not None:
        out["description"] = row["description"]
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


async def current_password(conn: Any, user_id: str) -> Mapping[str, Any] | None:
    row = (await conn.execute(select(t.password).where(t.password.c.user_id == user_id)
                              .order_by(t.password.c.id.desc()).limit(1))).first()
    return row._mapping if row else None


async def get_row(conn: Any, user_id: str) -> Mapping[str, Any] | None:
    row = (await conn.execute(select(t.user).where(t.user.c.id == user_id))).first()
    return row._mapping if row else None


async def lookup_row(rt: Runtime, conn: Any, user_id: str) -> Mapping[str, Any] | None:
    """A SQL user row or, for the public id of an LDAP user, the directory's."""
    return await get_row(conn, user_id) or await backends.user_row(rt, conn, user_id)


async def get_user(rt: Runtime, user_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await lookup_row(rt, conn, user_id)
        if row is None:
            raise NotFound(f"Could not find user: {user_id}.")
        pw = await current_password(conn, user_id)
    return to_user(row, pw["expires_at"] if pw else None)


async def list_users(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    external = await backends.list_users(rt, filters)
    if external is not None:
        return [to_user(r, None) for r in external]
    q, params = filtered(t.user, filters, exact=("domain_id", "enabled", "id"), text=("name",),
                         order_by="name")
    async with rt.db.read() as conn:
        rows = [r._mapping for r in await conn.execute(q, params)]
        expiry = await _expiries(conn, [r["id"] for r in rows])
    users = [to_user(r, expiry.get(r["id"])) for r in rows]
    return _filter_expiry(users, filters.get("password_expires_at"))


async def _expiries(conn: Any, ids: list[str]) -> dict[str, dt.datetime | None]:
    out: dict[str, dt.datetime | None] = {}
    if not ids:
        return out
    rows = await conn.execute(select(t.password.c.user_id, t.password.c.expires_at)
                              .where(t.password.c.user_id.in_(ids)).order_by(t.password.c.id))
    for r in rows:
        out[r.user_id] = r.expires_at
    return out


def _filter_expiry(users: list[dict[str, Any]], spec: str | None) -> list[dict[str, Any]]:
    """``password_expires_at={lt,lte,gt,gte,eq,neq}:<ISO time>``."""
    if not spec:
        return users
    op, _, when = spec.partition(":") if ":" in spec and spec.split(":")[0] in (
        "lt", "lte", "gt", "gte", "eq", "neq") else ("eq", "", spec)
    try:
        at = dt.datetime.fromisoformat(when.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise ValidationError(f"Invalid input for field 'password_expires_at': {spec!r}.") from None
    tests: dict[str, Callable[[dt.datetime], bool]] = {"lt": lambda x: x < at, "lte": lambda x: x <= at, "gt": lambda x: x > at,
             "gte": lambda x: x >= at, "eq": lambda x: x == at, "neq": lambda x: x != at}
    check = tests[op]
    return [u for u in users if u["password_expires_at"] and check(
        dt.datetime.fromisoformat(u["password_expires_at"]))]


def _validate(body: Mapping[str, Any], *, creating: bool) -> None:
    if creating or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ValidationError("Invalid input for field 'name': a non-empty string of at most "
                                  "255 characters is required.")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        raise ValidationError(f"Invalid input for field 'enabled': {body['enabled']!r} is not of "
                              f"type 'boolean'.")
    if "password" in body and not isinstance(body["password"], (str, type(None))):
        raise ValidationError("Invalid input for field 'password': a string is required.")
    for key in ("default_project_id", "description", "domain_id"):
        if key in body and not isinstance(body[key], (str, type(None))):
            raise ValidationError(f"Invalid input for field '{key}': a string is required.")
    options = body.get("options", {})
    if not isinstance(options, dict) or set(options) - USER_OPTIONS:
        raise ValidationError(f"Invalid input for field 'options': unknown option(s) "
                              f"{sorted(set(options) - USER_OPTIONS) if isinstance(options, dict) else options}.")


def check_password_rules(rt: Runtime, password: str) -> None:
    cfg = rt.settings.identity
    if cfg.password_regex and not re.match(cfg.password_regex, password):
        detail = cfg.password_regex_description or f"must match {cfg.password_regex}"
        raise ValidationError(f"Password validation error: The password does not meet the "
                              f"requirements: {detail}")


async def _add_password(
    tx: Tx, rt: Runtime, user_id: str, password: str, options: Mapping[str, Any], *,
    self_service: bool,
) -> None:
    cfg = rt.settings.identity
    now = utcnow()
    expires = None
    if cfg.password_expires_days and not options.get("ignore_password_expiry"):
        expires = now + dt.timedelta(days=cfg.password_expires_days)
    if (not self_service and cfg.change_password_upon_first_use
            and not options.get("ignore_change_password_upon_first_use")):
        expires = now
    hashed = await hasher(rt).hash_async(password)
    await tx.execute(insert(t.password).values(user_id=user_id, password_hash=hashed,
                                               created_at=now, expires_at=expires,
                                               self_service=self_service))


async def create_user(rt: Runtime, body: Mapping[str, Any], default_domain: str) -> dict[str, Any]:
    _validate(body, creating=True)
    cols = {k: v for k, v in body.items() if k in USER_COLUMNS}
    extra = {k: v for k, v in body.items() if k not in USER_COLUMNS and k not in RESERVED}
    password = body.get("password")
    if password:
        check_password_rules(rt, password)
    backends.refuse_domain_write(rt, cols.get("domain_id") or default_domain)
    async with rt.db.transaction() as tx:
        domain_id = cols.get("domain_id") or default_domain
        domain = await resource.get_row(tx.conn, domain_id)
        if domain is None or not domain["is_domain"]:
            raise NotFound(f"Could not find domain: {domain_id}.")
        row = {"id": new_id(), "name": cols["name"], "domain_id": domain_id,
               "enabled": cols.get("enabled", True),
               "default_project_id": cols.get("default_project_id"),
               "description": cols.get("description"), "options": cols.get("options") or {},
               "extra": extra, "created_at": utcnow(), "failed_auth_count": 0}
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(t.user).values(**row))
        except IntegrityError:
            raise Conflict(f"Conflict occurred attempting to store user - Duplicate entry found "
                           f"with name {row['name']} at domain ID {domain_id}.") from None
        if password:
            await _add_password(tx, rt, row["id"], password, row["options"], self_service=False)
        pw = await current_password(tx.conn, row["id"])
    return to_user(row, pw["expires_at"] if pw else None)


async def update_user(rt: Runtime, user_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    _validate(body, creating=False)
    cols = {k: v for k, v in body.items() if k in USER_COLUMNS}
    extra = {k: v for k, v in body.items() if k not in USER_COLUMNS and k not in RESERVED}
    async with rt.db.transaction() as tx:
        row = await get_row(tx.conn, user_id)
        if row is None:
            await backends.refuse_write(rt, tx.conn, user_id, "user")
            raise NotFound(f"Could not find user: {user_id}.")
        if "domain_id" in cols and cols["domain_id"] != row["domain_id"]:
            raise ValidationError("Update of `domain_id` is not allowed.")
        values: dict[str, Any] = dict(cols)
        if "options" in cols:
            merged = {**(row["options"] or {}), **cols["options"]}
            values["options"] = {k: v for k, v in merged.items() if v is not None}
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            try:
                async with tx.conn.begin_nested():
                    await tx.execute(update(t.user).where(t.user.c.id == user_id).values(**values))
            except IntegrityError:
                raise Conflict(f"Conflict occurred attempting to store user - Duplicate entry "
                               f"found with name {cols.get('name')}.") from None
        if body.get("password"):
            check_password_rules(rt, body["password"])
            await _add_password(tx, rt, user_id, body["password"],
                                values.get("options", row["options"]) or {}, self_service=False)
            await revoke.record(tx, rt, user_id=user_id)
        elif cols.get("enabled") is False and row["enabled"]:
            await revoke.record(tx, rt, user_id=user_id)
        cache.changed(tx, rt)
        new = await get_row(tx.conn, user_id)
        pw = await current_password(tx.conn, user_id)
    assert new is not None
    return to_user(new, pw["expires_at"] if pw else None)


async def delete_user(rt: Runtime, user_id: str) -> None:
    async with rt.db.transaction() as tx:
        if await get_row(tx.conn, user_id) is None:
            await backends.refuse_write(rt, tx.conn, user_id, "user")
            raise NotFound(f"Could not find user: {user_id}.")
        await tx.execute(delete(t.assignment).where(t.assignment.c.actor_id == user_id))
        await tx.execute(delete(t.user_group_membership).where(
            t.user_group_membership.c.user_id == user_id))
        await tx.execute(delete(t.application_credential).where(
            t.application_credential.c.user_id == user_id))
        await tx.execute(delete(t.credential).where(t.credential.c.user_id == user_id))
        await tx.execute(delete(t.user).where(t.user.c.id == user_id))
        await revoke.record(tx, rt, user_id=user_id)
        cache.changed(tx, rt)


async def change_password(
    rt: Runtime, user_id: str, original: Any, new: Any
) -> None:
    """The self-service ``POST /v3/users/{id}/password``."""
    if not isinstance(original, str) or not isinstance(new, str) or not new:
        raise ValidationError("Invalid input: 'original_password' and 'password' are required "
                              "strings.")
    cfg = rt.settings.identity
    async with rt.db.transaction() as tx:
        row = await get_row(tx.conn, user_id)
        if row is None:
            await backends.refuse_write(rt, tx.conn, user_id, "user")
            raise NotFound(f"Could not find user: {user_id}.")
        pw = await current_password(tx.conn, user_id)
        if pw is None or not await hasher(rt).verify_async(original, pw["password_hash"]):
            raise Unauthorized("Error when changing user password: The request you have made "
                               "requires authentication.")
        if (row["options"] or {}).get("lock_password"):
            raise BadRequest("You cannot change your password at this time due to password "
                             "policy disallowing password changes. Please contact your "
                             "administrator to reset your password.")
        age = utcnow() - pw["created_at"]
        if cfg.minimum_password_age and age < dt.timedelta(days=cfg.minimum_password_age):
            raise BadRequest(f"You cannot change your password at this time due to the minimum "
                             f"password age. Once you change your password, it must be used for "
                             f"{cfg.minimum_password_age} day(s) before it can be changed.")
        check_password_rules(rt, new)
        await _check_history(tx, rt, user_id, new)
        await _add_password(tx, rt, user_id, new, row["options"] or {}, self_service=True)
        await revoke.record(tx, rt, user_id=user_id)
        cache.changed(tx, rt)


async def _check_history(tx: Tx, rt: Runtime, user_id: str, new: str) -> None:
    count = rt.settings.identity.unique_last_password_count
    if count <= 1:
        return
    rows = await tx.execute(select(t.password.c.password_hash).where(
        t.password.c.user_id == user_id).order_by(t.password.c.id.desc()).limit(count))
    for r in rows:
        if await hasher(rt).verify_async(new, r.password_hash):
            raise BadRequest(f"The new password cannot be identical to a previous password. "
                             f"The total number which includes the new password must be unique "
                             f"is {count}.")


async def find_user_row(conn: Any, ref: Mapping[str, Any]) -> Mapping[str, Any]:
    """A user given by id, or by name and domain, as in auth requests."""
    if not isinstance(ref, Mapping):
        raise ValidationError("Invalid input for field 'user': an object is required.")
    if ref.get("id"):
        row = await get_row(conn, str(ref["id"]))
        what = ref["id"]
    elif ref.get("name"):
        if "domain" not in ref:
            raise ValidationError("Expecting to find domain in user. The server could not "
                                  "comply with the request since it is either malformed or "
                                  "otherwise incorrect. The client is assumed to be in error.")
        domain_id = await resource.find_domain_id(conn, ref["domain"])
        found = (await conn.execute(select(t.user).where(t.user.c.name == str(ref["name"]),
                                                         t.user.c.domain_id == domain_id))).first()
        row = found._mapping if found else None
        what = ref["name"]
    else:
        raise ValidationError("Expecting to find id or name in user.")
    if row is None:
        raise Unauthorized("The request you have made requires authentication.",
                           user=str(what))
    return row


async def authenticate(rt: Runtime, ref: Mapping[str, Any]) -> Mapping[str, Any]:
    """Check a password; apply lockout and expiry. Returns the user row."""
    password = ref.get("password") if isinstance(ref, Mapping) else None
    if not isinstance(password, str):
        raise ValidationError("Invalid input for field 'password': a string is required.")
    external = await backends.authenticate(rt, ref, password)
    if external is not None:
        return external
    cfg = rt.settings.identity
    async with rt.db.read() as conn:
        try:
            row = await find_user_row(conn, ref)
        except NotFound:
            raise Unauthorized("The request you have made requires authentication.") from None
        pw = await current_password(conn, row["id"])
    options = row["options"] or {}
    lockable = cfg.lockout_failure_attempts and not options.get("ignore_lockout_failure_attempts")
    if lockable and _locked(row, cfg.lockout_failure_attempts, cfg.lockout_duration):
        raise Unauthorized(f"The account is locked for user: {row['id']}.")
    if pw is None or not await hasher(rt).verify_async(password, pw["password_hash"]):
        if lockable:
            await _record_failure(rt, row)
        raise Unauthorized("The request you have made requires authentication.")
    if not row["enabled"]:
        raise Unauthorized(f"The account is disabled for user: {row['id']}.")
    if pw["expires_at"] is not None and pw["expires_at"] <= utcnow():
        raise Unauthorized(f"The password is expired and needs to be changed for user: "
                           f"{row['id']}.")
    await check_active(rt, row)
    track = bool(cfg.disable_user_account_days_inactive) and _stale_activity(row)
    if row["failed_auth_count"] or track:
        async with rt.db.transaction() as tx:
            await tx.execute(update(t.user).where(t.user.c.id == row["id"]).values(
                failed_auth_count=0, failed_auth_at=None,
                last_active_at=utcnow() if track else row["last_active_at"]))
    return row


def _stale_activity(row: Mapping[Any, Any]) -> bool:
    last = row["last_active_at"]
    return last is None or last.date() != utcnow().date()


def _locked(row: Mapping[Any, Any], attempts: int, duration: int) -> bool:
    if row["failed_auth_count"] < attempts or row["failed_auth_at"] is None:
        return False
    return bool(utcnow() < row["failed_auth_at"] + dt.timedelta(seconds=duration))


async def _record_failure(rt: Runtime, row: Mapping[Any, Any]) -> None:
    async with rt.db.transaction() as tx:
        await tx.execute(update(t.user).where(t.user.c.id == row["id"]).values(
            failed_auth_count=t.user.c.failed_auth_count + 1, failed_auth_at=utcnow()))


async def check_active(rt: Runtime, user_row: Mapping[Any, Any]) -> None:
    """Keystone's disable_user_account_days_inactive."""
    days = rt.settings.identity.disable_user_account_days_inactive
    last = user_row["last_active_at"]
    if days and last and not (user_row["options"] or {}).get("ignore_user_inactivity"):
        if utcnow() - last > dt.timedelta(days=days):
            raise Unauthorized(f"The account is disabled for user: {user_row['id']}.")


def enabled_filter(value: str) -> bool:
    return parse_bool("enabled", value)
