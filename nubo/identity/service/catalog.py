"""Regions, services and endpoints, and the service catalog in tokens."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.db.base import new_id
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.service.filters import filtered, parse_bool

INTERFACES = ("public", "internal", "admin")
CATALOG_KEY = "identity.catalog"
SUBST = re.compile(r"\$\((\w+)\)s|%\((\w+)\)s")


def changed(tx: Tx, rt: Runtime) -> None:
    """After commit, every process drops its cached catalog (endpoints or their
    project associations changed)."""
    tx.after_commit.append(lambda: rt.state.pop(CATALOG_KEY, None))
    tx.publish("identity.catalog.changed", {})


def invalidate(rt: Runtime) -> None:
    rt.state.pop(CATALOG_KEY, None)


async def on_message(rt: Runtime, _env: Any) -> None:
    invalidate(rt)


# ---------------------------------------------------------------- regions


def to_region(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], description=row["description"] or "",
               parent_region_id=row["parent_region_id"])
    return out


async def _region(conn: Any, region_id: str) -> Mapping[str, Any] | None:
    row = (await conn.execute(select(t.region).where(t.region.c.id == region_id))).first()
    return row._mapping if row else None


async def get_region(rt: Runtime, region_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await _region(conn, region_id)
    if row is None:
        raise NotFound(f"Could not find region: {region_id}.")
    return to_region(row)


async def list_regions(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q, params = filtered(t.region, filters, exact=("parent_region_id",), order_by="id")
    async with rt.db.read() as conn:
        return [to_region(r._mapping) for r in await conn.execute(q, params)]


async def create_region(rt: Runtime, body: Mapping[str, Any], region_id: str | None = None
                        ) -> dict[str, Any]:
    rid = region_id or body.get("id") or new_id()
    if not isinstance(rid, str) or len(rid) > 255:
        raise ValidationError("Invalid input for field 'id': a string of at most 255 characters.")
    if "description" in body and not isinstance(body["description"], (str, type(None))):
        raise ValidationError("Invalid input for field 'description': a string is required.")
    extra = {k: v for k, v in body.items() if k not in ("id", "description",
                                                         "parent_region_id", "links")}
    row = {"id": rid, "description": body.get("description") or "",
           "parent_region_id": body.get("parent_region_id"), "extra": extra}
    async with rt.db.transaction() as tx:
        if row["parent_region_id"]:
            await _check_parent(tx.conn, rid, str(row["parent_region_id"]))
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(t.region).values(**row))
        except IntegrityError:
            raise Conflict(f"Conflict occurred attempting to store region - Duplicate ID, "
                           f"{rid}.") from None
        changed(tx, rt)
    return to_region(row)


async def _check_parent(conn: Any, region_id: str, parent_id: str) -> None:
    seen = {region_id}
    current: str | None = parent_id
    while current:
        if current in seen:
            raise BadRequest(f"Circular reference or a repeated entry found in region tree - "
                             f"{region_id}.")
        seen.add(current)
        row = await _region(conn, current)
        if row is None:
            raise ValidationError(f"Could not find region: {current}.")
        current = row["parent_region_id"]


async def update_region(rt: Runtime, region_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        row = await _region(tx.conn, region_id)
        if row is None:
            raise NotFound(f"Could not find region: {region_id}.")
        values: dict[str, Any] = {k: body[k] for k in ("description", "parent_region_id")
                                  if k in body}
        if values.get("parent_region_id"):
            await _check_parent(tx.conn, region_id, values["parent_region_id"])
        extra = {k: v for k, v in body.items() if k not in ("id", "description",
                                                             "parent_region_id", "links")}
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            await tx.execute(update(t.region).where(t.region.c.id == region_id).values(**values))
        changed(tx, rt)
        new = await _region(tx.conn, region_id)
    assert new is not None
    return to_region(new)


async def delete_region(rt: Runtime, region_id: str) -> None:
    async with rt.db.transaction() as tx:
        if await _region(tx.conn, region_id) is None:
            raise NotFound(f"Could not find region: {region_id}.")
        child = (await tx.execute(select(t.region.c.id).where(
            t.region.c.parent_region_id == region_id).limit(1))).first()
        if child:
            raise Forbidden(f"Unable to delete region {region_id} because it or its child "
                            f"regions have associated endpoints.")
        await tx.execute(delete(t.region).where(t.region.c.id == region_id))
        changed(tx, rt)


# ---------------------------------------------------------------- services


def to_service(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], type=row["type"], enabled=row["enabled"])
    return out


async def _service(conn: Any, service_id: str) -> Mapping[Any, Any]:
    row = (await conn.execute(select(t.service).where(t.service.c.id == service_id))).first()
    if row is None:
        raise NotFound(f"Could not find service: {service_id}.")
    found: Mapping[Any, Any] = row._mapping
    return found


async def get_service(rt: Runtime, service_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return to_service(await _service(conn, service_id))


async def list_services(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q, params = filtered(t.service, filters, exact=("type",))
    async with rt.db.read() as conn:
        out = [to_service(r._mapping) for r in await conn.execute(q, params)]
    if "name" in filters:
        out = [s for s in out if s.get("name") == filters["name"]]
    return out


def _check_service(body: Mapping[str, Any], creating: bool) -> None:
    if creating or "type" in body:
        kind = body.get("type")
        if not isinstance(kind, str) or not kind or len(kind) > 255:
            raise ValidationError("Invalid input for field 'type': a non-empty string.")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        raise ValidationError(f"Invalid input for field 'enabled': {body['enabled']!r} is not "
                              f"of type 'boolean'.")
    if "name" in body and not isinstance(body["name"], (str, type(None))):
        raise ValidationError("Invalid input for field 'name': a string is required.")


async def create_service(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    _check_service(body, True)
    extra = {k: v for k, v in body.items() if k not in ("id", "type", "enabled", "links")}
    row = {"id": new_id(), "type": body["type"], "enabled": body.get("enabled", True),
           "extra": extra}
    async with rt.db.transaction() as tx:
        await tx.execute(insert(t.service).values(**row))
        changed(tx, rt)
    return to_service(row)


async def update_service(rt: Runtime, service_id: str, body: Mapping[str, Any]
                         ) -> dict[str, Any]:
    _check_service(body, False)
    async with rt.db.transaction() as tx:
        row = await _service(tx.conn, service_id)
        values: dict[str, Any] = {k: body[k] for k in ("type", "enabled") if k in body}
        extra = {k: v for k, v in body.items() if k not in ("id", "type", "enabled", "links")}
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            await tx.execute(update(t.service).where(t.service.c.id == service_id)
                             .values(**values))
        changed(tx, rt)
        new = await _service(tx.conn, service_id)
    return to_service(new)


async def delete_service(rt: Runtime, service_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _service(tx.conn, service_id)
        await tx.execute(delete(t.endpoint).where(t.endpoint.c.service_id == service_id))
        await tx.execute(delete(t.service).where(t.service.c.id == service_id))
        changed(tx, rt)


# ---------------------------------------------------------------- endpoints


def to_endpoint(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], service_id=row["service_id"], interface=row["interface"],
               url=row["url"], enabled=row["enabled"], region_id=row["region_id"],
               region=row["region_id"])
    return out


async def _endpoint(conn: Any, endpoint_id: str) -> Mapping[Any, Any]:
    row = (await conn.execute(select(t.endpoint).where(t.endpoint.c.id == endpoint_id))).first()
    if row is None:
        raise NotFound(f"Could not find endpoint: {endpoint_id}.")
    found: Mapping[Any, Any] = row._mapping
    return found


async def get_endpoint(rt: Runtime, endpoint_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return to_endpoint(await _endpoint(conn, endpoint_id))


async def list_endpoints(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q, params = filtered(t.endpoint, filters,
                         exact=("service_id", "interface", "region_id", "enabled"))
    async with rt.db.read() as conn:
        return [to_endpoint(r._mapping) for r in await conn.execute(q, params)]


def _check_endpoint(body: Mapping[str, Any], creating: bool) -> None:
    if creating or "interface" in body:
        if body.get("interface") not in INTERFACES:
            raise ValidationError(f"Invalid input for field 'interface': {body.get('interface')!r}"
                                  f" is not one of {list(INTERFACES)}.")
    if creating or "url" in body:
        url = body.get("url")
        if not isinstance(url, str) or not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
            raise ValidationError(f"Invalid input for field 'url': {url!r} is not a valid URL.")
    if creating or "service_id" in body:
        if not isinstance(body.get("service_id"), str):
            raise ValidationError("Invalid input for field 'service_id': a string is required.")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        raise ValidationError(f"Invalid input for field 'enabled': {body['enabled']!r} is not "
                              f"of type 'boolean'.")


ENDPOINT_COLS = ("service_id", "interface", "url", "enabled", "region_id")


async def _ensure_region(tx: Tx, body: Mapping[str, Any]) -> None:
    """An endpoint's region must exist, except that the legacy ``region`` attribute
    (without ``region_id``) creates its region on the fly, as Keystone does for
    clients that still speak the v2 way."""
    if body.get("region_id"):
        if await _region(tx.conn, body["region_id"]) is None:
            raise ValidationError(f"Could not find region: {body['region_id']}.")
    elif body.get("region"):
        region = body["region"]
        if not isinstance(region, str) or len(region) > 255:
            raise ValidationError("Invalid input for field 'region': a string of at most 255 "
                                  "characters is required.")
        if await _region(tx.conn, region) is None:
            await tx.execute(insert(t.region).values(id=region, description="",
                                                     parent_region_id=None, extra={}))


async def create_endpoint(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    _check_endpoint(body, True)
    region = body.get("region_id") or body.get("region")
    extra = {k: v for k, v in body.items() if k not in (*ENDPOINT_COLS, "id", "region", "links")}
    row = {"id": new_id(), "service_id": body["service_id"], "interface": body["interface"],
           "url": body["url"], "enabled": body.get("enabled", True), "region_id": region,
           "extra": extra}
    async with rt.db.transaction() as tx:
        try:
            await _service(tx.conn, row["service_id"])
        except NotFound as e:
            raise ValidationError(e.message) from None
        await _ensure_region(tx, body)
        await tx.execute(insert(t.endpoint).values(**row))
        changed(tx, rt)
    return to_endpoint(row)


async def update_endpoint(rt: Runtime, endpoint_id: str, body: Mapping[str, Any]
                          ) -> dict[str, Any]:
    _check_endpoint(body, False)
    async with rt.db.transaction() as tx:
        row = await _endpoint(tx.conn, endpoint_id)
        values: dict[str, Any] = {k: body[k] for k in ENDPOINT_COLS if k in body}
        if "region" in body and "region_id" not in body:
            values["region_id"] = body["region"]
        await _ensure_region(tx, body)
        if "service_id" in values:
            try:
                await _service(tx.conn, values["service_id"])
            except NotFound as e:
                raise ValidationError(e.message) from None
        extra = {k: v for k, v in body.items()
                 if k not in (*ENDPOINT_COLS, "id", "region", "links")}
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            await tx.execute(update(t.endpoint).where(t.endpoint.c.id == endpoint_id)
                             .values(**values))
        changed(tx, rt)
        new = await _endpoint(tx.conn, endpoint_id)
    return to_endpoint(new)


async def delete_endpoint(rt: Runtime, endpoint_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _endpoint(tx.conn, endpoint_id)
        await tx.execute(delete(t.endpoint).where(t.endpoint.c.id == endpoint_id))
        await tx.execute(delete(t.project_endpoint).where(
            t.project_endpoint.c.endpoint_id == endpoint_id))
        await tx.execute(delete(t.policy_association).where(
            t.policy_association.c.endpoint_id == endpoint_id))
        changed(tx, rt)


# ---------------------------------------------------------------- the catalog


@dataclass(frozen=True)
class _Catalog:
    services: list[dict[str, Any]]
    # OS-EP-FILTER: project id -> the endpoints its tokens carry (direct and by group)
    by_project: dict[str, frozenset[str]]


async def _raw_catalog(rt: Runtime) -> _Catalog:
    cached = rt.state.get(CATALOG_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    async with rt.db.read() as conn:
        services = [r._mapping for r in await conn.execute(
            select(t.service).where(t.service.c.enabled))]
        endpoints = [r._mapping for r in await conn.execute(
            select(t.endpoint).where(t.endpoint.c.enabled))]
        direct = list(await conn.execute(select(t.project_endpoint)))
        grouped = list(await conn.execute(
            select(t.project_endpoint_group.c.project_id, t.endpoint_group.c.filters).join(
                t.endpoint_group,
                t.endpoint_group.c.id == t.project_endpoint_group.c.endpoint_group_id)))
    out = []
    for s in services:
        eps = [{"id": e["id"], "interface": e["interface"], "region": e["region_id"],
                "region_id": e["region_id"], "url": e["url"]}
               for e in endpoints if e["service_id"] == s["id"]]
        out.append({"id": s["id"], "type": s["type"], "name": (s["extra"] or {}).get("name", ""),
                    "endpoints": eps})
    by_project: dict[str, set[str]] = {}
    for row in direct:
        by_project.setdefault(row.project_id, set()).add(row.endpoint_id)
    for row in grouped:
        filters = dict(row.filters or {})
        by_project.setdefault(row.project_id, set()).update(
            e["id"] for e in endpoints if all(e.get(k) == v for k, v in filters.items()))
    built = _Catalog(out, {k: frozenset(v) for k, v in by_project.items()})
    rt.state[CATALOG_KEY] = built
    return built


async def catalog_for(rt: Runtime, project_id: str | None, user_id: str) -> list[dict[str, Any]]:
    """The catalog a token carries: endpoint URL templates filled in; endpoints
    that need a project left out of tokens without one. A project with OS-EP-FILTER
    associations sees only its endpoints (and only the services that have one left);
    a project without any sees them all, as Keystone's default
    ``return_all_endpoints_if_no_filter``."""
    raw = await _raw_catalog(rt)
    values = {"project_id": project_id, "tenant_id": project_id, "user_id": user_id}
    only = raw.by_project.get(project_id) if project_id else None
    out = []
    for svc in raw.services:
        eps = []
        for ep in svc["endpoints"]:
            if only is not None and ep["id"] not in only:
                continue
            url = _substitute(ep["url"], values)
            if url is not None:
                eps.append({**ep, "url": url})
        if only is None or eps:
            out.append({**svc, "endpoints": eps})
    return out


def _substitute(url: str, values: Mapping[str, str | None]) -> str | None:
    if "$(" not in url and "%(" not in url:
        return url
    missing = False

    def repl(m: re.Match[str]) -> str:
        nonlocal missing
        value = values.get(m.group(1) or m.group(2))
        if value is None:
            missing = True
            return ""
        return value

    result = SUBST.sub(repl, url)
    return None if missing else result


def enabled_filter(value: str) -> bool:
    return parse_bool("enabled", value)
