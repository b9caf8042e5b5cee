"""Security groups: create, list, show, update, delete; each project's ``default``
group, made on first use; the checks a port's groups pass.

A group is visible to its project and to projects it is shared with (RBAC
``access_as_shared`` on object type ``security_group``). A new group gets the rules
of the templates for its kind (``default_security_group_rules``), and they count
against the project's ``security_group_rule`` quota as Neutron counts them.

Locks are taken in one order so concurrent requests never wait on each other in a
circle: quota usage rows (``security_group`` before ``security_group_rule``), then a
group's row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.service import default_security_group_rules as templates
from nubo.network.service import quotas, rbac, standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
    to_bool,
)
from nubo.network.sg_rules import Rule, normalized_cidr
from nubo.network.sg_templates import (
    DEFAULT_GROUP_DESCRIPTION,
    DEFAULT_GROUP_NAME,
    rules_for_new_group,
)

SG, R, D = t.security_groups, t.security_group_rules, t.default_security_groups
TYPE = "security_group"
TAGS = "security-groups"  # the collection in URLs, and the tags' resource type


def _shared_filter(values: list[str]) -> Any:
    wanted = {to_bool(v) for v in values}
    shared = SG.c.id.in_(select(rbac.R.c.object_id).where(
        rbac.R.c.object_type == TYPE, rbac.R.c.action == rbac.SHARED))
    if wanted == {True}:
        return shared
    if wanted == {False}:
        return ~shared
    return SG.c.id.isnot(None)


COLLECTION = Collection(
    name=TAGS, table=SG,
    filters={**standard_filters(SG), "stateful": column_filter(SG.c.stateful, to_bool),
             "shared": _shared_filter},
    sort_keys={**{k: SG.c[k] for k in ("id", "name", "description", "stateful", "project_id",
                                       "created_at", "updated_at", "revision_number")},
               "tenant_id": SG.c.project_id},
)


def not_found(group_id: str) -> NotFound:
    return NotFound(f"Security group {group_id} does not exist", type="SecurityGroupNotFound")


def _visible(rt: Runtime, ctx: RequestContext) -> list[Any]:
    if standard.is_admin(rt, ctx):
        return []
    return [rbac.visible_or_owned(TYPE, SG.c.id, SG.c.project_id, ctx.project_id)]


# ------------------------------------------------------------------ rules, as groups show them


def rule_view(row: Row[Any], in_default_group: bool) -> dict[str, Any]:
    """A rule as Neutron shows it (``belongs_to_default_sg``: its group is a ``default``)."""
    out = standard.view(row, None)
    out.update({
        "security_group_id": row.security_group_id, "direction": row.direction,
        "ethertype": row.ethertype, "protocol": row.protocol,
        "port_range_min": row.port_range_min, "port_range_max": row.port_range_max,
        "remote_ip_prefix": row.remote_ip_prefix,
        "normalized_cidr": normalized_cidr(row.remote_ip_prefix),
        "remote_group_id": row.remote_group_id,
        "remote_address_group_id": row.remote_address_group_id,
        "belongs_to_default_sg": in_default_group,
    })
    return out


async def default_groups(conn: AsyncConnection | Tx, group_ids: Iterable[str]) -> set[str]:
    """Which of the groups are their project's ``default``."""
    wanted = list(set(group_ids))
    if not wanted:
        return set()
    rows = await conn.execute(select(D.c.security_group_id)
                              .where(D.c.security_group_id.in_(wanted)))
    return {r[0] for r in rows}


async def rules_of(conn: AsyncConnection | Tx, group_ids: Sequence[str]
                   ) -> dict[str, list[dict[str, Any]]]:
    """The rules of each group, in the order they were made, in one query."""
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in group_ids}
    if not group_ids:
        return out
    defaults = await default_groups(conn, group_ids)
    rows = await conn.execute(select(R).where(R.c.security_group_id.in_(list(group_ids)))
                              .order_by(R.c.created_at, R.c.id))
    for row in rows:
        out[row.security_group_id].append(rule_view(row, row.security_group_id in defaults))
    return out


