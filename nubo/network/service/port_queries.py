"""Reading ports: lists with Neutron's port filters, and the policy target of a port.

Besides the attribute filters, ports are filtered by their addresses
(``fixed_ips=ip_address=10.0.0.3``, ``fixed_ips=subnet_id=...``,
``fixed_ips=ip_address_substr=10.0``: any of the port's addresses matches; several
keys must all match), by ``security_groups`` and by the ``binding:*`` attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.macs import mac_value
from nubo.network.service import ports, rbac
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
    standard_filters,
    to_bool,
)

P, IA, PSG = t.ports, t.ip_allocations, t.port_security_groups
FIXED_IP_KEYS = ("ip_address", "subnet_id", "ip_address_substr")


def _fixed_ips_filter(values: list[str]) -> ColumnElement[bool]:
    """``fixed_ips=<key>=<value>`` filters (Neutron's ``convert_kvp_list_to_dict``)."""
    wanted: dict[str, list[str]] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or key not in FIXED_IP_KEYS:
            raise BadRequest(f"Invalid input for fixed_ips. Reason: '{value}' is not of the "
                             f"form <key>=[value] with a key in {list(FIXED_IP_KEYS)}.",
                             type="HTTPBadRequest")
        wanted.setdefault(key, []).append(item)

    def having(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return P.c.id.in_(select(IA.c.port_id).where(condition))

    clauses = []
    if "ip_address" in wanted:
        clauses.append(having(IA.c.ip_address.in_(wanted["ip_address"])))
    if "subnet_id" in wanted:
        clauses.append(having(IA.c.subnet_id.in_(wanted["subnet_id"])))
    if "ip_address_substr" in wanted:
        clauses.append(or_(*[having(IA.c.ip_address.contains(s, autoescape=True))
                             for s in wanted["ip_address_substr"]]))
    return and_(*clauses)


def _mac(value: str) -> str:
    """A MAC filter in the stored form (any notation netaddr reads)."""
    number = mac_value(value)
    if number is None:
        return value.lower()
    raw = f"{number:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


def _groups_filter(values: list[str]) -> ColumnElement[bool]:
    return P.c.id.in_(select(PSG.c.port_id).where(PSG.c.security_group_id.in_(values)))


COLLECTION = Collection(
    name="ports", table=P,
    filters={**standard_filters(P),
             "network_id": column_filter(P.c.network_id),
             "mac_address": column_filter(P.c.mac_address, _mac),
             "admin_state_up": column_filter(P.c.admin_state_up, to_bool),
             "status": column_filter(P.c.status),
             "device_id": column_filter(P.c.device_id),
             "device_owner": column_filter(P.c.device_owner),
             "port_security_enabled": column_filter(P.c.port_security_enabled, to_bool),
             "ip_allocation": column_filter(P.c.ip_allocation),
             "dns_name": column_filter(P.c.dns_name),
             "binding:host_id": column_filter(P.c.binding_host_id),
             "binding:vnic_type": column_filter(P.c.binding_vnic_type),
             "binding:vif_type": column_filter(P.c.binding_vif_type),
             "fixed_ips": _fixed_ips_filter,
             "security_groups": _groups_filter},
    sort_keys={**{k: P.c[k] for k in (
        "id", "name", "network_id", "mac_address", "admin_state_up", "status", "device_id",
        "device_owner", "project_id", "created_at", "updated_at", "revision_number",
        "description", "port_security_enabled")}, "tenant_id": P.c.project_id,
        "binding:host_id": P.c.binding_host_id},
)


async def list_ports(rt: Runtime, ctx: RequestContext, query: ListQuery
                     ) -> tuple[list[dict[str, Any]], bool]:
    """One page of the ports the caller may see, and whether more follow."""
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query,
                                     ports.visible_clauses(rt, ctx))
        found = await ports.views(conn, ctx, rows, dns_domain=rt.settings.network.dns_domain)
        return found, more


async def network_target(conn: AsyncConnection | Tx, ctx: RequestContext, network_id: str
                         ) -> dict[str, Any]:
    """What port policies look at of the network: its owner and whether it is shared
    with the caller."""
    owner = (await conn.execute(select(t.networks.c.project_id)
                                .where(t.networks.c.id == network_id))).scalar()
    shared = await rbac.granted(conn, "network", [network_id], rbac.SHARED, ctx.project_id)
    return {"network_id": network_id, "network:project_id": owner,
            "network:tenant_id": owner, "shared": bool(shared)}


def target(port: Mapping[str, Any], network: Mapping[str, Any]) -> dict[str, Any]:
    """A port's policy target: its owners, its network's, and ``network_device``."""
    owner = str(port.get("device_owner") or "")
    return {**network, "id": port.get("id"), "project_id": port.get("project_id"),
            "tenant_id": port.get("project_id"), "device_owner": owner,
            "network_device": owner.startswith("network:")}


async def get_target(rt: Runtime, ctx: RequestContext, port_id: str) -> dict[str, Any]:
    """The policy target of a port the caller can see (404 otherwise)."""
    async with rt.db.read() as conn:
        row: Row[Any] = await ports.find_port(conn, rt, ctx, port_id)
        return target(dict(row._mapping), await network_target(conn, ctx, row.network_id))
