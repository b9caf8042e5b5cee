"""OS-EP-FILTER: endpoints tied to projects one by one, or through endpoint groups
(a filter on service, region and interface) tied to projects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.db.base import new_id
from nubo.core.errors import Conflict, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.service import catalog, resource

FILTER_KEYS = ("service_id", "region_id", "interface")
EG = t.endpoint_group
PE = t.project_endpoint
PEG = t.project_endpoint_group


# ---------------------------------------------------------------- endpoint groups


def _check_group(body: Mapping[str, Any], creating: bool) -> None:
    if not creating and not body:
        raise ValidationError("The endpoint group update needs at least one property.")
    if creating or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ValidationError("Invalid input for field 'name': a non-empty string of at "
                                  "most 255 characters.")
    if "description" in body and not isinstance(body["description"], (str, type(None))):
        raise ValidationError("Invalid input for field 'description': a string is required.")
    if creating or "filters" in body:
        filters = body.get("filters")
        if not isinstance(filters, Mapping) or (creating and not filters):
            raise ValidationError("filters field is required and cannot be empty")
        for key, value in filters.items():
            if key not in FILTER_KEYS:
                raise ValidationError(f"Expecting to find {' or '.join(FILTER_KEYS)} in "
                                      f"endpoint_group: invalid filter {key!r}.")
            if not isinstance(value, str):
                raise ValidationError(f"Invalid input for filter '{key}': a string is "
                                      f"required.")


def _group(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "filters": dict(row["filters"] or {})}


async def _group_row(conn: Any, group_id: str) -> Mapping[Any, Any]:
    found = (await conn.execute(select(EG).where(EG.c.id == group_id))).first()
    if found is None:
        raise NotFound(f"Could not find endpoint group: {group_id}.")
    row: Mapping[Any, Any] = found._mapping
    return row


async def create_endpoint_group(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    _check_group(body, True)
    row = {"id": new_id(), "name": body["name"], "description": body.get("description"),
           "filters": dict(body["filters"])}
    async with rt.db.transaction() as tx:
        await tx.execute(insert(EG).values(**row))
    return _group(row)


async def get_endpoint_group(rt: Runtime, group_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return _group(await _group_row(conn, group_id))


async def list_endpoint_groups(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q = select(EG)
    if "name" in filters:
        q = q.where(EG.c.name == filters["name"])
    async with rt.db.read() as conn:
        return [_group(r._mapping) for r in await conn.execute(q.order_by(EG.c.id))]


async def update_endpoint_group(rt: Runtime, group_id: str, body: Mapping[str, Any]
                                ) -> dict[str, Any]:
    _check_group(body, False)
    values = {k: body[k] for k in ("name", "description", "filters") if k in body}
    async with rt.db.transaction() as tx:
        row = await _group_row(tx.conn, group_id)
        if "id" in body and body["id"] != group_id:
            raise ValidationError("Cannot change ID")
        if values:
            await tx.execute(update(EG).where(EG.c.id == group_id).values(**values))
            catalog.changed(tx, rt)
    return {**_group(row), **values}


async def delete_endpoint_group(rt: Runtime, group_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _group_row(tx.conn, group_id)
        await tx.execute(delete(PEG).where(PEG.c.endpoint_group_id == group_id))
        await tx.execute(delete(EG).where(EG.c.id == group_id))
        catalog.changed(tx, rt)


async def _endpoints_in_group(conn: Any, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q = select(t.endpoint)
    for key, value in filters.items():
        if key in FILTER_KEYS:
            q = q.where(t.endpoint.c[key] == value)
    return [catalog.to_endpoint(r._mapping) for r in await conn.execute(q)]


async def list_endpoints_in_group(rt: Runtime, group_id: str) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        row = await _group_row(conn, group_id)
        return await _endpoints_in_group(conn, row["filters"] or {})


# ---------------------------------------------------------------- endpoint groups <-> projects


async def _project_exists(conn: Any, project_id: str) -> None:
    row = await resource.get_row(conn, project_id)
    if row is None:
        raise NotFound(f"Could not find project: {project_id}.")


async def _projects(rt: Runtime, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for pid in ids:
        try:
            out.append(await resource.get_project(rt, pid))
        except NotFound:
            continue  # associations of a project deleted since
    return out


async def add_endpoint_group_to_project(rt: Runtime, group_id: str, project_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _project_exists(tx.conn, project_id)
        await _group_row(tx.conn, group_id)
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(PEG).values(endpoint_group_id=group_id,
                                                    project_id=project_id))
        except IntegrityError:
            raise Conflict(f"Conflict occurred attempting to store project_endpoint_group - "
                           f"Duplicate entry for {group_id} and {project_id}.") from None
        catalog.changed(tx, rt)


async def get_endpoint_group_in_project(rt: Runtime, group_id: str, project_id: str
                                        ) -> dict[str, Any]:
    async with rt.db.read() as conn:
        await _project_exists(conn, project_id)
        await _group_row(conn, group_id)
        found = (await conn.execute(select(PEG).where(
            PEG.c.endpoint_group_id == group_id, PEG.c.project_id == project_id))).first()
    if found is None:
        raise NotFound(f"Could not find endpoint group {group_id} associated with project "
                       f"{project_id}.")
    return {"endpoint_group_id": group_id, "project_id": project_id}


async def remove_endpoint_group_from_project(rt: Runtime, group_id: str, project_id: str
                                             ) -> None:
    await get_endpoint_group_in_project(rt, group_id, project_id)
    async with rt.db.transaction() as tx:
        await tx.execute(delete(PEG).where(PEG.c.endpoint_group_id == group_id,
                                           PEG.c.project_id == project_id))
        catalog.changed(tx, rt)


async def list_projects_for_endpoint_group(rt: Runtime, group_id: str) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        await _group_row(conn, group_id)
        ids = [r.project_id for r in await conn.execute(
            select(PEG.c.project_id).where(PEG.c.endpoint_group_id == group_id))]
    return await _projects(rt, ids)


async def list_endpoint_groups_for_project(rt: Runtime, project_id: str
                                           ) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        await _project_exists(conn, project_id)
        q = select(EG).join(PEG, PEG.c.endpoint_group_id == EG.c.id).where(
            PEG.c.project_id == project_id)
        return [_group(r._mapping) for r in await conn.execute(q)]


# ---------------------------------------------------------------- endpoints <-> projects


async def _endpoint_exists(conn: Any, endpoint_id: str) -> None:
    found = (await conn.execute(select(t.endpoint.c.id).where(
        t.endpoint.c.id == endpoint_id))).first()
    if found is None:
        raise NotFound(f"Could not find endpoint: {endpoint_id}.")


async def add_endpoint_to_project(rt: Runtime, project_id: str, endpoint_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _endpoint_exists(tx.conn, endpoint_id)
        await _project_exists(tx.conn, project_id)
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(PE).values(endpoint_id=endpoint_id,
                                                   project_id=project_id))
        except IntegrityError:
            raise Conflict(f"Conflict occurred attempting to store project_endpoint - "
                           f"Duplicate entry for {endpoint_id} and {project_id}.") from None
        catalog.changed(tx, rt)


async def check_endpoint_in_project(rt: Runtime, project_id: str, endpoint_id: str) -> None:
    async with rt.db.read() as conn:
        await _endpoint_exists(conn, endpoint_id)
        await _project_exists(conn, project_id)
        found = (await conn.execute(select(PE).where(
            PE.c.endpoint_id == endpoint_id, PE.c.project_id == project_id))).first()
    if found is None:
        raise NotFound(f"Endpoint {endpoint_id} not found in project {project_id}.")


async def remove_endpoint_from_project(rt: Runtime, project_id: str, endpoint_id: str) -> None:
    async with rt.db.transaction() as tx:
        gone = await tx.execute(delete(PE).where(PE.c.endpoint_id == endpoint_id,
                                                 PE.c.project_id == project_id))
        if not gone.rowcount:
            raise NotFound(f"Endpoint {endpoint_id} not found in project {project_id}.")
        catalog.changed(tx, rt)


async def list_projects_for_endpoint(rt: Runtime, endpoint_id: str) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        await _endpoint_exists(conn, endpoint_id)
        ids = [r.project_id for r in await conn.execute(
            select(PE.c.project_id).where(PE.c.endpoint_id == endpoint_id))]
    return await _projects(rt, ids)


async def list_endpoints_for_project(rt: Runtime, project_id: str) -> list[dict[str, Any]]:
    """The project's endpoints: those tied to it and those of its endpoint groups."""
    async with rt.db.read() as conn:
        await _project_exists(conn, project_id)
        direct = select(t.endpoint).join(PE, PE.c.endpoint_id == t.endpoint.c.id).where(
            PE.c.project_id == project_id)
        found = {r.id: catalog.to_endpoint(r._mapping) for r in await conn.execute(direct)}
        groups = select(EG.c.filters).join(PEG, PEG.c.endpoint_group_id == EG.c.id).where(
            PEG.c.project_id == project_id)
        for group in list(await conn.execute(groups)):
            for ep in await _endpoints_in_group(conn, group.filters or {}):
                found.setdefault(ep["id"], ep)
    return list(found.values())
