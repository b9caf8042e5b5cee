"""Issuing and validating tokens.

Tokens are Fernet tokens (``nubo.identity.fernet``): nothing is stored per
token. Validation is local to each API process: decrypt, check the revocation
index, then load what the token grants (user, scope, roles) — cached per token
until an identity change or a revocation clears the cache.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import select

from nubo.core.auth.context import RequestContext
from nubo.core.errors import Forbidden, NotFound, Unauthorized, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.fernet import (
    ExpiredToken,
    InvalidToken,
    KeyRepository,
    TokenFormatter,
    TokenPayload,
    new_audit_id,
)
from nubo.identity.service import app_creds, assignments, resource, revoke, trusts, users
from nubo.identity.service.catalog import catalog_for

STATE = "identity.tokens"
SUPPORTED_METHODS = ("password", "token", "application_credential")
MAX_CACHE = 10000
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class TokenData:
    """A validated token: the payload plus what it grants right now."""

    token: str
    payload: TokenPayload
    user: dict[str, Any]
    user_domain: dict[str, Any]
    project: dict[str, Any] | None
    project_domain: dict[str, Any] | None
    domain: dict[str, Any] | None
    roles: tuple[dict[str, str], ...]
    app_cred: dict[str, Any] | None
    trust: dict[str, Any] | None = None

    def context(self, request_id: str = "") -> RequestContext:
        p = self.payload
        return RequestContext(
            user_id=p.user_id, user_name=self.user["name"],
            user_domain_id=self.user_domain["id"], user_domain_name=self.user_domain["name"],
            project_id=p.project_id,
            project_name=self.project["name"] if self.project else None,
            project_domain_id=self.project_domain["id"] if self.project_domain else None,
            project_domain_name=self.project_domain["name"] if self.project_domain else None,
            domain_id=p.domain_id, domain_name=self.domain["name"] if self.domain else None,
            system_scope=p.system, roles=tuple(r["name"].lower() for r in self.roles),
            role_ids=tuple(r["id"] for r in self.roles), auth_token=self.token,
            methods=p.methods, audit_ids=p.audit_ids, issued_at=p.issued_at,
            expires_at=p.expires_at, app_cred_id=p.app_cred_id, trust_id=p.trust_id,
            request_id=request_id,
            extra={"app_cred_unrestricted": bool(self.app_cred["unrestricted"])}
            if self.app_cred else {},
        )

    def revocation_ids(self) -> dict[str, str | None]:
        p = self.payload
        ids: dict[str, str | None] = {
            "user_id": p.user_id, "project_id": p.project_id, "domain_id": p.domain_id,
            "domain_id2": self.user_domain["id"],
            "domain_id3": self.project_domain["id"] if self.project_domain else None,
            "trust_id": p.trust_id, "app_cred_id": p.app_cred_id,
        }
        for n, audit in enumerate(p.audit_ids):
            ids[f"audit_id{n}"] = audit
        return ids


@dataclass
class TokenState:
    """Per-process: the formatter, the revocation index and the validation cache."""

    formatter: TokenFormatter
    revocations: revoke.RevocationIndex
    # token -> (what it grants, until when (monotonic) that may be trusted: cache_time)
    cache: dict[str, tuple[TokenData, float]] = field(default_factory=dict)
    # the keys the cached tokens were decrypted with: after a rotation each token is
    # decrypted again, so one whose key was dropped is refused
    keys: tuple[bytes, ...] = ()
    # what a (user, scope, app credential) is granted, which scopes a user may request,
    # and users' password expiry: the same data the per-token cache holds, shared by
    # every token with that key, so issuing a token costs (almost) no queries. Cleared
    # with the token cache; a load that raced with a clear is not stored (``generation``).
    grants: dict[tuple[Any, ...], TokenData] = field(default_factory=dict)
    password_expiry: dict[str, str | None] = field(default_factory=dict)
    scopes: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    generation: int = 0

    def clear_cache(self) -> None:
        self.cache.clear()
        self.grants.clear()
        self.password_expiry.clear()
        self.scopes.clear()
        self.generation += 1

    async def cached(self, table: dict[K, V], key: K, load: Callable[[], Awaitable[V]]) -> V:
        """``table[key]``, loaded on a miss; not stored when a clear raced the load."""
        if key in table:
            return table[key]
        generation = self.generation
        value = await load()
        if generation == self.generation:
            if len(table) >= MAX_CACHE:
                table.clear()
            table[key] = value
        return value


async def start(rt: Runtime) -> TokenState:
    repo = KeyRepository(rt.settings.key_repository)
    repo.setup()
    window = dt.timedelta(seconds=rt.settings.identity.token_expiration
                          + rt.settings.identity.allow_expired_window)
    state = TokenState(TokenFormatter(repo), await revoke.load(rt, window))
    rt.state[STATE] = state
    return state


def state_of(rt: Runtime) -> TokenState:
    return rt.state[STATE]  # type: ignore[no-any-return]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- validation


async def validate(rt: Runtime, token: str, *, allow_expired: bool = False) -> TokenData:
    """The token's data, or InvalidToken (expired, revoked, or no longer grantable)."""
    state = await _current(rt)
    hit = state.cache.get(token)
    if hit is None or time.monotonic() >= hit[1]:
        return await _admit(rt, state, token, _decrypt(rt, state, token, allow_expired))
    data = hit[0]
    if not allow_expired and _now() >= data.payload.expires_at:
        raise ExpiredToken()
    _check_revocation(state, data)
    return data


