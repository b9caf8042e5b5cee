"""Reading ports: who sees a port (its project and its network's owner, Neutron's
``network_owner`` rules) and how a port is shown. :mod:`ports` re-exports these for
the other resources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.network import fixed_ips as plan
from nubo.network import port_attributes as attrs
from nubo.network import tables as t
from nubo.network.service import ip_allocation, port_security, standard

P, N = t.ports, t.networks
TAGS = "ports"
DEFAULT_DNS_DOMAIN = "openstacklocal"


def visible_clauses(rt: Runtime, ctx: RequestContext) -> list[ColumnElement[bool]]:
    """What the caller may see of ``network_ports`` (nothing to add for admins)."""
    if standard.is_admin(rt, ctx):
        return []
    owned_networks = select(N.c.id).where(N.c.project_id == ctx.project_id)
    return [or_(P.c.project_id == ctx.project_id, P.c.network_id.in_(owned_networks))]


def not_found(port_id: str) -> NotFound:
    return NotFound(f"Port {port_id} could not be found.", type="PortNotFound")


def _find(visible: bool, lock: bool) -> Any:
    statement = select(P).where(P.c.id == bindparam("b_id"))
    if visible:
        owned_networks = select(N.c.id).where(N.c.project_id == bindparam("b_project"))
        statement = statement.where(or_(P.c.project_id == bindparam("b_project"),
                                        P.c.network_id.in_(owned_networks)))
    return prebuilt(statement.with_for_update() if lock else statement)


# by (whether the caller sees only some ports, whether the row is locked)
_FIND = {(visible, lock): _find(visible, lock) for visible in (False, True)
         for lock in (False, True)}


async def find_port(conn: AsyncConnection | Tx, rt: Runtime, ctx: RequestContext,
                    port_id: str, *, lock: bool = False) -> Row[Any]:
    """The port's row if the caller may see it; 404 PortNotFound otherwise."""
    limited = not standard.is_admin(rt, ctx)
    statement: Any = _FIND[limited, lock]
    params: dict[str, Any] | None = {"b_id": port_id}
    if limited and ctx.project_id is None:
        statement = select(P).where(P.c.id == port_id, *visible_clauses(rt, ctx))
        statement, params = statement.with_for_update() if lock else statement, None
    elif limited:
        params = {"b_id": port_id, "b_project": ctx.project_id}
    row = (await conn.execute(statement, params)).first()
    if row is None:
        raise not_found(port_id)
    return row


async def views(conn: AsyncConnection | Tx, ctx: RequestContext, rows: Sequence[Row[Any]],
                *, dns_domain: str = DEFAULT_DNS_DOMAIN) -> list[dict[str, Any]]:
    """Ports as Neutron shows them (every attribute; the API hides what the caller may
    not see), with their fixed IPs, security groups and tags."""
    ids = [r.id for r in rows]
    held = await ip_allocation.held(conn, ids)
    groups = await port_security.groups_of(conn, ids)
    tags = await standard.tags_of(conn, TAGS, ids)
    return [_view(r, held[r.id], groups[r.id], tags[r.id], dns_domain) for r in rows]


def _view(row: Row[Any], held: Sequence[plan.Held], groups: list[str], tags: list[str],
          dns_domain: str) -> dict[str, Any]:
    out = standard.view(row, tags)
    out.update({
        "name": row.name, "network_id": row.network_id, "mac_address": row.mac_address,
        "admin_state_up": row.admin_state_up, "status": row.status,
        "device_id": row.device_id, "device_owner": row.device_owner,
        "fixed_ips": [{"subnet_id": h.subnet_id, "ip_address": h.address} for h in held],
        "allowed_address_pairs": [dict(p) for p in row.allowed_address_pairs or []],
        "extra_dhcp_opts": [dict(o) for o in row.extra_dhcp_opts or []],
        "security_groups": groups, "port_security_enabled": row.port_security_enabled,
        "ip_allocation": row.ip_allocation, "dns_name": row.dns_name,
        "dns_assignment": attrs.dns_assignment(row.dns_name, [h.address for h in held],
                                               dns_domain),
        "binding:host_id": row.binding_host_id, "binding:vnic_type": row.binding_vnic_type,
        "binding:profile": dict(row.binding_profile or {}),
        "binding:vif_type": row.binding_vif_type,
        "binding:vif_details": dict(row.binding_vif_details or {}),
    })
    return out


async def view_of(tx: Tx, rt: Runtime, ctx: RequestContext, port_id: str) -> dict[str, Any]:
    row = await standard.row_of(tx, P, port_id)
    found = await views(tx, ctx, [row], dns_domain=rt.settings.network.dns_domain)
    return found[0]


async def get_port(rt: Runtime, ctx: RequestContext, port_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        row = await find_port(conn, rt, ctx, port_id)
        found = await views(conn, ctx, [row], dns_domain=rt.settings.network.dns_domain)
        return found[0]