async def insert_rules_tx(tx: Tx, group_id: str, project_id: str | None, rules: Sequence[Rule]
                          ) -> list[str]:
    """Insert rules into a group (no checks: the caller has made them); their ids."""
    rows = []
    for rule in rules:
        values = standard.new_values(project_id, {"description": rule.description})
        values.update(rule.columns(), security_group_id=group_id, rule_key=rule.key)
        rows.append(values)
    if rows:
        await tx.execute(insert(R), rows)
    return [r["id"] for r in rows]


# ------------------------------------------------------------------------------ groups


async def views(conn: AsyncConnection | Tx, ctx: RequestContext, rows: Sequence[Row[Any]]
                ) -> list[dict[str, Any]]:
    """Groups as Neutron shows them, with their rules, sharing and tags."""
    ids = [r.id for r in rows]
    rules = await rules_of(conn, ids)
    shared = await rbac.granted(conn, TYPE, ids, rbac.SHARED, ctx.project_id)
    tags = await standard.tags_of(conn, TAGS, ids)
    out = []
    for row in rows:
        view = standard.view(row, tags[row.id])
        view.update(name=row.name, stateful=row.stateful, shared=row.id in shared,
                    security_group_rules=rules[row.id])
        out.append(view)
    return out


async def find_security_group(conn: AsyncConnection | Tx, rt: Runtime, ctx: RequestContext,
                              group_id: str, *, lock: bool = False) -> Row[Any]:
    """The group's row if the caller may see it (locked for update with ``lock``);
    404 SecurityGroupNotFound otherwise."""
    stmt = select(SG).where(SG.c.id == group_id, *_visible(rt, ctx))
    if lock:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise not_found(group_id)
    return row


async def owner_of(rt: Runtime, ctx: RequestContext, group_id: str) -> str | None:
    """The project of a group the caller sees (404 otherwise), for policy checks."""
    async with rt.db.read() as conn:
        owner: str | None = (await find_security_group(conn, rt, ctx, group_id)).project_id
        return owner


async def get_security_group(rt: Runtime, ctx: RequestContext, group_id: str
                             ) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_security_group(conn, rt, ctx, group_id)
        return (await views(conn, ctx, [row]))[0]


async def list_security_groups(rt: Runtime, ctx: RequestContext, query: ListQuery
                               ) -> tuple[list[dict[str, Any]], bool]:
    """The groups the caller sees; the listed project's ``default`` is made first."""
    await ensure_default(rt, ctx, listed_project(ctx, query))
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, _visible(rt, ctx))
        return await views(conn, ctx, rows), more


def listed_project(ctx: RequestContext, query: ListQuery) -> str | None:
    """The project a list asks for (its first ``project_id``/``tenant_id``), else the
    caller's: whose ``default`` group Neutron makes before listing."""
    asked = query.filters.get("project_id") or query.filters.get("tenant_id")
    return asked[0] if asked else ctx.project_id


async def create_security_group(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                                ) -> dict[str, Any]:
    project_id = standard.owner(ctx, body)
    async with rt.db.transaction() as tx:
        await ensure_default_tx(tx, rt, project_id)
        values = standard.new_values(project_id, body)
        values.update(name=body.get("name", ""), stateful=body.get("stateful", True))
        await _insert_group(tx, rt, values, default=False)
        if body.get("tags"):
            await standard.replace_tags(tx, TAGS, values["id"], body["tags"])
        tx.publish("network.security_group.create", {"id": values["id"]})
        row = await standard.row_of(tx, SG, values["id"])
        return (await views(tx, ctx, [row]))[0]


