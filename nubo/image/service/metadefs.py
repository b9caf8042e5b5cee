"""Metadata definitions (Glance "metadefs"): namespaces of property, object and
tag definitions, and the resource types a namespace applies to.

Admins write them; anyone reads the public ones, and a project its own private
ones. A namespace a caller cannot see is "not found". Objects, properties, tags
and resource-type associations share one table (``metadef_item``), told apart by
``kind``; each keeps its API fields in ``body``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound
from nubo.core.runtime import Runtime
from nubo.image import tables as t
from nubo.image.service.access import authorize, is_admin
from nubo.image.service.records import timestamp

KINDS = ("object", "property", "tag", "resource_type")
# the resource types Glance's shipped definitions name, listed even when unused
RESOURCE_TYPES = ("OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor",
                  "OS::Nova::Server", "OS::Nova::Aggregate")
NAMESPACE_FIELDS = ("namespace", "display_name", "description", "visibility", "protected")
Row = dict[str, Any]


def _target(ns: Mapping[str, Any] | None, ctx: RequestContext) -> dict[str, Any]:
    owner = (ns or {}).get("owner") or ctx.project_id or ""
    return {"project_id": owner, "owner": owner,
            "visibility": (ns or {}).get("visibility", "public")}


def render_namespace(ns: Row) -> dict[str, Any]:
    out = {k: ns[k] for k in (*NAMESPACE_FIELDS, "owner") if ns.get(k) is not None}
    out.update(created_at=timestamp(ns["created_at"]), updated_at=timestamp(ns["updated_at"]),
               self=f"/v2/metadefs/namespaces/{ns['namespace']}",
               schema="/v2/schemas/metadefs/namespace")
    return out


def render_item(ns_name: str, item: Row) -> dict[str, Any]:
    out = {**item["body"], "name": item["name"]}
    if item["kind"] == "property":
        return out
    out.update(created_at=timestamp(item["created_at"]),
               updated_at=timestamp(item["updated_at"]))
    if item["kind"] == "object":
        out.update(self=f"/v2/metadefs/namespaces/{ns_name}/objects/{item['name']}",
                   schema="/v2/schemas/metadefs/object")
    return out


def _check_namespace(body: Mapping[str, Any], creating: bool) -> None:
    name = body.get("namespace")
    if creating or "namespace" in body:
        if not isinstance(name, str) or not name or len(name) > 80:
            raise BadRequest("'namespace' is required: a string of 1 to 80 characters.")
    if body.get("visibility", "private") not in ("public", "private"):
        raise BadRequest(f"Invalid visibility {body['visibility']!r}: public or private.")
    if not isinstance(body.get("protected", False), bool):
        raise BadRequest("'protected' must be a boolean.")
    for key in ("display_name", "description"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise BadRequest(f"'{key}' must be a string.")


def _check_name(body: Mapping[str, Any], what: str) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name or len(name) > 255:
        raise BadRequest(f"The {what} needs a 'name' of 1 to 255 characters.")
    return name


async def _load(rt: Runtime, ctx: RequestContext, conn: AsyncConnection, name: str) -> Row:
    row = (await conn.execute(select(t.metadef_namespace).where(
        t.metadef_namespace.c.namespace == name))).mappings().first()
    if row is None or not (row["visibility"] == "public" or row["owner"] == ctx.project_id
                           or is_admin(rt, ctx)):
        raise NotFound(f"Metadata definition namespace={name} was not found.")
    return dict(row)


async def _items(conn: AsyncConnection, ns_id: str, kind: str) -> list[Row]:
    rows = await conn.execute(select(t.metadef_item).where(
        t.metadef_item.c.namespace_id == ns_id, t.metadef_item.c.kind == kind
    ).order_by(t.metadef_item.c.created_at, t.metadef_item.c.name))
    return [dict(r) for r in rows.mappings()]


# ---------------------------------------------------------------- namespaces


async def create_namespace(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                           ) -> dict[str, Any]:
    authorize(rt, ctx, "add_metadef_namespace", _target(None, ctx))
    _check_namespace(body, creating=True)
    now = utcnow()
    ns = {"id": str(uuid.uuid4()), "namespace": body["namespace"],
          "display_name": body.get("display_name"), "description": body.get("description"),
          "visibility": body.get("visibility", "private"),
          "protected": body.get("protected", False), "owner": body.get("owner") or ctx.project_id,
          "created_at": now, "updated_at": now}
    async with rt.db.transaction() as tx:
        try:
            await tx.execute(insert(t.metadef_namespace).values(ns))
        except IntegrityError:
            raise Conflict(f"Metadata definition namespace={ns['namespace']} already "
                           "exists.") from None
        for rta in body.get("resource_type_associations") or []:
            await _insert(tx.conn, ns["id"], "resource_type", _check_name(rta, "association"),
                          _association_body(rta))
        for obj in body.get("objects") or []:
            await _insert(tx.conn, ns["id"], "object", _check_name(obj, "object"),
                          _object_body(obj))
        for name, prop in (body.get("properties") or {}).items():
            await _insert(tx.conn, ns["id"], "property", name, _property_body(prop))
        for tag in body.get("tags") or []:
            await _insert(tx.conn, ns["id"], "tag", _check_name(tag, "tag"), {})
    return render_namespace(ns)


async def list_namespaces(rt: Runtime, ctx: RequestContext, filters: Mapping[str, str]
                          ) -> list[dict[str, Any]]:
    authorize(rt, ctx, "get_metadef_namespaces", _target(None, ctx))
    async with rt.db.read() as conn:
        rows = [dict(r) for r in (await conn.execute(select(t.metadef_namespace).order_by(
            t.metadef_namespace.c.created_at))).mappings()]
        admin = is_admin(rt, ctx)
        rows = [r for r in rows if admin or r["visibility"] == "public"
                or r["owner"] == ctx.project_id]
        if filters.get("visibility"):
            rows = [r for r in rows if r["visibility"] == filters["visibility"]]
        wanted = [x for x in (filters.get("resource_types") or "").split(",") if x]
        out = []
        for row in rows:
            types = [i["name"] for i in await _items(conn, row["id"], "resource_type")]
            if wanted and not set(wanted) & set(types):
                continue
            out.append(render_namespace(row))
    return out


async def get_namespace(rt: Runtime, ctx: RequestContext, name: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        ns = await _load(rt, ctx, conn, name)
        authorize(rt, ctx, "get_metadef_namespace", _target(ns, ctx))
        out = render_namespace(ns)
        objects = await _items(conn, ns["id"], "object")
        props = await _items(conn, ns["id"], "property")
        rtas = await _items(conn, ns["id"], "resource_type")
        tags = await _items(conn, ns["id"], "tag")
    if objects:
        out["objects"] = [render_item(name, o) for o in objects]
    if props:
        out["properties"] = {p["name"]: render_item(name, p) for p in props}
    if rtas:
        out["resource_type_associations"] = [render_item(name, r) for r in rtas]
    if tags:
        out["tags"] = [{"name": tg["name"]} for tg in tags]
    return out


async def update_namespace(rt: Runtime, ctx: RequestContext, name: str,
                           body: Mapping[str, Any]) -> dict[str, Any]:
    _check_namespace(body, creating=False)
    async with rt.db.transaction() as tx:
        ns = await _load(rt, ctx, tx.conn, name)
        authorize(rt, ctx, "modify_metadef_namespace", _target(ns, ctx))
        values = {k: body[k] for k in NAMESPACE_FIELDS if k in body}
        values["updated_at"] = utcnow()
        try:
            await tx.execute(update(t.metadef_namespace).where(
                t.metadef_namespace.c.id == ns["id"]).values(values))
        except IntegrityError:
            raise Conflict(f"Metadata definition namespace={body['namespace']} already "
                           "exists.") from None
    return render_namespace({**ns, **values})


async def delete_namespace(rt: Runtime, ctx: RequestContext, name: str) -> None:
    async with rt.db.transaction() as tx:
        ns = await _load(rt, ctx, tx.conn, name)
        authorize(rt, ctx, "delete_metadef_namespace", _target(ns, ctx))
        if ns["protected"]:
            raise Forbidden(f"Metadata definition namespace {name} is protected and cannot "
                            "be deleted.")
        await tx.execute(delete(t.metadef_item).where(
            t.metadef_item.c.namespace_id == ns["id"]))
        await tx.execute(delete(t.metadef_namespace).where(
            t.metadef_namespace.c.id == ns["id"]))


# ---------------------------------------------------------------- items


def _object_body(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": body.get("description"), "required": body.get("required") or [],
            "properties": body.get("properties") or {}}


def _property_body(body: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise BadRequest("A property definition must be an object.")
    if not isinstance(body.get("title"), str) or not isinstance(body.get("type"), str):
        raise BadRequest("A property definition needs a 'title' and a 'type'.")
    return {k: v for k, v in body.items() if k != "name"}


def _association_body(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("prefix", "properties_target") if body.get(k) is not None}


def _tag_body(body: Mapping[str, Any]) -> dict[str, Any]:
    return {}


BODIES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "object": _object_body, "property": _property_body, "resource_type": _association_body,
    "tag": _tag_body}
RULES = {"object": "metadef_object", "property": "metadef_property", "tag": "metadef_tag",
         "resource_type": "metadef_resource_type"}


async def _insert(conn: AsyncConnection, ns_id: str, kind: str, name: str,
                  body: Mapping[str, Any]) -> Row:
    await _refuse_duplicate(conn, ns_id, kind, name)
    now = utcnow()
    item = {"namespace_id": ns_id, "kind": kind, "name": name, "body": dict(body),
            "created_at": now, "updated_at": now}
    await conn.execute(insert(t.metadef_item).values(item))
    return item


async def _refuse_duplicate(conn: AsyncConnection, ns_id: str, kind: str, name: str) -> None:
    found = (await conn.execute(select(t.metadef_item.c.name).where(
        t.metadef_item.c.namespace_id == ns_id, t.metadef_item.c.kind == kind,
        t.metadef_item.c.name == name))).first()
    if found is not None:
        raise Conflict(f"A metadata definition {kind} with name={name} already exists in "
                       "this namespace.")


def _not_found(kind: str, name: str, ns: str) -> NotFound:
    return NotFound(f"Metadata definition {kind} {name} was not found in namespace {ns}.")


async def create_item(rt: Runtime, ctx: RequestContext, ns_name: str, kind: str,
                      body: Mapping[str, Any]) -> dict[str, Any]:
    name = _check_name(body, kind)
    rule = ("add_metadef_resource_type_association" if kind == "resource_type"
            else f"add_{RULES[kind]}")
    async with rt.db.transaction() as tx:
        ns = await _load(rt, ctx, tx.conn, ns_name)
        authorize(rt, ctx, rule, _target(ns, ctx))
        item = await _insert(tx.conn, ns["id"], kind, name, BODIES[kind](body))
    return render_item(ns_name, item)


async def list_items(rt: Runtime, ctx: RequestContext, ns_name: str, kind: str
                     ) -> list[dict[str, Any]]:
    plural = {"object": "objects", "property": "properties", "tag": "tags"}
    rule = ("list_metadef_resource_types" if kind == "resource_type"
            else f"get_metadef_{plural[kind]}")
    async with rt.db.read() as conn:
        ns = await _load(rt, ctx, conn, ns_name)
        authorize(rt, ctx, rule, _target(ns, ctx))
        return [render_item(ns_name, i) for i in await _items(conn, ns["id"], kind)]


async def _item(conn: AsyncConnection, ns: Row, kind: str, name: str) -> Row:
    row = (await conn.execute(select(t.metadef_item).where(
        t.metadef_item.c.namespace_id == ns["id"], t.metadef_item.c.kind == kind,
        t.metadef_item.c.name == name))).mappings().first()
    if row is None:
        raise _not_found(kind, name, ns["namespace"])
    return dict(row)


async def get_item(rt: Runtime, ctx: RequestContext, ns_name: str, kind: str, name: str
                   ) -> dict[str, Any]:
    async with rt.db.read() as conn:
        ns = await _load(rt, ctx, conn, ns_name)
        authorize(rt, ctx, f"get_{RULES[kind]}", _target(ns, ctx))
        return render_item(ns_name, await _item(conn, ns, kind, name))


async def update_item(rt: Runtime, ctx: RequestContext, ns_name: str, kind: str, name: str,
                      body: Mapping[str, Any]) -> dict[str, Any]:
    new_name = _check_name(body, kind)
    async with rt.db.transaction() as tx:
        ns = await _load(rt, ctx, tx.conn, ns_name)
        authorize(rt, ctx, f"modify_{RULES[kind]}", _target(ns, ctx))
        item = await _item(tx.conn, ns, kind, name)
        values = {"name": new_name, "body": BODIES[kind](body), "updated_at": utcnow()}
        if new_name != name:
            await _refuse_duplicate(tx.conn, ns["id"], kind, new_name)
        await tx.execute(update(t.metadef_item).where(
            t.metadef_item.c.namespace_id == ns["id"], t.metadef_item.c.kind == kind,
            t.metadef_item.c.name == name).values(values))
    return render_item(ns_name, {**item, **values})


async def delete_items(rt: Runtime, ctx: RequestContext, ns_name: str, kind: str,
                       name: str | None = None) -> None:
    """Delete one item, or (``name`` None) every item of ``kind`` in the namespace."""
    if kind == "resource_type":
        rule = "remove_metadef_resource_type_association"
    else:
        rule = f"{'remove' if kind == 'property' else 'delete'}_{RULES[kind]}"
        rule += "s" if name is None and kind == "tag" else ""
    async with rt.db.transaction() as tx:
        ns = await _load(rt, ctx, tx.conn, ns_name)
        authorize(rt, ctx, rule, _target(ns, ctx))
        if name is None and ns["protected"]:
            raise Forbidden(f"Namespace {ns_name} is protected: its {kind}s cannot all be "
                            "deleted.")
        query = delete(t.metadef_item).where(t.metadef_item.c.namespace_id == ns["id"],
                                             t.metadef_item.c.kind == kind)
        if name is not None:
            await _item(tx.conn, ns, kind, name)
            query = query.where(t.metadef_item.c.name == name)
        await tx.execute(query)


async def replace_tags(rt: Runtime, ctx: RequestContext, ns_name: str,
                       tags: Any) -> list[dict[str, Any]]:
    """``POST .../tags``: the namespace's tags become exactly ``tags``."""
    if not isinstance(tags, list):
        raise BadRequest("'tags' must be a list of objects with a 'name'.")
    names = [_check_name(tag, "tag") for tag in tags]
    if len(set(names)) != len(names):
        raise Conflict("Duplicate tag names in the request.")
    async with rt.db.transaction() as tx:
        ns = await _load(rt, ctx, tx.conn, ns_name)
        authorize(rt, ctx, "add_metadef_tags", _target(ns, ctx))
        await tx.execute(delete(t.metadef_item).where(
            t.metadef_item.c.namespace_id == ns["id"], t.metadef_item.c.kind == "tag"))
        made = [await _insert(tx.conn, ns["id"], "tag", name, {}) for name in names]
    return [render_item(ns_name, m) for m in made]


async def list_resource_types(rt: Runtime, ctx: RequestContext) -> list[dict[str, Any]]:
    authorize(rt, ctx, "list_metadef_resource_types", _target(None, ctx))
    async with rt.db.read() as conn:
        used = (await conn.execute(select(t.metadef_item.c.name).where(
            t.metadef_item.c.kind == "resource_type").distinct())).scalars()
        names = sorted(set(RESOURCE_TYPES) | set(used))
    return [{"name": n} for n in names]
