"""Who else may use an object: RBAC policies (``access_as_shared``,
``access_as_external``) read for visibility. Project ``*`` means everyone.

Every grant is a row of ``network_rbac_policies``, also those the ``shared`` and
``router:external`` flags stand for, and every row counts against its owner's
``rbac_policy`` quota. ``KINDS`` says, per object type, which actions apply and
which projects depend on a grant (whose ports use a shared network, whose routers
use an external one), so that a grant is never taken from a project still using it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, bindparam, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from nubo.core.config import NetworkSettings
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.network import tables as t
from nubo.network.service import quotas
from nubo.network.service.standard import new_id

SHARED = "access_as_shared"
EXTERNAL = "access_as_external"
EVERYONE = "*"
R = t.rbac_policies
QUOTA = "rbac_policy"


def granted_to(project_id: str | None) -> ColumnElement[bool]:
    targets = [EVERYONE] if project_id is None else [EVERYONE, project_id]
    return R.c.target_project.in_(targets)


def visible(object_type: str, id_column: ColumnElement[str], project_id: str | None,
            actions: Iterable[str] = (SHARED,)) -> ColumnElement[bool]:
    """Objects shared with the project (by any of ``actions``)."""
    return id_column.in_(select(R.c.object_id).where(
        R.c.object_type == object_type, R.c.action.in_(list(actions)), granted_to(project_id)))


def visible_or_owned(object_type: str, id_column: ColumnElement[str],
                     owner_column: ColumnElement[str], project_id: str | None,
                     actions: Iterable[str] = (SHARED,)) -> ColumnElement[bool]:
    return or_(owner_column == project_id,
               visible(object_type, id_column, project_id, actions))


_GRANTED = prebuilt(select(R.c.object_id).where(
    R.c.object_type == bindparam("b_type"),
    R.c.object_id.in_(bindparam("b_ids", expanding=True)), R.c.action == bindparam("b_action"),
    or_(R.c.target_project == EVERYONE, R.c.target_project == bindparam("b_project"))))


async def granted(conn: AsyncConnection | Tx, object_type: str, ids: Iterable[str],
                  action: str, project_id: str | None) -> set[str]:
    """Which of ``ids`` are shared (``action``) with the project or everyone."""
    wanted = list(ids)
    if not wanted:
        return set()
    rows = await conn.execute(_GRANTED, {"b_type": object_type, "b_ids": wanted,
                                         "b_action": action, "b_project": project_id})
    return {r[0] for r in rows}


async def wildcard(conn: AsyncConnection | Tx, object_type: str, ids: Iterable[str],
                   action: str) -> set[str]:
    """Which of ``ids`` are shared (``action``) with everyone."""
    wanted = list(ids)
    if not wanted:
        return set()
    rows = await conn.execute(select(R.c.object_id).where(
        R.c.object_type == object_type, R.c.object_id.in_(wanted), R.c.action == action,
        R.c.target_project == EVERYONE))
    return {r[0] for r in rows}


async def set_wildcard(tx: Tx, object_type: str, object_id: str, action: str,
                       owner: str, on: bool, *, settings: NetworkSettings) -> None:
    """Share with everyone, or stop (the ``shared`` / ``router:external`` flags)."""
    where = (R.c.object_type == object_type, R.c.object_id == object_id,
             R.c.action == action, R.c.target_project == EVERYONE)
    have = (await tx.execute(select(R.c.id).where(*where))).first()
    if on and have is None:
        await tx.execute(insert(R).values(id=new_id(), project_id=owner,
                                          object_type=object_type, object_id=object_id,
                                          action=action, target_project=EVERYONE))
        await quotas.consume(tx, settings, owner, QUOTA, enforce=False)
    elif not on and have is not None:
        await drop(tx, *where)


async def drop(tx: Tx, *where: ColumnElement[bool]) -> None:
    """Delete the policies matching ``where``, counting them off their owners' quotas."""
    owners = Counter(r[0] for r in await tx.execute(select(R.c.project_id).where(*where)))
    if not owners:
        return
    await tx.execute(delete(R).where(*where))
    for project_id, count in sorted(owners.items()):
        await quotas.release(tx, project_id, QUOTA, count)


