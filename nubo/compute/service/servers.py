"""Server operations the API calls: create (reserve quota, write the instances and
their request specs, hand them to the conductor), update and delete.

Each is one transaction; the work after it (scheduling, spawning, destroying)
is announced with ``tx.publish`` and done by the conductor and the agents.
"""

from __future__ import annotations

import re
import secrets
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from nubo.compute import clients, network_client, notifications
from nubo.compute.service import (
    flavors,
    hosts,
    instance_actions,
    instances,
    keypairs,
    network_requests,
    quotas,
)
from nubo.compute.service import server_groups as groups
from nubo.compute.states import TaskState, VmState, check_allowed
from nubo.compute.tables import instance_system_metadata, request_specs
from nubo.compute.tables import instances as instances_t
from nubo.core.auth.context import RequestContext
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound
from nubo.core.runtime import Runtime

BUILD_TOPIC = "compute.instance.build"
SCHEDULE_EVENT = "conductor_schedule_and_build_instances"


@dataclass
class BuildRequest:
    """A validated ``POST /servers`` body."""

    name: str
    flavor_ref: str
    image_ref: str | None = None
    min_count: int = 1
    max_count: int = 1
    key_name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    user_data: str | None = None
    availability_zone: str | None = None
    force_host: str | None = None
    force_node: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    hostname: str | None = None
    networks: Any = None
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    config_drive: str | None = None
    block_devices: list[dict[str, Any]] = field(default_factory=list)
    admin_pass: str | None = None
    security_groups: list[str] = field(default_factory=lambda: ["default"])
    disk_config: str = "MANUAL"
    trusted_certs: list[str] | None = None
    # whether the caller may put servers on external networks it does not share
    attach_external: bool = False


@dataclass
class Built:
    """What ``create_servers`` made: the instances' rows as written (without
    metadata, tags and the rest), their reservation, the password."""

    servers: list[dict[str, Any]]
    reservation_id: str
    admin_pass: str | None


def flavor_dict(flavor: flavors.Flavor) -> dict[str, Any]:
    return {"id": flavor.id, "name": flavor.name, "vcpus": flavor.vcpus, "ram": flavor.ram,
            "disk": flavor.disk, "ephemeral": flavor.ephemeral, "swap": flavor.swap,
            "rxtx_factor": flavor.rxtx_factor, "is_public": flavor.is_public,
            "description": flavor.description, "extra_specs": dict(flavor.extra_specs)}


def quota_deltas(flavor: dict[str, Any], count: int = 1) -> dict[str, int]:
    return {"instances": count, "cores": flavor["vcpus"] * count,
            "ram": flavor["ram"] * count}


_HOSTNAME_BAD = re.compile(r"[^a-z0-9.-]+")


def sanitize_hostname(name: str) -> str:
    """Nova's hostname from a display name: lowercase, [a-z0-9.-], at most 63."""
    text = _HOSTNAME_BAD.sub("-", name.lower().replace(" ", "-").replace("_", "-"))
    text = text.strip(".-")[:63].strip(".-")
    return text or "server"


