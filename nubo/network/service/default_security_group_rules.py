"""The rule templates new security groups get (``/v2.0/default-security-group-rules``).

Neutron's four built-in templates are seeded by migration ``network_0002``; an admin
adds and deletes templates (they cannot be updated). A template is unique per kind
of group it is used for: the unique ``default_key`` and ``non_default_key`` columns
refuse a duplicate even when two admins add it at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, or_, select, true
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    to_bool,
    to_int,
)
from nubo.network.service.standard import new_id
from nubo.network.sg_templates import (
    Template,
    conflicting_template,
    parse_template,
    template_exists,
    template_view,
)

T = t.default_security_group_rules

COLLECTION = Collection(
    name="default-security-group-rules", table=T, tagged=False,
    filters={
        "id": column_filter(T.c.id), "description": column_filter(T.c.description),
        "direction": column_filter(T.c.direction), "ethertype": column_filter(T.c.ethertype),
        "protocol": column_filter(T.c.protocol),
        "port_range_min": column_filter(T.c.port_range_min, to_int),
        "port_range_max": column_filter(T.c.port_range_max, to_int),
        "remote_ip_prefix": column_filter(T.c.remote_ip_prefix),
        "remote_group_id": column_filter(T.c.remote_group_id),
        "remote_address_group_id": column_filter(T.c.remote_address_group_id),
        "used_in_default_sg": column_filter(T.c.used_in_default_sg, to_bool),
        "used_in_non_default_sg": column_filter(T.c.used_in_non_default_sg, to_bool),
    },
    sort_keys={k: T.c[k] for k in (
        "id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
        "remote_ip_prefix", "remote_group_id", "remote_address_group_id")},
)


def _template(row: Row[Any]) -> Template:
    return Template.from_row(dict(row._mapping))


async def templates(conn: AsyncConnection | Tx, *, default_group: bool) -> list[Template]:
    """The templates for a project's ``default`` group, or for any other new group."""
    used = T.c.used_in_default_sg if default_group else T.c.used_in_non_default_sg
    rows = await conn.execute(select(T).where(used == true()).order_by(T.c.id))
    return [_template(r) for r in rows]


async def list_templates(rt: Runtime, query: ListQuery
                         ) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query)
    return [template_view(r.id, _template(r)) for r in rows], more


async def get_template(rt: Runtime, template_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = (await conn.execute(select(T).where(T.c.id == template_id))).first()
    if row is None:
        raise NotFound(f"Default Security Group rule {template_id} does not exist",
                       type="DefaultSecurityGroupRuleNotFound")
    return template_view(row.id, _template(row))


async def create_template(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    """A new template (409 DefaultSecurityGroupRuleExists for a duplicate)."""
    template = parse_template(body)
    template_id = new_id()
    async with rt.db.transaction() as tx:
        existing = [(r.id, _template(r))
                    for r in await tx.execute(select(T))]
        duplicate = conflicting_template(template, existing)
        if duplicate is not None:
            raise template_exists(duplicate)
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(T).values(
                    id=template_id, default_key=template.default_key,
                    non_default_key=template.non_default_key, **template.columns()))
        except IntegrityError as e:
            if not is_duplicate(e):
                raise
            raise template_exists(await _holder_of(tx, template)) from None
        tx.publish("network.default_security_group_rule.create", {"id": template_id})
    return template_view(template_id, template)


async def _holder_of(tx: Tx, template: Template) -> str:
    """The id of the template a concurrent request added first (a locking read sees it)."""
    keys = [column == key for column, key in ((T.c.default_key, template.default_key),
                                              (T.c.non_default_key, template.non_default_key))
            if key is not None]
    found = (await tx.execute(select(T.c.id).where(or_(*keys))
                              .with_for_update(read=True))).scalar()
    return str(found)


async def delete_template(rt: Runtime, template_id: str) -> None:
    async with rt.db.transaction() as tx:
        result = await tx.execute(delete(T).where(T.c.id == template_id))
        if result.rowcount == 0:
            raise NotFound(f"Default Security Group rule {template_id} does not exist",
                           type="DefaultSecurityGroupRuleNotFound")
        tx.publish("network.default_security_group_rule.delete", {"id": template_id})
