"""Unified limits: registered limits (a service's default for a resource) and
project or domain limits that override them, under the ``flat`` enforcement model.

A limit belongs to the registered limit with the same service, region and resource
name; one must exist before the limit is made, and a registered limit with limits
under it cannot be changed or deleted (403, as Keystone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from nubo.core.db.base import new_id
from nubo.core.errors import Conflict, Forbidden, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.service import resource

MODEL = {"name": "flat",
         "description": "Limit enforcement and validation does not take project hierarchy "
                        "into consideration."}
MAX_LIMIT = 0x7FFFFFFF
REGISTERED_FIELDS = ("service_id", "region_id", "resource_name", "default_limit", "description")
LIMIT_FIELDS = ("project_id", "domain_id", "service_id", "region_id", "resource_name",
                "resource_limit", "description")
RL = t.registered_limit
LIM = t.limit


# ---------------------------------------------------------------- validation


def _check_fields(item: Any, allowed: tuple[str, ...], required: tuple[str, ...],
                  what: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise ValidationError(f"Invalid input for field '{what}': an object is required.")
    extra = sorted(set(item) - set(allowed))
    if extra:
        raise ValidationError(f"Additional properties are not allowed ({', '.join(extra)} "
                              f"unexpected) in {what}.")
    for key in required:
        if key not in item:
            raise ValidationError(f"'{key}' is a required property of {what}.")
    for key, value in item.items():
        if key in ("default_limit", "resource_limit"):
            if (not isinstance(value, int) or isinstance(value, bool)
                    or not -1 <= value <= MAX_LIMIT):
                raise ValidationError(f"Invalid input for field '{key}': {value!r} is not an "
                                      f"integer from -1 to {MAX_LIMIT}.")
        elif key == "resource_name":
            if not isinstance(value, str) or not value.strip() or len(value) > 255:
                raise ValidationError(f"Invalid input for field '{key}': a non-empty string "
                                      f"of at most 255 characters.")
        elif key in ("service_id",):
            if not isinstance(value, str) or not value:
                raise ValidationError(f"Invalid input for field '{key}': a string is required.")
        elif value is not None and not isinstance(value, str):
            raise ValidationError(f"Invalid input for field '{key}': {value!r} is not of type "
                                  f"'string'.")
    return item


def _list_body(items: Any, key: str) -> list[Any]:
    if not isinstance(items, list) or not items:
        raise ValidationError(f"Invalid input for field '{key}': a non-empty list is required.")
    return items


async def _assert_exist(conn: Any, item: dict[str, Any], target: str) -> None:
    """Keystone's ``_assert_resource_exist``; a project that is a domain makes a domain limit."""
    if item.get("service_id") is not None and (await conn.execute(select(t.service.c.id).where(
            t.service.c.id == item["service_id"]))).first() is None:
        raise ValidationError(f"Expecting to find service_id in {target}: service "
                              f"{item['service_id']} does not exist.")
    if item.get("region_id") is not None and (await conn.execute(select(t.region.c.id).where(
            t.region.c.id == item["region_id"]))).first() is None:
        raise ValidationError(f"Expecting to find region_id in {target}: region "
                              f"{item['region_id']} does not exist.")
    if item.get("project_id") is not None:
        project = await resource.get_row(conn, item["project_id"])
        if project is None:
            raise ValidationError(f"Expecting to find project_id in {target}: project "
                                  f"{item['project_id']} does not exist.")
        if project["is_domain"]:
            item["domain_id"] = item.pop("project_id")
    if item.get("domain_id") is not None:
        domain = await resource.get_row(conn, item["domain_id"])
        if domain is None or not domain["is_domain"]:
            raise ValidationError(f"Expecting to find domain_id in {target}: domain "
                                  f"{item['domain_id']} does not exist.")


def _same_key(table: Any, item: Mapping[str, Any]) -> Any:
    region = item.get("region_id")
    return and_(table.c.service_id == item["service_id"],
                table.c.resource_name == item["resource_name"],
                table.c.region_id.is_(None) if region is None else table.c.region_id == region)


# ---------------------------------------------------------------- registered limits


