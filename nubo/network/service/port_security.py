"""A port's security: ``port_security_enabled``, its security groups and its allowed
address pairs, kept consistent as Neutron keeps them (``portsecurity_db``,
``securitygroups_db``, ML2's port-security processing).

- Ports whose ``device_owner`` starts with ``network:`` (DHCP, routers, floating IPs)
  are trusted: they get no security groups.
- Without ``port_security_enabled`` a port takes its network's setting (enabled when
  security groups are named).
- A port with port security and no ``security_groups`` gets its project's ``default``
  group; naming groups when port security is off is refused (400), as is having
  address pairs without it (409), or turning it off while groups remain (409).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.errors import bad_request, conflict
from nubo.network.port_attributes import parse_address_pairs, with_port_mac
from nubo.network.service import security_groups

PSG = t.port_security_groups


def is_trusted(device_owner: str) -> bool:
    """Neutron's ``is_port_trusted``: network-owned ports have no security groups."""
    return device_owner.startswith("network:")


def _pairs_need_security() -> Exception:
    return conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled "
                    "in order to have allowed address pairs on a port.")


def _groups_need_security() -> Exception:
    return bad_request("PortSecurityAndIPRequiredForSecurityGroups", "Port security must "
                       "be enabled and port must have an IP address in order to use "
                       "security groups.")


def requested_groups(body: Mapping[str, Any]) -> list[str] | None:
    """The ``security_groups`` a request names, without repeats (None: not named)."""
    if "security_groups" not in body:
        return None
    return list(dict.fromkeys(body["security_groups"] or []))


_GROUPS_OF = prebuilt(select(PSG.c.port_id, PSG.c.security_group_id)
                      .where(PSG.c.port_id.in_(bindparam("b_ids", expanding=True)))
                      .order_by(PSG.c.security_group_id))


async def groups_of(conn: AsyncConnection | Tx, port_ids: Sequence[str]
                    ) -> dict[str, list[str]]:
    """The security groups of each port (sorted)."""
    out: dict[str, list[str]] = {p: [] for p in port_ids}
    if port_ids:
        rows = await conn.execute(_GROUPS_OF, {"b_ids": list(port_ids)})
        for port_id, group_id in rows:
            out[port_id].append(group_id)
    return out


_UNBIND = prebuilt(delete(PSG).where(PSG.c.port_id == bindparam("b_port")))


async def _bind(tx: Tx, port_id: str, group_ids: Sequence[str]) -> None:
    await tx.execute(_UNBIND, {"b_port": port_id})
    if group_ids:
        await tx.execute(insert_of(PSG, ("port_id", "security_group_id")),
                         [{"port_id": port_id, "security_group_id": g} for g in group_ids])


async def unbind_tx(tx: Tx, port_id: str) -> None:
    await tx.execute(delete(PSG).where(PSG.c.port_id == port_id))


def new_port(body: Mapping[str, Any], network: Row[Any]) -> tuple[bool, list[dict[str, str]]]:
    """A new port's ``port_security_enabled`` and address pairs (MACs only where
    given)."""
    enabled = body.get("port_security_enabled")
    if enabled is None:
        enabled = bool(requested_groups(body)) or bool(network.port_security_enabled)
    pairs = parse_address_pairs(body.get("allowed_address_pairs") or [])
    if pairs and not enabled:
        raise _pairs_need_security()
    groups = requested_groups(body)
    if groups and not enabled and not is_trusted(body.get("device_owner") or ""):
        raise _groups_need_security()
    return bool(enabled), pairs


async def bind_new_tx(tx: Tx, rt: Runtime, ctx: RequestContext, port: Mapping[str, Any],
                      body: Mapping[str, Any]) -> None:
    """Give a new port (its stored values) its security groups."""
    if is_trusted(port["device_owner"]) or not port["port_security_enabled"]:
        return
    groups = requested_groups(body)
    if groups is None:
        groups = [await security_groups.ensure_default_tx(tx, rt, port["project_id"])]
    elif groups:
        await security_groups.check_usable_tx(tx, rt, ctx, port["project_id"], groups)
    await _bind(tx, port["id"], groups)


async def update_tx(tx: Tx, rt: Runtime, ctx: RequestContext, row: Row[Any],
                    body: Mapping[str, Any], mac: str) -> dict[str, Any]:
    """Apply an update's ``port_security_enabled``, ``security_groups`` and
    ``allowed_address_pairs``; the port's column values that change."""
    values: dict[str, Any] = {}
    enabled = body.get("port_security_enabled")
    if enabled is None:
        enabled = row.port_security_enabled
    values["port_security_enabled"] = bool(enabled)
    if "allowed_address_pairs" in body:
        pairs = parse_address_pairs(body["allowed_address_pairs"] or [])
        values["allowed_address_pairs"] = with_port_mac(pairs, mac)
    else:
        pairs = list(row.allowed_address_pairs or [])
    groups = requested_groups(body)
    trusted = is_trusted(body.get("device_owner", row.device_owner) or "")
    if not enabled:
        if pairs:
            raise _pairs_need_security()
        if groups and not trusted:
            raise _groups_need_security()
        if groups is None and (await groups_of(tx, [row.id]))[row.id]:
            raise conflict("PortSecurityPortHasSecurityGroup", "Port has security group "
                           "associated. Cannot disable port security or IP address until "
                           "security group is removed.")
    if groups is not None:
        if groups and not trusted:
            await security_groups.check_usable_tx(tx, rt, ctx, row.project_id, groups)
        await _bind(tx, row.id, [] if trusted else groups)
    return values
