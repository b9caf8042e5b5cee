"""Images: create, show, list, update, delete, deactivate/reactivate, tags.

These are also the in-process interface the compute service calls (Nova talks to
Glance through the same operations the API offers)::

    get_image(rt, ctx, image_id) -> dict          # NotFound if absent or invisible
    create_image(rt, ctx, body) -> dict           # as POST /v2/images
    upload_image(rt, ctx, image_id, chunks) -> dict   # as PUT /v2/images/{id}/file
    delete_image(rt, ctx, image_id) -> None
    list_images(rt, ctx, filters) -> list[dict]   # the API's filters, no pagination
    open_image_data(rt, ctx, image_id) -> AsyncIterator[bytes]

Every function enforces the same policy rules as the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound
from nubo.core.runtime import Runtime
from nubo.image import tables as t
from nubo.image.notifications import image_event
from nubo.image.service import listing, quotas
from nubo.image.service.access import (
    authorize,
    is_admin,
    target,
    visible_row,
)
from nubo.image.service.records import (
    BASE,
    Status,
    check_limits,
    check_tag,
    check_value,
    refuse_protected_names,
    render,
)
from nubo.image.store import FileStore

__all__ = [
    "create_image", "deactivate_image", "delete_image", "get_image", "list_images",
    "open_image_data", "reactivate_image", "set_tag", "update_image", "upload_image",
]

Change = tuple[str, str, Any]  # (op, attribute, value): a parsed JSON-patch operation


async def get_image(rt: Runtime, ctx: RequestContext, image_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row, tgt = await visible_row(rt, ctx, conn, image_id)
    authorize(rt, ctx, "get_image", tgt)
    return render(row)


def _check_visibility_change(rt: Runtime, ctx: RequestContext, visibility: str,
                             tgt: Mapping[str, Any]) -> None:
    if visibility == "public":
        authorize(rt, ctx, "publicize_image", tgt)
    elif visibility == "community":
        authorize(rt, ctx, "communitize_image", tgt)


async def create_image(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                       ) -> dict[str, Any]:
    refuse_protected_names(body)
    for key, value in body.items():
        check_value(key, value)
    owner = body.get("owner") or ctx.project_id
    tgt = target({"owner": owner, "visibility": body.get("visibility", "shared")})
    authorize(rt, ctx, "add_image", tgt)
    if "owner" in body and body["owner"] != ctx.project_id and not is_admin(rt, ctx):
        raise Forbidden("You are not permitted to create images owned by "
                        f"'{body['owner']}'.")
    _check_visibility_change(rt, ctx, body.get("visibility", "shared"), tgt)
    properties = {k: v for k, v in body.items() if k not in BASE}
    tags = sorted(set(body.get("tags", [])))
    check_limits(properties, tags)
    now = utcnow()
    row = {
        "id": body.get("id") or str(uuid.uuid4()), "name": body.get("name"),
        "status": Status.QUEUED.value, "visibility": body.get("visibility", "shared"),
        "protected": body.get("protected", False), "os_hidden": body.get("os_hidden", False),
        "min_disk": body.get("min_disk", 0), "min_ram": body.get("min_ram", 0),
        "disk_format": body.get("disk_format"),
        "container_format": body.get("container_format"), "owner": owner,
        "created_at": now, "updated_at": now, "checksum": None, "os_hash_algo": None,
        "os_hash_value": None, "size": None, "virtual_size": None, "staged_size": None,
        "tags": tags, "properties": properties,
    }
    async with rt.db.transaction() as tx:
        await quotas.check_count(rt, tx.conn, owner)
        try:
            await tx.execute(insert(t.image).values(row))
        except IntegrityError:
            raise Conflict(f"Image with identifier {row['id']} already exists!") from None
        image_event(tx, "image.create", row)
    return render(row)


async def list_images(rt: Runtime, ctx: RequestContext, filters: Mapping[str, str]
                      ) -> list[dict[str, Any]]:
    """Every image ``ctx`` may list that matches ``filters``, newest first."""
    authorize(rt, ctx, "get_images", {"project_id": ctx.project_id or "",
                                      "owner": ctx.project_id or ""})
    visibility = filters.get("visibility")
    member_status = filters.get("member_status", "accepted")
    if visibility not in (None, "all", "public", "private", "shared", "community"):
        raise BadRequest(f"Invalid visibility value: {visibility}")
    if member_status not in ("pending", "accepted", "rejected", "all"):
        raise BadRequest(f"Invalid status value: {member_status}")
    rows = await _candidates(rt, ctx, visibility, member_status,
                             listing.equalities(filters))
    images = [render(r) for r in rows]
    tests = listing.predicates(filters)
    tags = _tags(filters)
    hidden = filters.get("os_hidden")
    show_hidden = hidden is not None and hidden.lower() == "true"
    out = [i for i in images
           if all(p(i) for p in tests) and listing.has_tags(i, tags)
           and (show_hidden or not i["os_hidden"])]
    exact = {r["id"]: r for r in rows}
    return listing.sort_images(out, listing.parse_sort(filters), exact)


def _tags(filters: Mapping[str, str]) -> list[str]:
    getlist = getattr(filters, "getlist", None)
    if getlist is not None:
        return list(getlist("tag"))
    return [filters["tag"]] if "tag" in filters else []


async def _candidates(rt: Runtime, ctx: RequestContext, visibility: str | None,
                      member_status: str, equal: Mapping[str, Any]) -> list[dict[str, Any]]:
    project = ctx.project_id or ""
    image, member = t.image, t.image_member
    shared_with_me = select(member.c.image_id).where(member.c.member_id == project)
    if member_status != "all":
        shared_with_me = shared_with_me.where(member.c.status == member_status)
    query = select(image).where(*(image.c[k] == v for k, v in equal.items()))
    if visibility in (None, "all"):
        if not is_admin(rt, ctx):
            clauses = [image.c.owner == project, image.c.visibility == "public",
                       (image.c.visibility == "shared") & image.c.id.in_(shared_with_me)]
            if visibility == "all":
                clauses.append(image.c.visibility == "community")
            query = query.where(or_(*clauses))
    else:
        query = query.where(image.c.visibility == visibility)
        if visibility == "shared" and not is_admin(rt, ctx):
            query = query.where(or_(image.c.owner == project, image.c.id.in_(shared_with_me)))
        elif visibility == "private" and not is_admin(rt, ctx):
            query = query.where(image.c.owner == project)
    async with rt.db.read() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


async def update_image(rt: Runtime, ctx: RequestContext, image_id: str,
                       changes: list[Change], *, add_replaces: bool = True) -> dict[str, Any]:
    """Apply parsed JSON-patch operations (add, replace, remove) in one transaction.

    ``add_replaces=False`` is the v2.0 patch media type: ``add`` of an attribute or
    property that is already there is 409 instead of a replace."""
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        authorize(rt, ctx, "modify_image", tgt)
        new = _apply(rt, ctx, row, tgt, changes, add_replaces)
        check_limits(new["properties"], new["tags"])
        new["updated_at"] = utcnow()
        values = {k: new[k] for k in (*BASE, "properties", "updated_at") if k != "id"}
        await tx.execute(update(t.image).where(t.image.c.id == image_id).values(values))
        image_event(tx, "image.update", new)
    return render(new)


def _apply(rt: Runtime, ctx: RequestContext, row: dict[str, Any], tgt: Mapping[str, Any],
           changes: list[Change], add_replaces: bool) -> dict[str, Any]:
    new = {**row, "properties": dict(row["properties"] or {}), "tags": list(row["tags"])}
    for op, key, value in changes:
        if op == "remove" and key == "stores":
            # computed, never stored: openstacksdk's update sends this remove back
            continue
        refuse_protected_names([key])
        if key == "id":
            raise Forbidden("Attribute 'id' is read-only.")
        props = new["properties"]
        if op == "remove":
            if key in BASE:
                raise Forbidden(f"Property {key} may not be removed.")
            if key not in props:
                raise Conflict(f"Property {key} does not exist.")
            del props[key]
            continue
        check_value(key, value)
        if op == "replace" and key not in BASE and key not in props:
            raise Conflict(f"Property {key} does not exist.")
        if op == "add" and not add_replaces and (key in BASE or key in props):
            raise Conflict(f"Property {key} already present.")
        if key == "owner" and value != row["owner"] and not is_admin(rt, ctx):
            raise Forbidden("Owner can't be updated by non admin.")
        if key == "visibility" and value != row["visibility"]:
            _check_visibility_change(rt, ctx, value, tgt)
        if key == "tags":
            value = sorted(set(value))
        if key in BASE:
            new[key] = value
        else:
            props[key] = value
    return new


async def delete_image(rt: Runtime, ctx: RequestContext, image_id: str) -> None:
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        authorize(rt, ctx, "delete_image", tgt)
        if row["protected"]:
            raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")
        await tx.execute(delete(t.image_member).where(t.image_member.c.image_id == image_id))
        await tx.execute(delete(t.image).where(t.image.c.id == image_id))
        image_event(tx, "image.delete", {**row, "status": "deleted"})
    await FileStore.from_settings(rt.settings).delete(image_id)


async def _set_status(rt: Runtime, ctx: RequestContext, image_id: str, rule: str,
                      frm: Status, to: Status) -> None:
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        authorize(rt, ctx, rule, tgt)
        if row["status"] == to.value:
            return
        if row["status"] != frm.value:
            raise Forbidden(f"Not allowed to {rule} image in status '{row['status']}'")
        await tx.execute(update(t.image).where(
            t.image.c.id == image_id, t.image.c.status == frm.value).values(
            status=to.value, updated_at=utcnow()))
        image_event(tx, "image.update", {**row, "status": to.value})


async def deactivate_image(rt: Runtime, ctx: RequestContext, image_id: str) -> None:
    await _set_status(rt, ctx, image_id, "deactivate", Status.ACTIVE, Status.DEACTIVATED)


async def reactivate_image(rt: Runtime, ctx: RequestContext, image_id: str) -> None:
    await _set_status(rt, ctx, image_id, "reactivate", Status.DEACTIVATED, Status.ACTIVE)


async def set_tag(rt: Runtime, ctx: RequestContext, image_id: str, tag: str, *,
                  present: bool) -> None:
    """Add (``present``) or remove one tag; removing an absent tag is NotFound."""
    check_tag(tag)
    async with rt.db.transaction() as tx:
        row, tgt = await visible_row(rt, ctx, tx.conn, image_id)
        authorize(rt, ctx, "modify_image", tgt)
        tags = set(row["tags"] or [])
        if not present and tag not in tags:
            raise NotFound(f"Tag {tag} not found on image {image_id}.")
        tags = tags | {tag} if present else tags - {tag}
        check_limits({}, sorted(tags))
        await tx.execute(update(t.image).where(t.image.c.id == image_id).values(
            tags=sorted(tags), updated_at=utcnow()))


# the data operations live in data.py; re-exported so callers find the whole interface here
from nubo.image.service.data import open_image_data, upload_image  # noqa: E402
