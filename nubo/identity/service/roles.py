"""Roles (global and domain-specific) and implied roles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.db.base import new_id
from nubo.core.errors import Conflict, Forbidden, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.service import cache, resource
from nubo.identity.service.filters import filtered

ROLE_OPTIONS = frozenset({"immutable"})
# Keystone's [assignment] prohibited_implied_role default
PROHIBITED_IMPLIED = frozenset({"admin"})


def to_role(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], name=row["name"], options=row["options"] or {},
               domain_id=None if row["domain_id"] == t.NULL_DOMAIN else row["domain_id"],
               description=row["description"])
    return out


async def get_row(conn: Any, role_id: str) -> Mapping[str, Any] | None:
    row = (await conn.execute(select(t.role).where(t.role.c.id == role_id))).first()
    return row._mapping if row else None


async def require(conn: Any, role_id: str) -> Mapping[str, Any]:
    row = await get_row(conn, role_id)
    if row is None:
        raise NotFound(f"Could not find role: {role_id}.")
    return row


async def get_role(rt: Runtime, role_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return to_role(await require(conn, role_id))


async def list_roles(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    domain = filters.get("domain_id") or t.NULL_DOMAIN
    q, params = filtered(t.role, {**filters, "domain_id": domain}, exact=("domain_id", "id"),
                         text=("name",), order_by="name")
    async with rt.db.read() as conn:
        return [to_role(r._mapping) for r in await conn.execute(q, params)]


def _validate(body: Mapping[str, Any], *, creating: bool) -> None:
    if creating or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ValidationError("Invalid input for field 'name': a non-empty string of at most "
                                  "255 characters is required.")
    options = body.get("options", {})
    if not isinstance(options, dict) or set(options) - ROLE_OPTIONS:
        raise ValidationError("Invalid input for field 'options': the only role option is "
                              "'immutable'.")
    if "immutable" in options and not isinstance(options["immutable"], (bool, type(None))):
        raise ValidationError("Invalid input for field 'options.immutable': a boolean.")
    if "description" in body and not isinstance(body["description"], (str, type(None))):
        raise ValidationError("Invalid input for field 'description': a string is required.")


async def create_role(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    _validate(body, creating=True)
    domain_id = body.get("domain_id") or t.NULL_DOMAIN
    extra = {k: v for k, v in body.items()
             if k not in ("id", "name", "domain_id", "description", "options", "links")}
    row = {"id": new_id(), "name": body["name"], "domain_id": domain_id,
           "description": body.get("description"), "options": body.get("options") or {},
           "extra": extra}
    async with rt.db.transaction() as tx:
        if domain_id != t.NULL_DOMAIN:
            domain = await resource.get_row(tx.conn, domain_id)
            if domain is None or not domain["is_domain"]:
                raise ValidationError(f"Could not find domain: {domain_id}.")
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(t.role).values(**row))
        except IntegrityError:
            raise Conflict(f"Conflict occurred attempting to store role - Duplicate entry found "
                           f"with name {row['name']}.") from None
    return to_role(row)


async def update_role(rt: Runtime, role_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    _validate(body, creating=False)
    async with rt.db.transaction() as tx:
        row = await require(tx.conn, role_id)
        options = dict(row["options"] or {})
        if options.get("immutable") and not (set(body) <= {"options"} and
                                              body["options"].get("immutable") is not True):
            raise Forbidden(f"Role {role_id} is immutable and cannot be updated; set the "
                            f"immutable option to false first.")
        if "domain_id" in body and (body["domain_id"] or t.NULL_DOMAIN) != row["domain_id"]:
            raise ValidationError("Update of `domain_id` is not allowed.")
        values: dict[str, Any] = {k: body[k] for k in ("name", "description") if k in body}
        if "options" in body:
            merged = {**options, **body["options"]}
            values["options"] = {k: v for k, v in merged.items() if v is not None}
        extra = {k: v for k, v in body.items()
                 if k not in ("id", "name", "domain_id", "description", "options", "links")}
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            try:
                async with tx.conn.begin_nested():
                    await tx.execute(update(t.role).where(t.role.c.id == role_id).values(**values))
            except IntegrityError:
                raise Conflict(f"Conflict occurred attempting to store role - Duplicate entry "
                               f"found with name {body.get('name')}.") from None
        cache.changed(tx, rt)
        new = await require(tx.conn, role_id)
    return to_role(new)


async def delete_role(rt: Runtime, role_id: str) -> None:
    async with rt.db.transaction() as tx:
        row = await require(tx.conn, role_id)
        if (row["options"] or {}).get("immutable"):
            raise Forbidden(f"Role {role_id} is immutable and cannot be deleted.")
        await tx.execute(delete(t.assignment).where(t.assignment.c.role_id == role_id))
        await tx.execute(delete(t.implied_role).where(
            (t.implied_role.c.prior_role_id == role_id)
            | (t.implied_role.c.implied_role_id == role_id)))
        await tx.execute(delete(t.role).where(t.role.c.id == role_id))
        cache.changed(tx, rt)


async def create_implied_role(rt: Runtime, prior_id: str, implied_id: str) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        prior = await require(tx.conn, prior_id)
        implied = await require(tx.conn, implied_id)
        if prior_id == implied_id:
            raise Forbidden(f"Role {prior_id} cannot imply itself.")
        if implied["name"] in PROHIBITED_IMPLIED and implied["domain_id"] == t.NULL_DOMAIN:
            raise Forbidden(f"{implied['name']} role may not be an implied role.")
        if prior["domain_id"] == t.NULL_DOMAIN and implied["domain_id"] != t.NULL_DOMAIN:
            raise Forbidden(f"Global role {prior_id} cannot imply the domain-specific role "
                            f"{implied_id}.")
        graph = await _graph(tx.conn)
        if prior_id in _closure(graph, [implied_id]):
            raise Forbidden(f"Implying {implied_id} from {prior_id} would make a cycle.")
        existing = graph.get(prior_id, set())
        if implied_id not in existing:
            await tx.execute(insert(t.implied_role).values(prior_role_id=prior_id,
                                                           implied_role_id=implied_id))
        cache.changed(tx, rt)
    return {"prior_role": _brief(prior), "implies": _brief(implied)}


def _brief(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"]}


async def get_implied_role(rt: Runtime, prior_id: str, implied_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        prior = await require(conn, prior_id)
        implied = await require(conn, implied_id)
        found = (await conn.execute(select(t.implied_role).where(
            t.implied_role.c.prior_role_id == prior_id,
            t.implied_role.c.implied_role_id == implied_id))).first()
    if found is None:
        raise NotFound(f"{prior_id} does not imply {implied_id}.")
    return {"prior_role": _brief(prior), "implies": _brief(implied)}


async def delete_implied_role(rt: Runtime, prior_id: str, implied_id: str) -> None:
    await get_implied_role(rt, prior_id, implied_id)
    async with rt.db.transaction() as tx:
        await tx.execute(delete(t.implied_role).where(
            t.implied_role.c.prior_role_id == prior_id,
            t.implied_role.c.implied_role_id == implied_id))
        cache.changed(tx, rt)


async def list_implied_roles(rt: Runtime, prior_id: str | None) -> list[dict[str, Any]]:
    """Role inferences, each ``{"prior_role": …, "implies": [...]}``."""
    async with rt.db.read() as conn:
        if prior_id is not None:
            await require(conn, prior_id)
        q = select(t.implied_role)
        if prior_id is not None:
            q = q.where(t.implied_role.c.prior_role_id == prior_id)
        pairs = [(r.prior_role_id, r.implied_role_id) for r in await conn.execute(q)]
        ids = {p for p, _ in pairs} | {i for _, i in pairs} | ({prior_id} if prior_id else set())
        rows = {r.id: r._mapping for r in await conn.execute(
            select(t.role).where(t.role.c.id.in_(ids)))}
    out: dict[str, dict[str, Any]] = {}
    if prior_id is not None:
        out[prior_id] = {"prior_role": _brief(rows[prior_id]), "implies": []}
    for prior, implied in pairs:
        entry = out.setdefault(prior, {"prior_role": _brief(rows[prior]), "implies": []})
        entry["implies"].append(_brief(rows[implied]))
    return list(out.values())


async def _graph(conn: Any) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for r in await conn.execute(select(t.implied_role)):
        graph.setdefault(r.prior_role_id, set()).add(r.implied_role_id)
    return graph


def _closure(graph: Mapping[str, set[str]], start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        role = stack.pop()
        if role in seen:
            continue
        seen.add(role)
        stack.extend(graph.get(role, ()))
    return seen


async def expand(conn: Any, role_ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Role ids plus every role they imply, transitively: id -> (name, prior id)."""
    graph = await _graph(conn)
    direct = set(role_ids)
    prior_of: dict[str, str | None] = dict.fromkeys(direct)
    stack = list(direct)
    while stack:
        role = stack.pop()
        for implied in graph.get(role, ()):
            if implied not in prior_of:
                prior_of[implied] = role
                stack.append(implied)
    rows = await conn.execute(select(t.role.c.id, t.role.c.name, t.role.c.domain_id)
                              .where(t.role.c.id.in_(prior_of)))
    return {r.id: (r.name, prior_of[r.id]) for r in rows if r.domain_id == t.NULL_DOMAIN}
