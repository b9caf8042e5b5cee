"""Domains and projects (Keystone's "resource" back end).

A domain is a project row with ``is_domain`` set. Top-level projects have their
domain as parent, as in Keystone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.db.base import new_id
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.service import cache, catalog, revoke
from nubo.identity.service.filters import filtered

DEFAULT_DOMAIN = "default"
PROJECT_COLUMNS = ("name", "domain_id", "parent_id", "is_domain", "enabled", "description",
                   "options")
RESERVED = frozenset({"id", "links", "tags"})


def to_project(row: Mapping[Any, Any], tags: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(
        id=row["id"], name=row["name"], description=row["description"] or "",
        enabled=row["enabled"], is_domain=row["is_domain"], options=row["options"] or {},
        tags=sorted(tags),
    )
    if row["is_domain"] and row["domain_id"] == t.ROOT_DOMAIN:
        out.update(domain_id=None, parent_id=None)
    else:
        out.update(domain_id=row["domain_id"], parent_id=row["parent_id"])
    return out


def to_domain(row: Mapping[Any, Any], tags: list[str]) -> dict[str, Any]:
    out = to_project(row, tags)
    for key in ("domain_id", "parent_id", "is_domain"):
        out.pop(key, None)
    return out


# the projects acting as top-level domains
_DOMAINS = (t.project.c.is_domain, t.project.c.domain_id == t.ROOT_DOMAIN)
_TAGS_OF = prebuilt(select(t.project_tag).where(
    t.project_tag.c.project_id.in_(bindparam("ids", expanding=True))))


async def _tags(conn: Any, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        rows = await conn.execute(_TAGS_OF, {"ids": ids})
        for r in rows:
            out[r.project_id].append(r.name)
    return out


async def get_row(conn: Any, project_id: str) -> Mapping[str, Any] | None:
    row = (await conn.execute(select(t.project).where(t.project.c.id == project_id))).first()
    return row._mapping if row else None


async def get_project(rt: Runtime, project_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await get_row(conn, project_id)
        if row is None:
            raise NotFound(f"Could not find project: {project_id}.")
        return to_project(row, (await _tags(conn, [project_id]))[project_id])


async def get_domain(rt: Runtime, domain_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await get_row(conn, domain_id)
        if row is None or not row["is_domain"]:
            raise NotFound(f"Could not find domain: {domain_id}.")
        return to_domain(row, (await _tags(conn, [domain_id]))[domain_id])


async def find_domain_id(conn: Any, ref: Mapping[str, Any]) -> str:
    """A domain given as ``{"id": …}`` or ``{"name": …}`` in auth and filters."""
    if not isinstance(ref, Mapping):
        raise ValidationError("Expecting a domain object with an id or name.")
    if ref.get("id"):
        q = select(t.project.c.id).where(t.project.c.id == str(ref["id"]), t.project.c.is_domain)
        what = ref["id"]
    elif ref.get("name"):
        q = select(t.project.c.id).where(t.project.c.name == str(ref["name"]),
                                         t.project.c.is_domain,
                                         t.project.c.domain_id == t.ROOT_DOMAIN)
        what = ref["name"]
    else:
        raise ValidationError("Expecting to find domain id or name.")
    found = (await conn.execute(q)).scalar()
    if found is None:
        raise NotFound(f"Could not find domain: {what}.")
    return str(found)


async def list_projects(
    rt: Runtime, filters: Mapping[str, str], *, domain_only: bool = False
) -> list[dict[str, Any]]:
    q, params = filtered(t.project, filters, where=_DOMAINS if domain_only else (),
                         exact=("domain_id", "parent_id", "is_domain", "enabled", "id"),
                         text=("name",), order_by="name")
    async with rt.db.read() as conn:
        rows = [r._mapping for r in await conn.execute(q, params)]
        tags = await _tags(conn, [r["id"] for r in rows])
    wanted_tags = _tag_filters(filters)
    render = to_domain if domain_only else to_project
    out = [render(r, tags[r["id"]]) for r in rows]
    return [p for p in out if _tags_match(set(p["tags"]), wanted_tags)]


def _tag_filters(filters: Mapping[str, str]) -> dict[str, set[str]]:
    return {k: set(filters[k].split(",")) for k in ("tags", "tags-any", "not-tags", "not-tags-any")
            if filters.get(k)}


def _tags_match(have: set[str], want: dict[str, set[str]]) -> bool:
    if "tags" in want and not want["tags"] <= have:
        return False
    if "tags-any" in want and not want["tags-any"] & have:
        return False
    if "not-tags" in want and want["not-tags"] <= have:
        return False
    return not ("not-tags-any" in want and want["not-tags-any"] & have)


def _validate_name(name: Any, kind: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"Invalid input for field 'name': a non-empty string is required "
                              f"for the {kind} name.")
    if len(name) > 64:
        raise ValidationError(f"Invalid input for field 'name': '{name[:20]}…' is too long "
                              f"(at most 64 characters).")
    return name


def _validate_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list) or len(tags) > 80:
        raise ValidationError("Invalid input for field 'tags': a list of at most 80 tags.")
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > 255 or "/" in tag or "," in tag:
            raise ValidationError(f"Invalid input for field 'tags': {tag!r} is not a valid tag "
                                  f"(1-255 characters, no '/' or ',').")
    return list(dict.fromkeys(tags))


def _check_bool(body: Mapping[str, Any], key: str) -> None:
    if key in body and not isinstance(body[key], bool):
        raise ValidationError(f"Invalid input for field '{key}': {body[key]!r} is not of type "
                              f"'boolean'.")


def _split(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Known columns apart from Keystone's free-form extra attributes."""
    cols = {k: v for k, v in body.items() if k in PROJECT_COLUMNS}
    extra = {k: v for k, v in body.items() if k not in PROJECT_COLUMNS and k not in RESERVED}
    return cols, extra


