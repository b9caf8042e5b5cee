"""Auto-allocated topology (``/v2.0/auto-allocated-topology/{project_id}``, what
``openstack network auto allocated topology create`` and Nova's ``networks: auto``
use): on first use, a project gets a network with a subnet from each default
subnet pool, and a router from those subnets to the default external network.

The parts are made through the same service functions the API uses, each in its
own transaction; a failed build removes what it made (409 AutoAllocationFailure).
The project's row in ``network_auto_allocated_topologies`` is written last: of two
concurrent first builds, the one that writes second removes its own and answers
with the other's network.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import is_duplicate
from nubo.core.errors import Conflict, Forbidden, NotFound, NuboError
from nubo.core.runtime import Runtime
from nubo.network import tables as t
from nubo.network.service import networks, router_interfaces, routers, standard, subnet_writes

log = logging.getLogger(__name__)
TOPOLOGY = t.auto_allocated_topologies
DRY_RUN = "dry-run"


def _failure(reason: str) -> Conflict:
    return Conflict(f"Deployment error: {reason}.", type="AutoAllocationFailure")


def _project(rt: Runtime, ctx: RequestContext, project_id: str) -> str:
    """The project the topology is for ("None" stands for the caller's)."""
    if project_id == "None":
        project_id = ctx.project_id or ""
    if project_id != ctx.project_id and not standard.is_admin(rt, ctx):
        raise Forbidden("Not authorized.", type="NotAuthorized")
    return project_id


def _reply(network_id: str, project_id: str) -> dict[str, Any]:
    return {"id": network_id, "project_id": project_id, "tenant_id": project_id}


async def _default_external_network(rt: Runtime) -> str:
    N = t.networks
    async with rt.db.read() as conn:
        found = (await conn.execute(select(N.c.id).where(
            N.c.external.is_(True), N.c.is_default.is_(True)).order_by(N.c.created_at)
            .limit(1))).scalar()
    if found is None:
        raise _failure("No default router:external network")
    return str(found)


async def _default_pools(rt: Runtime) -> list[tuple[int, str]]:
    P = t.subnetpools
    async with rt.db.read() as conn:
        rows = await conn.execute(select(P.c.ip_version, P.c.id).where(
            P.c.is_default.is_(True)).order_by(P.c.ip_version, P.c.created_at))
        pools: dict[int, str] = {}
        for version, pool_id in rows:
            pools.setdefault(int(version), str(pool_id))
    return sorted(pools.items())


async def _existing(rt: Runtime, project_id: str) -> Any:
    async with rt.db.read() as conn:
        return (await conn.execute(select(TOPOLOGY).where(
            TOPOLOGY.c.project_id == project_id))).first()


async def get_auto_allocated_topology(rt: Runtime, ctx: RequestContext, project_id: str,
                                      *, dry_run: bool = False) -> dict[str, Any]:
    """The project's auto-allocated network, made on first use (``dry_run``: only
    whether it could be)."""
    project_id = _project(rt, ctx, project_id)
    if dry_run:
        await _default_external_network(rt)
        if not await _default_pools(rt):
            raise _failure("No default subnetpools defined")
        return {"id": "dry-run=pass", "project_id": project_id, "tenant_id": project_id}
    found = await _existing(rt, project_id)
    if found is not None:
        return _reply(found.network_id, project_id)
    external = await _default_external_network(rt)
    network_id, subnet_ids = await _private_network(rt, ctx, project_id)
    router_id = await _uplink(rt, ctx, project_id, external, network_id, subnet_ids)
    return _reply(await _save(rt, ctx, project_id, network_id, router_id, subnet_ids),
                  project_id)


async def _private_network(rt: Runtime, ctx: RequestContext, project_id: str
                           ) -> tuple[str, list[str]]:
    pools = await _default_pools(rt)
    if not pools:
        raise _failure("Unable to provide project private network")
    net = await networks.create_network(rt, ctx, {
        "name": "auto_allocated_network", "admin_state_up": False,
        "project_id": project_id, "shared": False})
    subnet_ids: list[str] = []
    try:
        for version, pool_id in pools:
            subnet = await subnet_writes.create_subnet(rt, ctx, {
                "name": f"auto_allocated_subnet_v{version}", "network_id": net["id"],
                "project_id": project_id, "ip_version": version, "subnetpool_id": pool_id})
            subnet_ids.append(subnet["id"])
    except NuboError as e:
        log.warning("auto-allocation for %s: no private network: %s", project_id, e.message)
        await _cleanup(rt, ctx, net["id"], None, [])
        raise _failure("Unable to provide project private network") from e
    return net["id"], subnet_ids


async def _uplink(rt: Runtime, ctx: RequestContext, project_id: str, external: str,
                  network_id: str, subnet_ids: Sequence[str]) -> str:
    router_id: str | None = None
    attached: list[str] = []
    try:
        router = await routers.create_router(rt, ctx, {
            "name": "auto_allocated_router", "project_id": project_id,
            "admin_state_up": True, "external_gateway_info": {"network_id": external}})
        router_id = router["id"]
        for subnet_id in subnet_ids:
            await router_interfaces.add_router_interface(rt, ctx, router["id"],
                                                         {"subnet_id": subnet_id})
            attached.append(subnet_id)
    except NuboError as e:
        log.warning("auto-allocation for %s: no uplink: %s", project_id, e.message)
        await _cleanup(rt, ctx, network_id, router_id, attached)
        raise _failure("Unable to provide external connectivity") from e
    return str(router["id"])


async def _save(rt: Runtime, ctx: RequestContext, project_id: str, network_id: str,
                router_id: str, subnet_ids: Sequence[str]) -> str:
    try:
        async with rt.db.transaction() as tx:
            await tx.execute(insert(TOPOLOGY).values(
                project_id=project_id, network_id=network_id, router_id=router_id))
            tx.publish("network.auto_allocated_topology.create",
                       {"id": network_id, "project_id": project_id})
    except IntegrityError as e:
        if not is_duplicate(e):
            raise
        await _cleanup(rt, ctx, network_id, router_id, subnet_ids)
        found = await _existing(rt, project_id)
        return str(found.network_id)
    await networks.update_network(rt, ctx, network_id, {"admin_state_up": True})
    return network_id


async def delete_auto_allocated_topology(rt: Runtime, ctx: RequestContext,
                                         project_id: str) -> None:
    """Remove the project's topology: its router, interfaces and network."""
    project_id = _project(rt, ctx, project_id)
    found = await _existing(rt, project_id)
    if found is None:
        return
    async with rt.db.read() as conn:
        subnet_ids = [r[0] for r in await conn.execute(select(t.subnets.c.id).where(
            t.subnets.c.network_id == found.network_id))]
    await _cleanup(rt, ctx, found.network_id, found.router_id, subnet_ids)
    async with rt.db.transaction() as tx:
        await tx.execute(delete(TOPOLOGY).where(TOPOLOGY.c.project_id == project_id))
        tx.publish("network.auto_allocated_topology.delete",
                   {"id": found.network_id, "project_id": project_id})


async def _cleanup(rt: Runtime, ctx: RequestContext, network_id: str | None,
                   router_id: str | None, subnet_ids: Sequence[str]) -> None:
    """Remove what a build made; what is already gone is skipped."""
    if router_id:
        for subnet_id in subnet_ids:
            await _ignore_missing(router_interfaces.remove_router_interface(
                rt, ctx, router_id, {"subnet_id": subnet_id}))
        await _ignore_missing(routers.delete_router(rt, ctx, router_id))
    if network_id:
        await _ignore_missing(networks.delete_network(rt, ctx, network_id))


async def _ignore_missing(step: Awaitable[Any]) -> None:
    try:
        await step
    except NotFound:
        pass
