"""Networking quotas: per-project limits and the usage kept beside them.

``consume`` and ``release`` run in the transaction that creates or deletes the
resource: a locking read of the project's usage row, a check against its limit,
and the update, so concurrent creates never exceed a quota. Every path that
creates or deletes a counted resource calls one of them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update

from nubo.core.config import NetworkSettings
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import Conflict
from nubo.network import tables as t

UNLIMITED = -1
# every quota Neutron shows (the ``quotas`` extension's resources)
RESOURCES = ("network", "subnet", "port", "router", "floatingip", "security_group",
             "security_group_rule", "rbac_policy", "subnetpool", "address_scope")
Q, U = t.quotas, t.quota_usages


def default_limit(settings: NetworkSettings, resource: str) -> int:
    limit: int = getattr(settings, f"quota_{resource}")
    return limit


async def limit_of(tx: Tx, settings: NetworkSettings, project_id: str, resource: str) -> int:
    found = (await tx.execute(select(Q.c.limit).where(
        Q.c.project_id == project_id, Q.c.resource == resource))).scalar()
    return default_limit(settings, resource) if found is None else int(found)


def _usage(locked: bool) -> Any:
    """The project's usage of a resource and its own limit (None: the default)."""
    limit = select(Q.c.limit).where(Q.c.project_id == bindparam("b_project"),
                                    Q.c.resource == bindparam("b_resource"))
    statement = select(U.c.in_use, limit.scalar_subquery().label("limit")).where(
        U.c.project_id == bindparam("b_project"), U.c.resource == bindparam("b_resource"))
    return prebuilt(statement.with_for_update() if locked else statement)


_USAGE, _LOCKED_USAGE = _usage(False), _usage(True)
_SET_USAGE = prebuilt(update(U).where(
    U.c.project_id == bindparam("b_project"), U.c.resource == bindparam("b_resource"))
    .values(in_use=bindparam("b_in_use")))


async def _locked_usage(tx: Tx, settings: NetworkSettings, project_id: str,
                        resource: str) -> tuple[int, int]:
    """The project's usage of ``resource``, its row locked until the transaction
    ends, and its limit. The first read does not lock: on MariaDB a locking read of a
    missing row takes a gap lock that the row's insert then deadlocks on. SQLite
    has no row locks (one writer at a time), so its first read is the locked one."""
    params = {"b_project": project_id, "b_resource": resource}
    row = (await tx.execute(_USAGE, params)).first()
    if row is None:
        await _ensure_usage(tx, project_id, resource)
    if row is None or tx.conn.dialect.name != "sqlite":
        row = (await tx.execute(_LOCKED_USAGE, params)).first()
    limit = default_limit(settings, resource) if row is None or row.limit is None \
        else int(row.limit)
    return (int(row.in_use) if row is not None else 0), limit


async def _ensure_usage(tx: Tx, project_id: str, resource: str) -> None:
    """Make a missing usage row.

    On MariaDB it is made in a transaction of its own: two transactions that insert
    the same new row while a third holds it both keep a shared lock after their
    duplicate-key error, and their locking reads then deadlock (InnoDB rolls back one
    whole transaction). A one-statement transaction keeps no lock it could wait on.
    """
    values = {"project_id": project_id, "resource": resource, "in_use": 0}
    dialect = tx.conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        await tx.execute(pg_insert(U).values(values).on_conflict_do_nothing())
    elif dialect in ("mysql", "mariadb"):
        ignore = insert(U).values(values).prefix_with("IGNORE")
        if tx.db is None:
            await tx.execute(ignore)
        else:
            async with tx.db.apart().begin() as conn:
                await conn.execute(ignore)
    else:
        await tx.execute(insert(U).values(values).prefix_with("OR IGNORE"))


async def consume(tx: Tx, settings: NetworkSettings, project_id: str | None, resource: str,
                  count: int = 1, *, enforce: bool = True) -> None:
    """Count ``count`` more of ``resource`` for the project; 409 OverQuota if over.

    ``enforce=False`` counts without checking the limit: what Neutron makes on its
    own (a project's ``default`` security group) counts, but is never refused.
    """
    if project_id is None or count <= 0:
        return
    in_use, limit = await _locked_usage(tx, settings, project_id, resource)
    if enforce and limit != UNLIMITED and in_use + count > limit:
        raise Conflict(f"Quota exceeded for resources: ['{resource}'].", type="OverQuota")
    await tx.execute(_SET_USAGE, {"b_project": project_id, "b_resource": resource,
                                  "b_in_use": in_use + count})


async def release(tx: Tx, project_id: str | None, resource: str, count: int = 1) -> None:
    """Count ``count`` fewer (deleted resources)."""
    if project_id is None or count <= 0:
        return
    await tx.execute(update(U).where(U.c.project_id == project_id, U.c.resource == resource)
                     .values(in_use=U.c.in_use - count))