async def _insert_group(tx: Tx, rt: Runtime, values: Mapping[str, Any], *, default: bool
                        ) -> None:
    """A new group with the rules of its templates, counted in the project's quotas.

    A ``default`` group is recorded in ``network_default_security_groups`` right after
    its row, so that a concurrent creation of the same project's ``default`` fails on
    the primary key before it takes any quota lock.
    """
    settings = rt.settings.network
    project_id, group_id = values["project_id"], values["id"]
    await tx.execute(insert(SG).values(values))
    if default:
        await tx.execute(insert(D).values(project_id=project_id, security_group_id=group_id))
    rules = rules_for_new_group(await templates.templates(tx, default_group=default),
                                group_id, default_group=default)
    await quotas.consume(tx, settings, project_id, "security_group", enforce=not default)
    await quotas.consume(tx, settings, project_id, "security_group_rule", len(rules))
    await insert_rules_tx(tx, group_id, project_id, rules)


async def update_security_group(rt: Runtime, ctx: RequestContext, group_id: str,
                                body: Mapping[str, Any], *, if_match: int | None = None
                                ) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        row = await find_security_group(tx, rt, ctx, group_id)
        if "stateful" in body and body["stateful"] != row.stateful \
                and await _in_use(tx, group_id):
            raise in_use(group_id)
        if row.name == DEFAULT_GROUP_NAME and "name" in body:
            raise Conflict("Updating default security group not allowed.",
                           type="SecurityGroupCannotUpdateDefault")
        values = {k: body[k] for k in ("name", "stateful") if k in body}
        if "description" in body:
            values["description"] = standard.description(body)
        await standard.touch(tx, SG, group_id, values, if_match=if_match)
        tx.publish("network.security_group.update", {"id": group_id})
        row = await standard.row_of(tx, SG, group_id)
        return (await views(tx, ctx, [row]))[0]


def in_use(group_id: str) -> Conflict:
    return Conflict(f"Security Group {group_id} in use.", type="SecurityGroupInUse")


async def _in_use(tx: Tx, group_id: str) -> bool:
    P = t.port_security_groups
    found = (await tx.execute(select(P.c.port_id).where(P.c.security_group_id == group_id)
                              .limit(1))).first()
    return found is not None


async def delete_security_group(rt: Runtime, ctx: RequestContext, group_id: str, *,
                                if_match: int | None = None) -> None:
    """Delete a group no port uses, with its rules and the rules of other groups that
    match it (``remote_group_id``); only an admin deletes a ``default`` group."""
    async with rt.db.transaction() as tx:
        row = await find_security_group(tx, rt, ctx, group_id)
        if await _in_use(tx, group_id):
            raise in_use(group_id)
        if row.name == DEFAULT_GROUP_NAME and not standard.is_admin(rt, ctx):
            raise Conflict("Insufficient rights for removing default security group.",
                           type="SecurityGroupCannotRemoveDefault")
        await quotas.release(tx, row.project_id, "security_group")
        own = R.c.security_group_id == group_id
        counted = await _release_rules(tx, rt, own, {}, lock=False)
        await find_security_group(tx, rt, ctx, group_id, lock=True)
        if if_match is not None:
            await standard.touch(tx, SG, group_id, if_match=if_match)
        # rules added or deleted while this request waited for the lock
        await _release_rules(tx, rt, own, counted, lock=True)
        await _release_rules(tx, rt, (R.c.remote_group_id == group_id) & ~own, {}, lock=True)
        await tx.execute(delete(R).where(own | (R.c.remote_group_id == group_id)))
        await tx.execute(delete(D).where(D.c.security_group_id == group_id))
        await rbac.forget(tx, TYPE, group_id)
        await standard.drop_tags(tx, TAGS, [group_id])
        try:
            await tx.execute(delete(SG).where(SG.c.id == group_id))
        except IntegrityError:  # a port took the group meanwhile
            raise in_use(group_id) from None
        tx.publish("network.security_group.delete", {"id": group_id})