async def _lookups(rt: Runtime, ctx: RequestContext, req: BuildRequest
                   ) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    try:
        flavor = flavor_dict(await flavors.get_flavor(rt, ctx, req.flavor_ref))
    except NotFound:
        raise BadRequest(f"Flavor {req.flavor_ref} could not be found.") from None
    image = None
    if req.image_ref:
        image = await clients.get_image(rt, ctx, req.image_ref)
        size_gb = -(-int(image.get("size") or 0) // (1024 ** 3))
        if flavor["disk"] and max(size_gb, int(image.get("min_disk") or 0)) > flavor["disk"]:
            raise BadRequest("Flavor's disk is too small for requested image. Flavor disk "
                             f"is {flavor['disk'] * 1024 ** 3} bytes, image is "
                             f"{max(size_gb, int(image.get('min_disk') or 0)) * 1024 ** 3} "
                             "bytes.")
        if int(image.get("min_ram") or 0) > flavor["ram"]:
            raise BadRequest("Flavor's memory is too small for requested image.")
    key_data = None
    if req.key_name:
        try:
            key_data = (await keypairs.get_keypair(rt, ctx.user_id, req.key_name)).public_key
        except NotFound:
            raise BadRequest("Invalid key_name provided.") from None
    group_id = req.hints.get("group")
    if group_id:
        try:
            await groups.get_server_group(rt, ctx, str(group_id))
        except NotFound:
            raise BadRequest(f"Invalid server group {group_id}.") from None
    return flavor, image, key_data


async def check_availability_zone(rt: Runtime, zone: str) -> None:
    from nubo.compute.service import aggregates

    known = {rt.settings.compute.default_availability_zone}
    known |= {a.availability_zone for a in await aggregates.list_aggregates(rt)
              if a.availability_zone}
    if zone not in known:
        raise BadRequest(f"The requested availability zone is not available: {zone}")


async def _check_destination(rt: Runtime, req: BuildRequest) -> None:
    """A requested host or node must exist (2.74; ``az:host:node`` before)."""
    if req.force_host and await hosts.get_service(rt, req.force_host) is None:
        raise BadRequest(f"Compute host {req.force_host} could not be found.")
    if req.force_node and req.force_node not in {
            n["hypervisor_hostname"] for n in await hosts.list_nodes(rt)}:
        raise BadRequest(f"Compute host {req.force_node} could not be found.")


async def create_servers(rt: Runtime, ctx: RequestContext, req: BuildRequest, *,
                         request_id: str) -> Built:
    """Reserve quota and write ``max_count`` (or as many as quota allows, at least
    ``min_count``) instances in BUILD; the conductor schedules them."""
    if not ctx.project_id:
        raise BadRequest("Servers can only be created with a project-scoped token.")
    flavor, image, key_data = await _lookups(rt, ctx, req)
    if req.availability_zone:
        await check_availability_zone(rt, req.availability_zone)
    await _check_destination(rt, req)
    count = await _check_networks(rt, ctx, req)
    await quotas.ensure_usage_rows(rt, ctx.project_id, ctx.user_id)
    admin_pass = req.admin_pass
    if admin_pass is None and rt.settings.compute.enable_instance_password:
        admin_pass = secrets.token_urlsafe(9)
    reservation_id = f"r-{secrets.token_hex(4)}"
    while True:
        try:
            async with rt.db.transaction() as tx:
                await quotas.reserve(tx, rt, project_id=ctx.project_id, user_id=ctx.user_id,
                                     deltas=quota_deltas(flavor, count))
                made = [await _write_instance(tx, rt, ctx, req, index=n, count=count,
                                              flavor=flavor, image=image, key_data=key_data,
                                              reservation_id=reservation_id,
                                              request_id=request_id)
                        for n in range(count)]
                tx.publish(BUILD_TOPIC, {"instance_uuids": [m["uuid"] for m in made]})
            break
        except quotas.OverQuota as e:
            # as many as the quota allows, if that is at least min_count
            count = _fewer(e, flavor, count, req.min_count)
    return Built(made, reservation_id, admin_pass)


async def _check_networks(rt: Runtime, ctx: RequestContext, req: BuildRequest) -> int:
    """Resolve and check the requested networks and security groups (``req`` then
    holds what the build allocates); how many servers the port quota allows."""
    resolved = await network_requests.resolve(rt, ctx, req.networks,
                                              max_count=req.max_count,
                                              external_allowed=req.attach_external)
    if resolved.max_count < req.min_count:
        raise Forbidden("Maximum number of ports exceeded")
    req.networks = resolved.networks
    await network_requests.security_group_ids(rt, ctx, req.security_groups)
    return resolved.max_count


def _fewer(e: quotas.OverQuota, flavor: dict[str, Any], count: int, minimum: int) -> int:
    per = quota_deltas(flavor).get(e.resource, 0)
    allowed = (e.limit - e.used) // per if per > 0 else 0
    if allowed < minimum or allowed >= count:
        raise e
    return allowed


async def _write_instance(tx: Tx, rt: Runtime, ctx: RequestContext, req: BuildRequest, *,
                          index: int, count: int, flavor: dict[str, Any],
                          image: dict[str, Any] | None, key_data: str | None,
                          reservation_id: str, request_id: str) -> dict[str, Any]:
    assert ctx.project_id
    uuid = str(uuidlib.uuid4())
    now = utcnow()
    name = req.name if count == 1 else f"{req.name}-{index + 1}"
    hostname = req.hostname if req.hostname and count == 1 else sanitize_hostname(name)
    extra = {"networks": req.networks, "block_devices": req.block_devices,
             "security_groups": req.security_groups, "disk_config": req.disk_config,
             "trusted_certs": req.trusted_certs,
             "requested_availability_zone": req.availability_zone,
             "context": network_client.context_record(ctx)}
    row = {
        "uuid": uuid, "project_id": ctx.project_id, "user_id": ctx.user_id,
        "display_name": name, "display_description": req.description, "hostname": hostname,
        "availability_zone": req.availability_zone, "vm_state": VmState.BUILDING.value,
        "task_state": TaskState.SCHEDULING.value, "power_state": 0,
        "image_ref": req.image_ref or "", "flavor": flavor, "key_name": req.key_name,
        "key_data": key_data, "user_data": req.user_data, "config_drive": req.config_drive,
        "access_ip_v4": req.access_ip_v4, "access_ip_v6": req.access_ip_v6,
        "reservation_id": reservation_id, "launch_index": index, "locked": False,
        "progress": 0, "quota_held": True, "extra": extra, "created_at": now,
        "updated_at": now, "deleted": False,
    }
    await tx.execute(insert(instances_t), row)
    await instances.set_metadata(tx, uuid, req.metadata, fresh=True)
    if req.tags:
        await instances.set_tags(tx, uuid, req.tags)
    if image is not None:
        sysmeta = {f"image_{k}": str(v) for k, v in clients.image_properties(image).items()}
        sysmeta.update({"image_min_disk": str(image.get("min_disk") or 0),
                        "image_min_ram": str(image.get("min_ram") or 0),
                        "image_disk_format": str(image.get("disk_format") or ""),
                        "image_name": str(image.get("name") or "")})
        await instances.set_metadata(tx, uuid, sysmeta, table=instance_system_metadata,
                                     fresh=True)
    if req.hints.get("group"):
        await groups.add_member(tx, rt, str(req.hints["group"]), uuid)
    spec: dict[str, Any] = {"availability_zone": req.availability_zone, "hints": req.hints,
            "force_host": req.force_host, "force_node": req.force_node,
            "image_properties": clients.image_properties(image) if image else {},
            "ignore_hosts": [], "num_instances": count}
    await tx.execute(insert(request_specs), {"instance_uuid": uuid, "spec": spec, "attempts": 0})
    action_id = await instance_actions.start_action(
        tx, uuid, "create", request_id=request_id, user_id=ctx.user_id,
        project_id=ctx.project_id)
    await instance_actions.start_event(tx, uuid, SCHEDULE_EVENT, action_id=action_id)
    notifications.emit(tx, "compute.instance.create.start", row)
    return row


# ------------------------------------------------------------------ update


async def update_server(rt: Runtime, uuid: str, *, project_id: str | None,
                        fields: dict[str, Any]) -> dict[str, Any]:
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, project_id=project_id)
        if fields:
            await instances.set_fields(tx, uuid, **fields)
            notifications.emit(tx, "compute.instance.update", {**server, **fields})
        return await instances.get(tx, uuid)


