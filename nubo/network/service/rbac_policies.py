"""RBAC policies (``/v2.0/rbac-policies``): an object's owner grants another project,
or everyone (``*``, admins only), access to a network, security group, address
scope, subnet pool or address group, as shared or (networks) as external.

A grant cannot be taken away while the project depends on it (its ports on a
shared network, its routers on an external one); an ``access_as_external`` grant
makes its network external, and the network stops being external with the last one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.service import quotas, rbac, standard
from nubo.network.service.listing import (
    Collection,
    ListQuery,
    column_filter,
    list_rows,
)

R = rbac.R
COLLECTION = Collection(
    name="rbac_policies", table=R, tagged=False,
    filters={**{k: column_filter(R.c[k]) for k in ("id", "project_id", "object_type",
                                                   "object_id", "action")},
             "tenant_id": column_filter(R.c.project_id),
             "target_tenant": column_filter(R.c.target_project),
             "target_project": column_filter(R.c.target_project)},
    sort_keys={"id": R.c.id, "project_id": R.c.project_id, "tenant_id": R.c.project_id,
               "object_type": R.c.object_type, "object_id": R.c.object_id,
               "action": R.c.action, "target_tenant": R.c.target_project},
)


def view(row: Row[Any]) -> dict[str, Any]:
    return {"id": row.id, "project_id": row.project_id, "tenant_id": row.project_id,
            "object_type": row.object_type, "object_id": row.object_id,
            "action": row.action, "target_tenant": row.target_project}


def _visible(rt: Runtime, ctx: RequestContext) -> list[Any]:
    return [] if standard.is_admin(rt, ctx) else [R.c.project_id == ctx.project_id]


async def list_policies(rt: Runtime, ctx: RequestContext, query: ListQuery
                        ) -> tuple[list[dict[str, Any]], bool]:
    async with rt.db.read() as conn:
        rows, more = await list_rows(conn, COLLECTION, query, _visible(rt, ctx))
        return [view(r) for r in rows], more


async def find_policy(conn: AsyncConnection | Tx, rt: Runtime, ctx: RequestContext,
                      policy_id: str) -> Row[Any]:
    """The policy if the caller may see it (its project's, or any for admins)."""
    row = (await conn.execute(select(R).where(R.c.id == policy_id, *_visible(rt, ctx)))
           ).first()
    if row is None:
        raise NotFound(f"RBAC policy of type unknown with ID {policy_id} not found",
                       type="RbacPolicyNotFound")
    return row


async def get_policy(rt: Runtime, ctx: RequestContext, policy_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return view(await find_policy(conn, rt, ctx, policy_id))


def check_action(object_type: str, action: str) -> None:
    kind = rbac.KINDS[object_type]
    if action not in kind.actions:
        raise BadRequest(f"Invalid action '{action}' for object type '{object_type}'. "
                         f"Valid actions: {kind.actions}", type="InvalidActionForType")


async def _object(tx: Tx, rt: Runtime, ctx: RequestContext, object_type: str,
                  object_id: str) -> Row[Any]:
    """The object a policy is on, which a project may only grant if it owns it."""
    kind = rbac.KINDS[object_type]
    row: Row[Any] | None = (await tx.execute(
        select(kind.table).where(kind.table.c.id == object_id).with_for_update())).first()
    if row is None:
        raise NotFound(f"{kind.noun} {object_id} could not be found.", type=kind.not_found)
    if not standard.is_admin(rt, ctx) and row.project_id != ctx.project_id:
        noun = "networks" if object_type == "network" else "objects"
        raise BadRequest(f"Invalid input for operation: Only admins can manipulate policies "
                         f"on {noun} they do not own.", type="InvalidInput")
    return row


async def create_policy(rt: Runtime, ctx: RequestContext, body: dict[str, Any]
                        ) -> dict[str, Any]:
    object_type, action = body["object_type"], body["action"]
    check_action(object_type, action)
    project_id = standard.owner(ctx, body)
    async with rt.db.transaction() as tx:
        obj = await _object(tx, rt, ctx, object_type, body["object_id"])
        await quotas.consume(tx, rt.settings.network, project_id, rbac.QUOTA)
        values = {"id": standard.new_id(), "project_id": project_id,
                  "object_type": object_type, "object_id": obj.id, "action": action,
                  "target_project": body["target_tenant"]}
        await _write(tx, insert(R).values(values))
        if object_type == "network" and action == rbac.EXTERNAL and not obj.external:
            await tx.execute(update(t.networks).where(t.networks.c.id == obj.id)
                             .values(external=True))
        await _changed(tx, object_type, obj.id, "create", values["id"])
        return view(await standard.row_of(tx, R, values["id"]))


async def update_policy(rt: Runtime, ctx: RequestContext, policy_id: str,
                        body: dict[str, Any]) -> dict[str, Any]:
    """A new ``target_tenant``: the old target must not depend on the grant."""
    async with rt.db.transaction() as tx:
        row = await find_policy(tx, rt, ctx, policy_id)
        target = body["target_tenant"]
        if target != row.target_project:
            obj = await _object(tx, rt, ctx, row.object_type, row.object_id)
            await _check_unused(tx, row, obj, replacement=target)
            await _write(tx, update(R).where(R.c.id == policy_id)
                         .values(target_project=target))
            await _changed(tx, row.object_type, row.object_id, "update", policy_id)
        return view(await standard.row_of(tx, R, policy_id))


async def delete_policy(rt: Runtime, ctx: RequestContext, policy_id: str) -> None:
    async with rt.db.transaction() as tx:
        row = await find_policy(tx, rt, ctx, policy_id)
        kind = rbac.KINDS[row.object_type]
        obj = (await tx.execute(select(kind.table).where(kind.table.c.id == row.object_id)
                                .with_for_update())).one()
        await _check_unused(tx, row, obj)
        await rbac.drop(tx, R.c.id == policy_id)
        if row.object_type == "network" and row.action == rbac.EXTERNAL:
            await _external_with_last_grant(tx, row, obj)
        await _changed(tx, row.object_type, row.object_id, "delete", policy_id)


async def _write(tx: Tx, statement: Any) -> None:
    try:
        async with tx.conn.begin_nested():
            await tx.execute(statement)
    except IntegrityError as e:
        if not is_duplicate(e):
            raise
        raise Conflict("An RBAC policy already exists with those values.",
                       type="DuplicateRbacPolicy") from None


def _in_use(object_id: str, details: str) -> Conflict:
    return Conflict(f"RBAC policy on object {object_id} cannot be removed because other "
                    f"objects depend on it.\nDetails: {details}", type="RbacPolicyInUse")


async def _check_unused(tx: Tx, row: Row[Any], obj: Row[Any], *,
                        replacement: str | None = None) -> None:
    """409 RbacPolicyInUse if a project would lose a use of the object."""
    network = row.object_type == "network"
    if (network and row.action == rbac.EXTERNAL and row.target_project == rbac.EVERYONE
            and obj.is_default and replacement != rbac.EVERYONE):
        raise _in_use(obj.id, "Default external networks must be shared to everyone.")
    if not await rbac.uncovered(tx, row.object_type, obj.id, row.action, row.target_project,
                                replacement=replacement):
        return
    if network and row.action == rbac.SHARED:
        details = (f"Unable to reconfigure sharing settings for network {obj.id}. "
                   "Multiple tenants are using it.")
    elif network:
        details = ("There are routers attached to this network that depend on this "
                   "policy for access.")
    else:
        details = f"project_id={row.target_project}"
    raise _in_use(obj.id, details)


async def _external_with_last_grant(tx: Tx, row: Row[Any], network: Row[Any]) -> None:
    """A network stops being external with its last ``access_as_external`` grant,
    which its own routers' gateways still need."""
    left = (await tx.execute(select(R.c.id).where(
        R.c.object_type == "network", R.c.object_id == network.id,
        R.c.action == rbac.EXTERNAL).limit(1))).first()
    if left is not None:
        return
    gateway = (await tx.execute(select(t.ports.c.id).where(
        t.ports.c.network_id == network.id,
        t.ports.c.device_owner.in_(("network:router_gateway", "network:floatingip")))
        .limit(1))).first()
    if gateway is not None:
        raise _in_use(network.id, "There are routers attached to this network that depend "
                      "on this policy for access.")
    await tx.execute(update(t.networks).where(t.networks.c.id == network.id)
                     .values(external=False))


async def _changed(tx: Tx, object_type: str, object_id: str, verb: str,
                   policy_id: str) -> None:
    """A grant changes its object: its revision goes up and its agents hear of it."""
    await standard.touch(tx, rbac.KINDS[object_type].table, object_id)
    tx.publish(f"network.rbac_policy.{verb}", {"id": policy_id, "object_type": object_type,
                                               "object_id": object_id})
    tx.publish(f"network.{object_type}.update", {"id": object_id})