async def forget(tx: Tx, object_type: str, object_id: str) -> None:
    """Drop the policies of a deleted object."""
    await drop(tx, R.c.object_type == object_type, R.c.object_id == object_id)


# ------------------------------------------------------------- kinds of objects


def _ports_on_network(object_id: str) -> Select[Any]:
    return select(t.ports.c.project_id).where(t.ports.c.network_id == object_id)


def _routers_on_network(object_id: str) -> Select[Any]:
    return (select(t.routers.c.project_id)
            .join(t.ports, t.ports.c.id == t.routers.c.gw_port_id)
            .where(t.ports.c.network_id == object_id))


def _ports_in_group(object_id: str) -> Select[Any]:
    return (select(t.ports.c.project_id)
            .join(t.port_security_groups,
                  t.port_security_groups.c.port_id == t.ports.c.id)
            .where(t.port_security_groups.c.security_group_id == object_id))


def _pools_in_scope(object_id: str) -> Select[Any]:
    return select(t.subnetpools.c.project_id).where(
        t.subnetpools.c.address_scope_id == object_id)


def _subnets_of_pool(object_id: str) -> Select[Any]:
    return select(t.subnets.c.project_id).where(t.subnets.c.subnetpool_id == object_id)


def _rules_using_group(object_id: str) -> Select[Any]:
    return select(t.security_group_rules.c.project_id).where(
        t.security_group_rules.c.remote_address_group_id == object_id)


@dataclass(frozen=True)
class Kind:
    """An object type RBAC policies apply to."""

    table: Table
    not_found: str  # Neutron's exception for a missing object, e.g. NetworkNotFound
    noun: str  # as its not-found message names it
    # per action: the projects that use the object through a grant
    dependents: Mapping[str, Callable[[str], Select[Any]]]

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(sorted(self.dependents))


KINDS: Mapping[str, Kind] = {
    "network": Kind(t.networks, "NetworkNotFound", "Network",
                    {SHARED: _ports_on_network, EXTERNAL: _routers_on_network}),
    "security_group": Kind(t.security_groups, "SecurityGroupNotFound", "Security group",
                           {SHARED: _ports_in_group}),
    "address_scope": Kind(t.address_scopes, "AddressScopeNotFound", "Address scope",
                          {SHARED: _pools_in_scope}),
    "subnetpool": Kind(t.subnetpools, "SubnetPoolNotFound", "Subnet pool",
                       {SHARED: _subnets_of_pool}),
    "address_group": Kind(t.address_groups, "AddressGroupNotFound", "Address group",
                          {SHARED: _rules_using_group}),
}


async def uncovered(tx: Tx, object_type: str, object_id: str, action: str, target: str,
                    *, replacement: str | None = None) -> set[str]:
    """The projects that would lose a use of the object if its ``action`` grant to
    ``target`` went (or became one to ``replacement``): those using it that neither
    own it nor keep a grant of their own."""
    kind = KINDS[object_type]
    owner = (await tx.execute(select(kind.table.c.project_id)
                              .where(kind.table.c.id == object_id))).scalar()
    if target == owner:
        return set()
    others = {r[0] for r in await tx.execute(select(R.c.target_project).where(
        R.c.object_type == object_type, R.c.object_id == object_id, R.c.action == action,
        R.c.target_project != target))}
    if replacement is not None:
        others.add(replacement)
    if EVERYONE in others:
        return set()
    users = {r[0] for r in await tx.execute(kind.dependents[action](object_id).distinct())}
    users -= {owner, "", None, *others}
    return users if target == EVERYONE else users & {target}