async def _current(rt: Runtime) -> TokenState:
    """This process's token state, caught up with revocations and key rotations."""
    await revoke.catch_up(rt)
    state = state_of(rt)
    keys = state.formatter.keys()
    if keys is not state.keys:
        state.cache.clear()
        state.keys = keys
    return state


async def _admit(rt: Runtime, state: TokenState, token: str, payload: TokenPayload
                 ) -> TokenData:
    """What a token with ``payload`` grants, remembered for the next validation;
    InvalidToken when it is revoked."""
    data = await _load(rt, token, payload)
    if len(state.cache) >= MAX_CACHE:
        state.cache.clear()
    state.cache[token] = (data, time.monotonic() + rt.settings.identity.cache_time)
    _check_revocation(state, data)
    return data


def _check_revocation(state: TokenState, data: TokenData) -> None:
    if state.revocations.is_revoked(_naive(data.payload.issued_at), data.revocation_ids()):
        raise InvalidToken("The token has been revoked.")


def _decrypt(rt: Runtime, state: TokenState, token: str, allow_expired: bool) -> TokenPayload:
    if not allow_expired:
        return state.formatter.validate(token)
    window = dt.timedelta(seconds=rt.settings.identity.allow_expired_window)
    payload = state.formatter.validate(token, now=_now() - window)
    return payload


async def validate_context(rt: Runtime, token: str, request_id: str) -> RequestContext:
    """The validator every API's authentication uses (``Runtime.validate_token``)."""
    data = await validate(rt, token)
    return data.context(request_id)


async def _load(rt: Runtime, token: str, p: TokenPayload) -> TokenData:
    state = state_of(rt)
    key = (p.user_id, p.project_id, p.domain_id, p.system, p.app_cred_id, p.trust_id)
    grant = await state.cached(state.grants, key, lambda: _load_grant(rt, token, p))
    return replace(grant, token=token, payload=p)


async def _load_grant(rt: Runtime, token: str, p: TokenPayload) -> TokenData:
    async with rt.db.read() as conn:
        user = await users.lookup_row(rt, conn, p.user_id)
        if user is None or not user["enabled"]:
            raise InvalidToken("The user of this token is disabled or gone.")
        user_domain = await _enabled_domain(conn, user["domain_id"])
        project = project_domain = domain = None
        if p.project_id:
            project = await _enabled_project(conn, p.project_id)
            project_domain = await _enabled_domain(conn, project["domain_id"])
            roles = await assignments.effective_roles(conn, p.user_id, "project", p.project_id,
                                                      rt=rt)
        elif p.domain_id:
            domain = await _enabled_domain(conn, p.domain_id)
            roles = await assignments.effective_roles(conn, p.user_id, "domain", p.domain_id,
                                                      rt=rt)
        elif p.system:
            roles = await assignments.effective_roles(conn, p.user_id, "system",
                                                      assignments.SYSTEM, rt=rt)
        else:
            roles = []
        app_cred = None
        if p.app_cred_id:
            app_cred = await app_creds.for_token(conn, p.app_cred_id)
            if app_cred is None:
                raise InvalidToken("The application credential of this token is gone.")
            allowed = {r["id"] for r in app_cred["roles"]}
            roles = [r for r in roles if r["id"] in allowed]
        trust = None
        if p.trust_id:
            trust = await trusts.for_token(rt, conn, p.trust_id)
            if trust is None:
                raise InvalidToken("The trust of this token is gone or expired.")
            roles = trust["roles"]
    if p.scope_id and not roles:
        raise InvalidToken(f"User {p.user_id} has no roles on the token's scope any more.")
    return TokenData(
        token=token, payload=p, user=dict(user), user_domain=user_domain,
        project=project, project_domain=project_domain, domain=domain, roles=tuple(roles),
        app_cred=app_cred, trust=trust,
    )