async def _release_rules(tx: Tx, rt: Runtime, where: Any, counted: Mapping[str | None, int],
                         *, lock: bool) -> dict[str | None, int]:
    """Give back the rule quota of the rules ``where`` selects, per owner, less what
    ``counted`` gave back already; the counts. Quota rows are locked before the
    group's row; the second pass, under the group's lock, reads the rules with a
    locking read, which sees what concurrent requests committed meanwhile."""
    stmt = select(R.c.project_id).where(where)
    if lock:
        stmt = stmt.with_for_update(read=True)
    counts: dict[str | None, int] = {}
    for (project,) in await tx.execute(stmt):
        counts[project] = counts.get(project, 0) + 1
    for project in sorted(set(counts) | set(counted), key=str):
        change = counts.get(project, 0) - counted.get(project, 0)
        if change > 0:
            await quotas.release(tx, project, "security_group_rule", change)
        elif change < 0:
            await quotas.consume(tx, rt.settings.network, project, "security_group_rule",
                                 -change, enforce=False)
    return counts


# ---------------------------------------------------------- the default group; ports' groups


_DEFAULT_ID = {lock: prebuilt(select(D.c.security_group_id).where(
    D.c.project_id == bindparam("b_project")).with_for_update(read=True) if lock
    else select(D.c.security_group_id).where(D.c.project_id == bindparam("b_project")))
    for lock in (False, True)}


async def _default_id(conn: AsyncConnection | Tx, project_id: str, *, lock: bool = False
                      ) -> str | None:
    # a locking read sees the row a concurrent request committed meanwhile
    found = (await conn.execute(_DEFAULT_ID[lock], {"b_project": project_id})).scalar()
    return None if found is None else str(found)


async def ensure_default_tx(tx: Tx, rt: Runtime, project_id: str) -> str:
    """The id of the project's ``default`` group, made with its rules if it has none.

    Safe however many requests of a new project arrive at once: the group is made in
    a savepoint, and whoever loses the race on the primary key of
    ``network_default_security_groups`` takes the winner's group instead.
    """
    found = await _default_id(tx, project_id)
    if found is not None:
        return found
    values = standard.new_values(project_id, {"description": DEFAULT_GROUP_DESCRIPTION})
    values.update(name=DEFAULT_GROUP_NAME, stateful=True)
    try:
        async with tx.conn.begin_nested():
            await _insert_group(tx, rt, values, default=True)
    except IntegrityError as e:
        if not is_duplicate(e):
            raise
        found = await _default_id(tx, project_id, lock=True)
        if found is None:
            raise
        return found
    tx.publish("network.security_group.create", {"id": values["id"]})
    return str(values["id"])


async def ensure_default(rt: Runtime, ctx: RequestContext, project_id: str | None
                         ) -> str | None:
    """Make the project's ``default`` group if it has none, as Neutron does before
    listing groups or rules: only for the caller's own project, or by an admin."""
    if project_id is None or (project_id != ctx.project_id and not standard.is_admin(rt, ctx)):
        return None
    async with rt.db.read() as conn:
        found = await _default_id(conn, project_id)
    if found is not None:
        return found
    async with rt.db.transaction() as tx:
        return await ensure_default_tx(tx, rt, project_id)


async def check_usable_tx(tx: Tx, rt: Runtime, ctx: RequestContext, project_id: str,
                          group_ids: Iterable[str]) -> None:
    """A port of ``project_id`` may use these groups: each exists and the project owns
    it or has it shared (an admin may use any), else 404 SecurityGroupNotFound naming
    the missing ones; stateful and stateless groups together are a 409."""
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        return
    stmt = select(SG.c.id, SG.c.stateful).where(SG.c.id.in_(wanted))
    if not standard.is_admin(rt, ctx):
        stmt = stmt.where(rbac.visible_or_owned(TYPE, SG.c.id, SG.c.project_id, project_id))
    rows = list(await tx.execute(stmt))
    found = {r.id for r in rows}
    missing = [g for g in wanted if g not in found]
    if missing:
        raise not_found(", ".join(missing))
    if len({r.stateful for r in rows}) > 1:
        raise Conflict("Error Cannot apply both stateful and stateless security groups on "
                       "the same port at the same time while attempting the operation.",
                       type="SecurityGroupConflict")
