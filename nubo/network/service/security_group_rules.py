"""Security group rules: create (one, or several of one group at once), list, show,
delete. Rules cannot be changed.

A duplicate is refused by the database: ``rule_key`` (``sg_rules.rule_key``, Neutron's
comparison) is unique per group, so two identical rules sent at once cannot both be
stored. Concurrent creates in one group all succeed: each waits for the group's row
lock in turn (taken after the project's rule quota row, as everywhere), inserts, and
bumps the group's ``revision_number`` with a plain increment.

A project sees the rules of its own groups (admins see all): Neutron's
``get_security_group_rule`` is for the group's owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.service import address_groups, quotas, security_groups, standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
    to_bool,
    to_int,
)
from nubo.network.sg_rules import Rule, check_unique_in_request, rule_exists

R, SG, D = t.security_group_rules, t.security_groups, t.default_security_groups


def _in_default_group(values: list[str]) -> Any:
    wanted = {to_bool(v) for v in values}
    in_default = R.c.security_group_id.in_(select(D.c.security_group_id))
    if wanted == {True}:
        return in_default
    if wanted == {False}:
        return ~in_default
    return R.c.id.isnot(None)


_COLUMNS = ("security_group_id", "direction", "ethertype", "protocol", "remote_ip_prefix",
            "remote_group_id", "remote_address_group_id")
COLLECTION = Collection(
    name="security-group-rules", table=R, tagged=False,
    filters={**standard_filters(R), **{k: column_filter(R.c[k]) for k in _COLUMNS},
             "port_range_min": column_filter(R.c.port_range_min, to_int),
             "port_range_max": column_filter(R.c.port_range_max, to_int),
             "belongs_to_default_sg": _in_default_group},
    sort_keys={**{k: R.c[k] for k in (*_COLUMNS, "id", "port_range_min", "port_range_max",
                                      "project_id", "created_at", "updated_at",
                                      "revision_number")},
               "tenant_id": R.c.project_id},
)


def not_found(rule_id: str) -> NotFound:
    return NotFound(f"Security group rule {rule_id} does not exist",
                    type="SecurityGroupRuleNotFound")


def _visible(rt: Runtime, ctx: RequestContext) -> list[Any]:
    if standard.is_admin(rt, ctx):
        return []
    return [R.c.security_group_id.in_(select(SG.c.id).where(SG.c.project_id == ctx.project_id))]


async def views(conn: AsyncConnection | Tx, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    defaults = await security_groups.default_groups(conn, [r.security_group_id for r in rows])
    return [security_groups.rule_view(r, r.security_group_id in defaults) for r in rows]


async def list_rules(rt: Runtime, ctx: RequestContext, query: ListQuery
                     ) -> tuple[list[dict[str, Any]], bool]:
    """The rules the caller sees; the listed project's ``default`` group is made first."""
    await security_groups.ensure_default(rt, ctx, security_groups.listed_project(ctx, query))
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, _visible(rt, ctx))
        return await views(conn, rows), more


async def find_rule(conn: AsyncConnection | Tx, rt: Runtime, ctx: RequestContext,
                    rule_id: str) -> Row[Any]:
    """The rule's row if the caller may see it; 404 SecurityGroupRuleNotFound otherwise."""
    row = (await conn.execute(select(R).where(R.c.id == rule_id, *_visible(rt, ctx)))).first()
    if row is None:
        raise not_found(rule_id)
    return row


async def get_rule(rt: Runtime, ctx: RequestContext, rule_id: str
                   ) -> tuple[dict[str, Any], str | None]:
    """The rule as shown, and the project that owns its group (for policy)."""
    async with rt.db.read() as conn:
        row = await find_rule(conn, rt, ctx, rule_id)
        owner = (await conn.execute(select(SG.c.project_id)
                                    .where(SG.c.id == row.security_group_id))).scalar()
        return (await views(conn, [row]))[0], owner


async def create_rules(rt: Runtime, ctx: RequestContext, project_id: str, group_id: str,
                       rules: Sequence[Rule]) -> list[dict[str, Any]]:
    """Add rules of ``project_id`` to a group the caller sees (404 otherwise).

    409 DuplicateSecurityGroupRuleInPost for the same rule twice in the request,
    409 SecurityGroupRuleExists for a rule the group has; 404 for a remote group or
    address group the project may not use; nothing is stored unless all are.
    """
    check_unique_in_request(rules)
    async with rt.db.transaction() as tx:
        await quotas.consume(tx, rt.settings.network, project_id, "security_group_rule",
                             len(rules))
        await security_groups.find_security_group(tx, rt, ctx, group_id, lock=True)
        for rule in rules:
            await _check_remotes(tx, rt, ctx, project_id, rule)
        ids = await _insert(tx, group_id, project_id, rules)
        await standard.touch(tx, SG, group_id)
        for rule_id in ids:
            tx.publish("network.security_group_rule.create",
                       {"id": rule_id, "security_group_id": group_id})
        rows = list(await tx.execute(select(R).where(R.c.id.in_(ids))))
        by_id = {r.id: r for r in rows}
        return await views(tx, [by_id[i] for i in ids])


async def _check_remotes(tx: Tx, rt: Runtime, ctx: RequestContext, project_id: str,
                         rule: Rule) -> None:
    if rule.remote_group_id:
        await security_groups.check_usable_tx(tx, rt, ctx, project_id, [rule.remote_group_id])
    if rule.remote_address_group_id:
        await address_groups.check_usable_tx(tx, rt, ctx, project_id,
                                             rule.remote_address_group_id)


async def _insert(tx: Tx, group_id: str, project_id: str, rules: Sequence[Rule]) -> list[str]:
    try:
        async with tx.conn.begin_nested():
            return await security_groups.insert_rules_tx(tx, group_id, project_id, rules)
    except IntegrityError as e:
        if not is_duplicate(e):
            raise
        keys = [rule.key for rule in rules]
        existing = (await tx.execute(
            select(R.c.id).where(R.c.security_group_id == group_id, R.c.rule_key.in_(keys))
            .limit(1).with_for_update(read=True))).scalar()
        if existing is None:
            raise
        raise rule_exists(str(existing)) from None


async def delete_rule(rt: Runtime, ctx: RequestContext, rule_id: str) -> None:
    async with rt.db.transaction() as tx:
        row = await find_rule(tx, rt, ctx, rule_id)
        await quotas.release(tx, row.project_id, "security_group_rule")
        await standard.touch(tx, SG, row.security_group_id)
        if (await tx.execute(delete(R).where(R.c.id == rule_id))).rowcount == 0:
            raise not_found(rule_id)
        tx.publish("network.security_group_rule.delete",
                   {"id": rule_id, "security_group_id": row.security_group_id})