async def _enabled_domain(conn: Any, domain_id: str) -> dict[str, Any]:
    row = await resource.get_row(conn, domain_id)
    if row is None or not row["is_domain"] or not row["enabled"]:
        raise InvalidToken(f"Domain {domain_id} is disabled or gone.")
    return {"id": row["id"], "name": row["name"]}


async def _enabled_project(conn: Any, project_id: str) -> dict[str, Any]:
    row = await resource.get_row(conn, project_id)
    if row is None or not row["enabled"]:
        raise InvalidToken(f"Project {project_id} is disabled or gone.")
    return {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
            "is_domain": row["is_domain"]}


# ---------------------------------------------------------------- issuing


@dataclass
class Identity:
    """Who authenticated and how, before scoping."""

    user_id: str
    methods: list[str]
    expires_at: dt.datetime | None = None
    audit_parent: str | None = None
    app_cred: dict[str, Any] | None = None
    parent: TokenPayload | None = None
    default_project_id: str | None = None


async def issue(rt: Runtime, auth: Any) -> tuple[str, TokenData]:
    """``POST /v3/auth/tokens``: authenticate, scope, and mint a token."""
    if not isinstance(auth, Mapping) or not isinstance(auth.get("identity"), Mapping):
        raise ValidationError("Expecting to find identity in auth.")
    who = await _authenticate(rt, auth["identity"])
    scope = await _resolve_scope(rt, who, auth.get("scope"))
    now = _now()
    expires = now + dt.timedelta(seconds=rt.settings.identity.token_expiration)
    if who.expires_at is not None:
        expires = min(expires, who.expires_at)
    audit_ids = (new_audit_id(), who.audit_parent) if who.audit_parent else (new_audit_id(),)
    payload = TokenPayload(
        user_id=who.user_id, methods=tuple(who.methods), expires_at=expires,
        audit_ids=audit_ids, issued_at=now,
        app_cred_id=who.app_cred["id"] if who.app_cred else None, **scope,
    )
    state = await _current(rt)
    # the new token as a validation would read it back, without decrypting it again
    token, payload = state.formatter.issue(payload)
    try:
        if _now() >= payload.expires_at:
            raise ExpiredToken()
        data = await _admit(rt, state, token, payload)
    except InvalidToken as e:
        raise Unauthorized(str(e.message)) from None
    return token, data


async def _authenticate(rt: Runtime, identity: Mapping[str, Any]) -> Identity:
    methods = identity.get("methods")
    if not isinstance(methods, list) or not methods or not all(
            isinstance(m, str) for m in methods):
        raise ValidationError("Invalid input for field 'identity.methods': a non-empty list of "
                              "method names is required.")
    for m in methods:
        if m not in SUPPORTED_METHODS:
            raise Unauthorized("Attempted to authenticate with an unsupported method.")
        if not isinstance(identity.get(m), Mapping):
            raise ValidationError(f"Expecting to find {m} in identity.")
    found: list[Identity] = []
    for m in dict.fromkeys(methods):
        if m == "password":
            found.append(await _password(rt, identity["password"]))
        elif m == "token":
            found.append(await _token(rt, identity["token"]))
        else:
            found.append(await _app_cred(rt, identity["application_credential"]))
    who = found[0]
    if any(f.user_id != who.user_id for f in found):
        raise Unauthorized("The methods of this request identify different users.")
    merged = [m for f in found for m in f.methods]
    who.methods = list(dict.fromkeys(merged))
    return who


async def _password(rt: Runtime, body: Mapping[str, Any]) -> Identity:
    user_ref = body.get("user")
    if not isinstance(user_ref, Mapping):
        raise ValidationError("Invalid input for field 'identity.password.user': an object "
                              "is required.")
    row = await users.authenticate(rt, user_ref)
    async with rt.db.read() as conn:
        domain = await resource.get_row(conn, row["domain_id"])
    if domain is None or not domain["enabled"]:
        raise Unauthorized(f"Domain {row['domain_id']} is disabled.")
    return Identity(row["id"], ["password"], default_project_id=row["default_project_id"])