# ------------------------------------------------------------------ delete


async def delete_server(rt: Runtime, ctx: RequestContext, uuid: str, *,
                        project_id: str | None, request_id: str, force: bool = False) -> None:
    """Start deleting a server: the agent destroys it, then the conductor forgets it.
    A server on no host (or on a host that is down) is deleted here and now."""
    local = False
    async with rt.db.transaction() as tx:
        server = await instances.get(tx, uuid, project_id=project_id, extras=False)
        check_allowed("forceDelete" if force else "delete", uuid, server["vm_state"],
                      server["task_state"])
        if server["locked"] and not _may_override_lock(ctx):
            raise Conflict(f"Instance {uuid} is locked")
        action_id = await instance_actions.start_action(
            tx, uuid, "delete", request_id=request_id, user_id=ctx.user_id,
            project_id=ctx.project_id)
        await instances.set_fields(tx, uuid, task_state=TaskState.DELETING.value)
        await instance_actions.start_event(tx, uuid, "compute_terminate_instance",
                                           host=server["host"], action_id=action_id)
        notifications.emit(tx, "compute.instance.delete.start", server)
        host = server["host"]
        service = await hosts.get_service(rt, host, conn=tx.conn) if host else None
        if service is None or not hosts.is_up(rt, service):
            local = True
        else:
            tx.publish(agent_topic(host, "destroy"), {"instance_uuid": uuid})
    if local:
        from nubo.compute import conductor

        await conductor.delete_finished(rt, uuid)


def _may_override_lock(ctx: RequestContext) -> bool:
    return "admin" in ctx.roles


def agent_topic(host: str, op: str) -> str:
    """The topic one host's agent consumes ``op`` requests on."""
    return f"compute.agent-{host.replace('.', '_')}.{op}"