def _registered(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {"id": row["id"], **{k: row[k] for k in REGISTERED_FIELDS}}


async def _registered_row(conn: Any, limit_id: str) -> Mapping[Any, Any]:
    found = (await conn.execute(select(RL).where(RL.c.id == limit_id))).first()
    if found is None:
        raise NotFound(f"Could not find registered limit for {limit_id}.")
    row: Mapping[Any, Any] = found._mapping
    return row


async def create_registered_limits(rt: Runtime, items: Any) -> list[dict[str, Any]]:
    rows = []
    for item in _list_body(items, "registered_limits"):
        checked = _check_fields(item, REGISTERED_FIELDS,
                                ("service_id", "resource_name", "default_limit"),
                                "registered_limit")
        rows.append({"id": new_id(), "region_id": None, "description": None, **checked})
    async with rt.db.transaction() as tx:
        for row in rows:
            await _assert_exist(tx.conn, row, "registered_limit")
            await _unique_registered(tx.conn, row)
            await tx.execute(insert(RL).values(**row))
    return [_registered(r) for r in rows]


async def _unique_registered(conn: Any, row: Mapping[str, Any], skip: str | None = None) -> None:
    q = select(RL.c.id).where(_same_key(RL, row))
    if skip:
        q = q.where(RL.c.id != skip)
    if (await conn.execute(q)).first():
        raise Conflict("Conflict occurred attempting to store registered_limit - "
                       "Duplicate entry.")


async def _referenced(conn: Any, row: Mapping[str, Any]) -> bool:
    return (await conn.execute(select(LIM.c.id).where(_same_key(LIM, row)).limit(1))
            ).first() is not None


async def get_registered_limit(rt: Runtime, limit_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return _registered(await _registered_row(conn, limit_id))


async def list_registered_limits(rt: Runtime, filters: Mapping[str, str]
                                 ) -> list[dict[str, Any]]:
    q = select(RL)
    for key in ("service_id", "region_id", "resource_name"):
        if key in filters:
            q = q.where(RL.c[key] == filters[key])
    async with rt.db.read() as conn:
        return [_registered(r._mapping) for r in await conn.execute(q.order_by(RL.c.id))]


async def update_registered_limit(rt: Runtime, limit_id: str, body: Mapping[str, Any]
                                  ) -> dict[str, Any]:
    changes = dict(_check_fields(body, REGISTERED_FIELDS, (), "registered_limit"))
    async with rt.db.transaction() as tx:
        row = await _registered_row(tx.conn, limit_id)
        await _assert_exist(tx.conn, changes, "registered_limit")
        if await _referenced(tx.conn, row):
            raise Forbidden(f"Unable to update or delete registered limit {limit_id} because "
                            f"there are project limits associated with it.")
        merged = {**_registered(row), **changes}
        await _unique_registered(tx.conn, merged, skip=limit_id)
        if changes:
            await tx.execute(update(RL).where(RL.c.id == limit_id).values(**changes))
    return merged


async def delete_registered_limit(rt: Runtime, limit_id: str) -> None:
    async with rt.db.transaction() as tx:
        row = await _registered_row(tx.conn, limit_id)
        if await _referenced(tx.conn, row):
            raise Forbidden(f"Unable to update or delete registered limit {limit_id} because "
                            f"there are project limits associated with it.")
        await tx.execute(delete(RL).where(RL.c.id == limit_id))


# ---------------------------------------------------------------- limits


def _limit(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {"id": row["id"], **{k: row[k] for k in LIMIT_FIELDS}}


async def _limit_row(conn: Any, limit_id: str) -> Mapping[Any, Any]:
    found = (await conn.execute(select(LIM).where(LIM.c.id == limit_id))).first()
    if found is None:
        raise NotFound(f"Could not find limit for {limit_id}.")
    row: Mapping[Any, Any] = found._mapping
    return row


def _check_limit(item: Any) -> dict[str, Any]:
    checked = dict(_check_fields(item, LIMIT_FIELDS,
                                 ("service_id", "resource_name", "resource_limit"), "limit"))
    if ("project_id" in checked) == ("domain_id" in checked):
        raise ValidationError("A limit needs exactly one of project_id and domain_id.")
    return checked


async def create_limits(rt: Runtime, items: Any) -> list[dict[str, Any]]:
    rows = []
    for item in _list_body(items, "limits"):
        rows.append({"id": new_id(), "project_id": None, "domain_id": None, "region_id": None,
                     "description": None, **_check_limit(item)})
    async with rt.db.transaction() as tx:
        for row in rows:
            await _assert_exist(tx.conn, row, "limit")
            row.setdefault("project_id", None)
            if (await tx.execute(select(RL.c.id).where(_same_key(RL, row)))).first() is None:
                raise Forbidden("Unable to create a limit that has no corresponding "
                                "registered limit.")
            owner = (LIM.c.project_id == row["project_id"] if row["project_id"]
                     else LIM.c.domain_id == row["domain_id"])
            if (await tx.execute(select(LIM.c.id).where(_same_key(LIM, row), owner))).first():
                raise Conflict("Conflict occurred attempting to store limit - Duplicate entry.")
            await tx.execute(insert(LIM).values(**row))
    return [_limit(r) for r in rows]


async def get_limit(rt: Runtime, limit_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return _limit(await _limit_row(conn, limit_id))


async def list_limits(rt: Runtime, filters: Mapping[str, str], *,
                      domain_scope: str | None = None) -> list[dict[str, Any]]:
    """``domain_scope``: only that domain's limits and its projects' (a domain token)."""
    q = select(LIM)
    for key in ("service_id", "region_id", "resource_name", "project_id", "domain_id"):
        if key in filters:
            q = q.where(LIM.c[key] == filters[key])
    async with rt.db.read() as conn:
        if domain_scope is not None:
            projects = select(t.project.c.id).where(t.project.c.domain_id == domain_scope)
            q = q.where((LIM.c.domain_id == domain_scope) | LIM.c.project_id.in_(projects))
        return [_limit(r._mapping) for r in await conn.execute(q.order_by(LIM.c.id))]


async def update_limit(rt: Runtime, limit_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    changes = dict(_check_fields(body, ("resource_limit", "description"), (), "limit"))
    async with rt.db.transaction() as tx:
        row = await _limit_row(tx.conn, limit_id)
        if changes:
            await tx.execute(update(LIM).where(LIM.c.id == limit_id).values(**changes))
    return {**_limit(row), **changes}


async def delete_limit(rt: Runtime, limit_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _limit_row(tx.conn, limit_id)
        await tx.execute(delete(LIM).where(LIM.c.id == limit_id))