async def _token(rt: Runtime, body: Mapping[str, Any]) -> Identity:
    token = body.get("id")
    if not isinstance(token, str):
        raise ValidationError("Invalid input for field 'identity.token.id': a string.")
    try:
        data = await validate(rt, token)
    except InvalidToken:
        # Keystone's token method validates like X-Subject-Token: a revoked, expired or
        # foreign token is "not found" (404), not a failed authentication.
        raise NotFound(f"Could not find token: {token}.") from None
    p = data.payload
    if p.app_cred_id:
        raise Unauthorized("A token created with an application credential cannot be used to "
                           "get another token.")
    if p.trust_id:
        raise Forbidden("A trust-scoped token cannot be used to get another token.")
    return Identity(p.user_id, ["token", *p.methods], expires_at=p.expires_at,
                    audit_parent=p.audit_ids[0], parent=p)


async def _app_cred(rt: Runtime, body: Mapping[str, Any]) -> Identity:
    cred = await app_creds.authenticate(rt, body)
    return Identity(cred["user_id"], ["application_credential"],
                    expires_at=cred["expires_at"], app_cred=cred)


async def _resolve_scope(rt: Runtime, who: Identity, scope: Any) -> dict[str, str]:
    """The requested scope, checked: the user must hold a role on it."""
    if who.app_cred is not None:
        return await _app_cred_scope(who, scope)
    if scope is None or scope == "unscoped":
        if who.parent is not None or not who.default_project_id or scope == "unscoped":
            return {}
        return await _default_project(rt, who)
    if not isinstance(scope, Mapping) or len(scope) != 1:
        raise ValidationError("Invalid input for field 'scope': exactly one of project, domain "
                              "or system.")
    if "OS-TRUST:trust" in scope:
        return await _trust_scope(rt, who, scope["OS-TRUST:trust"])
    # a granted scope is cached like a token's grants (and cleared with them); refusals
    # are not cached
    state = state_of(rt)
    key = (who.user_id, json.dumps(scope, sort_keys=True, default=str))
    granted = await state.cached(state.scopes, key, lambda: _check_scope(rt, who, scope))
    return dict(granted)


async def _check_scope(rt: Runtime, who: Identity, scope: Mapping[str, Any]) -> dict[str, str]:
    kind, ref = next(iter(scope.items()))
    async with rt.db.read() as conn:
        if kind == "project":
            project_id = await _find_project(conn, ref)
            project = await resource.get_row(conn, project_id)
            if project is None or not project["enabled"]:
                raise Unauthorized(f"Project {project_id} is disabled.")
            dom = await resource.get_row(conn, project["domain_id"])
            if dom is not None and not dom["enabled"] and not project["is_domain"]:
                raise Unauthorized(f"Domain {project['domain_id']} is disabled.")
            if not await assignments.direct_role_ids(conn, who.user_id, "project", project_id,
                                                        rt=rt):
                raise Unauthorized(f"User {who.user_id} has no access to project {project_id}.")
            return {"project_id": project_id}
        if kind == "domain":
            domain_id = await resource.find_domain_id(conn, ref)
            dom = await resource.get_row(conn, domain_id)
            if dom is None or not dom["enabled"]:
                raise Unauthorized(f"Domain {domain_id} is disabled.")
            if not await assignments.direct_role_ids(conn, who.user_id, "domain", domain_id,
                                                        rt=rt):
                raise Unauthorized(f"User {who.user_id} has no access to domain {domain_id}.")
            return {"domain_id": domain_id}
        if kind == "system":
            if not isinstance(ref, Mapping) or ref.get("all") is not True:
                raise ValidationError("Invalid input for field 'scope.system': {\"all\": true}.")
            if not await assignments.has_system_roles(conn, who.user_id, rt=rt):
                raise Unauthorized(f"User {who.user_id} has no access to the system.")
            return {"system": "all"}
    raise ValidationError(f"Invalid input for field 'scope': unknown scope {kind!r}.")


async def _trust_scope(rt: Runtime, who: Identity, ref: Any) -> dict[str, str]:
    """Spend a use of the trust (never cached); with impersonation the token's user
    becomes the trustor, and the token never outlives the trust."""
    if not isinstance(ref, Mapping) or not isinstance(ref.get("id"), str):
        raise ValidationError("Invalid input for field 'scope.OS-TRUST:trust': an id.")
    trust = await trusts.consume(rt, ref["id"], who.user_id)
    if trust["impersonation"]:
        who.user_id = trust["trustor_user_id"]
    if trust["expires_at"] is not None:
        ends = trust["expires_at"].replace(tzinfo=dt.UTC)
        who.expires_at = min(who.expires_at, ends) if who.expires_at else ends
    scope = {"trust_id": trust["id"]}
    if trust["project_id"]:
        scope["project_id"] = trust["project_id"]
    return scope