async def create_project(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    name = _validate_name(body.get("name"), "project")
    for key in ("enabled", "is_domain"):
        _check_bool(body, key)
    if "description" in body and not isinstance(body["description"], (str, type(None))):
        raise ValidationError("Invalid input for field 'description': a string is required.")
    tags = _validate_tags(body.get("tags", []))
    cols, extra = _split(body)
    is_domain = bool(cols.get("is_domain", False))
    async with rt.db.transaction() as tx:
        parent_id = cols.get("parent_id")
        domain_id = cols.get("domain_id")
        if is_domain:
            if parent_id:
                raise ValidationError("A project acting as a domain cannot have a parent.")
            domain_id, parent_id = t.ROOT_DOMAIN, None
        else:
            domain_id, parent_id = await _placement(tx, domain_id, parent_id)
        row = {
            "id": body.get("id") if isinstance(body.get("id"), str) and is_domain else new_id(),
            "name": name, "domain_id": domain_id, "parent_id": parent_id, "is_domain": is_domain,
            "enabled": cols.get("enabled", True), "description": cols.get("description") or "",
            "options": cols.get("options") or {}, "extra": extra,
        }
        await _insert(tx, row, "project")
        await _set_tags(tx, row["id"], tags)
    return to_project(row, tags)


async def _placement(tx: Tx, domain_id: str | None, parent_id: str | None) -> tuple[str, str]:
    """Where a new project sits: its domain and parent, checked against each other."""
    if parent_id:
        parent = await get_row(tx.conn, parent_id)
        if parent is None:
            raise ValidationError(f"Could not find parent project: {parent_id}.")
        parent_domain = parent["id"] if parent["is_domain"] else parent["domain_id"]
        if domain_id and domain_id != parent_domain:
            raise ValidationError("Cannot create project, the parent is in another domain.")
        if parent["is_domain"] and parent["domain_id"] != t.ROOT_DOMAIN:
            raise ValidationError("Cannot create a project under this parent.")
        return parent_domain, parent_id
    domain_id = domain_id or DEFAULT_DOMAIN
    domain = await get_row(tx.conn, domain_id)
    if domain is None or not domain["is_domain"]:
        raise ValidationError(f"Could not find domain: {domain_id}.")
    return domain_id, domain_id


async def _insert(tx: Tx, row: Mapping[Any, Any], kind: str) -> None:
    try:
        async with tx.conn.begin_nested():
            await tx.execute(insert(t.project).values(**row))
    except IntegrityError:
        where = "at the top level" if row["domain_id"] == t.ROOT_DOMAIN else \
            f"in domain {row['domain_id']}"
        raise Conflict(f"Conflict occurred attempting to store {kind} - it is not permitted to "
                       f"have two {kind}s with the same name {where}: {row['name']}.") from None


async def _set_tags(tx: Tx, project_id: str, tags: list[str]) -> None:
    await tx.execute(delete(t.project_tag).where(t.project_tag.c.project_id == project_id))
    if tags:
        await tx.execute(insert(t.project_tag), [{"project_id": project_id, "name": n}
                                                  for n in tags])


async def create_domain(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    body = {**body, "is_domain": True}
    body.pop("domain_id", None)
    body.pop("parent_id", None)
    project = await create_project(rt, body)
    return {k: v for k, v in project.items() if k not in ("domain_id", "parent_id", "is_domain")}


async def update_project(
    rt: Runtime, project_id: str, body: Mapping[str, Any], *, as_domain: bool = False
) -> dict[str, Any]:
    kind = "domain" if as_domain else "project"
    for key in ("domain_id", "is_domain", "parent_id", "id"):
        if key in body and key != "id":
            async with rt.db.read() as conn:
                row = await get_row(conn, project_id)
            if row is not None and body[key] != to_project(row, [])[key]:
                raise ValidationError(f"Update of `{key}` is not allowed.")
    if "name" in body:
        _validate_name(body["name"], kind)
    _check_bool(body, "enabled")
    tags = _validate_tags(body["tags"]) if "tags" in body else None
    cols, extra = _split(body)
    for key in ("domain_id", "is_domain", "parent_id"):
        cols.pop(key, None)
    async with rt.db.transaction() as tx:
        row = await get_row(tx.conn, project_id)
        if row is None or (as_domain and not row["is_domain"]):
            raise NotFound(f"Could not find {kind}: {project_id}.")
        if row["is_domain"] and row["id"] == DEFAULT_DOMAIN and cols.get("enabled") is False:
            raise ValidationError("The default domain cannot be disabled.")
        values: dict[str, Any] = dict(cols)
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            try:
                async with tx.conn.begin_nested():
                    await tx.execute(update(t.project).where(t.project.c.id == project_id)
                                     .values(**values))
            except IntegrityError:
                raise Conflict(f"Conflict occurred attempting to store {kind} - Duplicate "
                               f"name: {body.get('name')}.") from None
        if tags is not None:
            await _set_tags(tx, project_id, tags)
        if cols.get("enabled") is False and row["enabled"]:
            await revoke.record(tx, rt, **({"domain_id": project_id} if row["is_domain"]
                                           else {"project_id": project_id}))
        cache.changed(tx, rt)
        new = await get_row(tx.conn, project_id)
        assert new is not None
        result = to_project(new, (await _tags(tx.conn, [project_id]))[project_id])
    return result


async def delete_project(rt: Runtime, project_id: str, *, as_domain: bool = False) -> None:
    kind = "domain" if as_domain else "project"
    async with rt.db.transaction() as tx:
        row = await get_row(tx.conn, project_id)
        if row is None or (as_domain and not row["is_domain"]):
            raise NotFound(f"Could not find {kind}: {project_id}.")
        if row["is_domain"] and row["enabled"]:
            raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
        children = (await tx.execute(select(t.project.c.id).where(
            t.project.c.parent_id == project_id, t.project.c.id != project_id).limit(1))).first()
        if children and not row["is_domain"]:
            raise Forbidden(f"Cannot delete the project {project_id} since it is not a leaf in "
                            f"the hierarchy. Use the cascade option if you want to delete a "
                            f"subtree.")
        if row["is_domain"]:
            await _forget_endpoint_associations(tx, rt, [r.id for r in await tx.execute(
                select(t.project.c.id).where(t.project.c.domain_id == project_id))])
            await _delete_domain_contents(tx, project_id)
        await tx.execute(delete(t.assignment).where(t.assignment.c.target_id == project_id))
        await _forget_endpoint_associations(tx, rt, [project_id])
        await tx.execute(delete(t.project).where(t.project.c.id == project_id))
        await revoke.record(tx, rt, **({"domain_id": project_id} if row["is_domain"]
                                       else {"project_id": project_id}))
        cache.changed(tx, rt)
        if row["is_domain"]:  # its domain configuration went with it
            from nubo.identity.backends import domain_tables

            tx.publish(domain_tables.TOPIC, {})
    if as_domain:
        from nubo.identity.backends import domain_tables

        await domain_tables.load(rt)


async def _forget_endpoint_associations(tx: Tx, rt: Runtime, project_ids: list[str]) -> None:
    """OS-EP-FILTER rows of deleted projects go with them."""
    gone = 0
    for table in (t.project_endpoint, t.project_endpoint_group) if project_ids else ():
        result = await tx.execute(delete(table).where(table.c.project_id.in_(project_ids)))
        gone += result.rowcount or 0
    if gone:
        catalog.changed(tx, rt)


async def _delete_domain_contents(tx: Tx, domain_id: str) -> None:
    """Deleting a disabled domain takes its projects, users, groups and roles with it."""
    projects = [r.id for r in await tx.execute(
        select(t.project.c.id).where(t.project.c.domain_id == domain_id))]
    users = [r.id for r in await tx.execute(select(t.user.c.id).where(
        t.user.c.domain_id == domain_id))]
    groups = [r.id for r in await tx.execute(select(t.group.c.id).where(
        t.group.c.domain_id == domain_id))]
    actors = users + groups
    if actors:
        await tx.execute(delete(t.assignment).where(t.assignment.c.actor_id.in_(actors)))
        await tx.execute(delete(t.user_group_membership).where(
            t.user_group_membership.c.user_id.in_(users)))
    if projects:
        await tx.execute(delete(t.assignment).where(t.assignment.c.target_id.in_(projects)))
        # children first: parent_id references
        await tx.execute(update(t.project).where(t.project.c.id.in_(projects))
                         .values(parent_id=None))
        await tx.execute(delete(t.project).where(t.project.c.id.in_(projects)))
    await tx.execute(delete(t.user).where(t.user.c.domain_id == domain_id))
    await tx.execute(delete(t.group).where(t.group.c.domain_id == domain_id))
    await tx.execute(delete(t.role).where(t.role.c.domain_id == domain_id))


async def subtree_ids(conn: Any, project_id: str) -> list[str]:
    """Every project below ``project_id`` (not itself), breadth first."""
    out: list[str] = []
    frontier = [project_id]
    while frontier:
        rows = await conn.execute(select(t.project.c.id).where(
            t.project.c.parent_id.in_(frontier), t.project.c.id.not_in(frontier)))
        frontier = [r.id for r in rows]
        out.extend(frontier)
    return out


async def parent_ids(conn: Any, project_id: str) -> list[str]:
    """Ancestors of a project up to and including its domain, nearest first."""
    out: list[str] = []
    current = await get_row(conn, project_id)
    while current is not None and current["parent_id"] and current["parent_id"] not in out:
        out.append(current["parent_id"])
        current = await get_row(conn, current["parent_id"])
    return out


async def project_tags(rt: Runtime, project_id: str) -> list[str]:
    project = await get_project(rt, project_id)
    return list(project["tags"])


async def set_project_tags(rt: Runtime, project_id: str, tags: Any) -> list[str]:
    tags = _validate_tags(tags)
    async with rt.db.transaction() as tx:
        if await get_row(tx.conn, project_id) is None:
            raise NotFound(f"Could not find project: {project_id}.")
        await _set_tags(tx, project_id, tags)
    return sorted(tags)


async def add_project_tag(rt: Runtime, project_id: str, tag: str) -> None:
    tags = await project_tags(rt, project_id)
    if tag not in tags:
        if len(tags) >= 80:
            raise BadRequest("A project may have at most 80 tags.")
        await set_project_tags(rt, project_id, [*tags, tag])


async def delete_project_tag(rt: Runtime, project_id: str, tag: str) -> None:
    tags = await project_tags(rt, project_id)
    if tag not in tags:
        raise NotFound(f"Tag {tag} not found for project {project_id}.")
    await set_project_tags(rt, project_id, [x for x in tags if x != tag])