async def _default_project(rt: Runtime, who: Identity) -> dict[str, str]:
    """An unscoped password request lands on the user's default project when it can."""
    assert who.default_project_id
    async with rt.db.read() as conn:
        project = await resource.get_row(conn, who.default_project_id)
        if project is None or not project["enabled"]:
            return {}
        if not await assignments.direct_role_ids(conn, who.user_id, "project", project["id"],
                                                    rt=rt):
            return {}
    return {"project_id": project["id"]}


async def _app_cred_scope(who: Identity, scope: Any) -> dict[str, str]:
    cred = who.app_cred
    assert cred is not None
    if cred.get("system"):
        return {"system": cred["system"]}
    wanted = scope.get("project") if isinstance(scope, Mapping) else None
    if wanted and isinstance(wanted, Mapping) and wanted.get("id") not in (None,
                                                                           cred["project_id"]):
        raise Unauthorized("Application credentials cannot request a scope.")
    return {"project_id": cred["project_id"]}


async def _find_project(conn: Any, ref: Any) -> str:
    if not isinstance(ref, Mapping):
        raise ValidationError("Invalid input for field 'scope.project': an object.")
    if ref.get("id"):
        row = await resource.get_row(conn, str(ref["id"]))
        if row is None:
            raise Unauthorized(f"Could not find project: {ref['id']}.")
        return str(row["id"])
    if not ref.get("name") or "domain" not in ref:
        raise ValidationError("Expecting to find a project id, or name and domain.")
    domain_id = await resource.find_domain_id(conn, ref["domain"])
    row2 = (await conn.execute(select(t.project.c.id).where(
        t.project.c.name == str(ref["name"]), t.project.c.domain_id == domain_id))).first()
    if row2 is None:
        raise Unauthorized(f"Could not find project: {ref['name']}.")
    return str(row2.id)


# ---------------------------------------------------------------- revocation


async def revoke_token(rt: Runtime, data: TokenData) -> None:
    async with rt.db.transaction() as tx:
        await revoke.record(tx, rt, audit_id=data.payload.audit_ids[0])


# ---------------------------------------------------------------- rendering


def _iso(value: dt.datetime) -> str:
    return _naive(value).isoformat(timespec="microseconds") + "Z"


async def render(rt: Runtime, data: TokenData, *, catalog: bool = True) -> dict[str, Any]:
    p = data.payload
    pw_expiry = await _password_expiry(rt, p.user_id)
    body: dict[str, Any] = {
        "methods": list(p.methods),
        "user": {"id": p.user_id, "name": data.user["name"], "domain": data.user_domain,
                 "password_expires_at": pw_expiry},
        "audit_ids": list(p.audit_ids),
        "expires_at": _iso(p.expires_at),
        "issued_at": _iso(p.issued_at),
    }
    if data.project is not None and data.project_domain is not None:
        body["project"] = {"id": data.project["id"], "name": data.project["name"],
                           "domain": data.project_domain}
        body["is_domain"] = bool(data.project["is_domain"])
    elif data.domain is not None:
        body["domain"] = data.domain
    elif p.system:
        body["system"] = {p.system: True}
    if p.scope_id:
        body["roles"] = [dict(r) for r in data.roles]
        if catalog:
            body["catalog"] = await catalog_for(rt, p.project_id, p.user_id)
    if data.app_cred is not None:
        body["application_credential"] = {
            "id": data.app_cred["id"], "name": data.app_cred["name"],
            "restricted": not data.app_cred["unrestricted"],
        }
    if data.trust is not None:
        body["OS-TRUST:trust"] = {k: data.trust[k] for k in (
            "id", "impersonation", "trustor_user", "trustee_user")}
    return {"token": body}


async def _password_expiry(rt: Runtime, user_id: str) -> str | None:
    async def load() -> str | None:
        async with rt.db.read() as conn:
            pw = await users.current_password(conn, user_id)
        if pw is None or pw["expires_at"] is None:
            return None
        return str(pw["expires_at"].strftime("%Y-%m-%dT%H:%M:%S.%f"))

    state = state_of(rt)
    return await state.cached(state.password_expiry, user_id, load)


async def require_subject(rt: Runtime, token: str | None, *, allow_expired: bool) -> TokenData:
    """The X-Subject-Token of a validate or revoke call; 404 when it is not valid."""
    if not token:
        raise ValidationError("X-Subject-Token is required.")
    try:
        return await validate(rt, token, allow_expired=allow_expired)
    except InvalidToken:
        raise NotFound(f"Could not find token: {token}.") from None
