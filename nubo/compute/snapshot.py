"""What the conductor hands the scheduler: ``HostState``s built from services,
compute nodes, placement usage, aggregates and instances, and the
``RequestSpec`` of the instances to place."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select

from nubo.compute import clients
from nubo.compute.scheduler.model import (
    FlavorSpec,
    GroupSpec,
    HostAggregate,
    HostState,
    RequestSpec,
    traits_of,
)
from nubo.compute.service import aggregates, hosts, server_groups
from nubo.compute.tables import instances
from nubo.core.db.base import utcnow
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime

SHARED_KEY = "compute.snapshot.reads"


def needs_traits(request: RequestSpec) -> bool:
    """Whether the request requires or forbids traits (reading them costs a query
    per host, so snapshots skip them when nobody asks)."""
    required, forbidden = traits_of(request.flavor, request.image_properties)
    return bool(required or forbidden)


@dataclass(frozen=True)
class _Base:
    """The part of a snapshot every request shares: every node's ``HostState``
    without traits and without instance uuids (built once per read)."""

    states: list[HostState]


class _SharedReads:
    """At most one base read at a time. A caller gets a read that *started after it
    asked*, so it sees everything committed before (as a read of its own would);
    callers that ask while a read runs wait for it and then share the next one, so
    N concurrent builds cost about one read per read's duration instead of N."""

    def __init__(self) -> None:
        self.started = 0                  # reads started so far
        self.running: asyncio.Task[_Base] | None = None

    async def get(self, rt: Runtime) -> _Base:
        asked = self.started
        while True:
            task = self.running
            if task is None:
                task = self.running = asyncio.create_task(_read_base(rt))
                self.started += 1
                task.add_done_callback(self._done)
                return await asyncio.shield(task)
            if self.started > asked:      # this read started after we asked
                return await asyncio.shield(task)
            await asyncio.wait([task])

    def _done(self, task: asyncio.Task[_Base]) -> None:
        if self.running is task:
            self.running = None


_COUNTS = prebuilt(select(instances.c.host, func.count()).where(
    instances.c.deleted.is_(False), instances.c.host.is_not(None)).group_by(instances.c.host))


async def _read_base(rt: Runtime) -> _Base:
    nodes = await hosts.list_nodes(rt)
    usages = (await clients.provider_usages(rt, [n["uuid"] for n in nodes], traits=False)
              if nodes else {})
    aggs = await aggregates.list_aggregates(rt)
    async with rt.db.read() as conn:
        counts = {h: int(n) for h, n in await conn.execute(_COUNTS)}
    now = utcnow()
    default_az = rt.settings.compute.default_availability_zone
    states = []
    for node in nodes:
        usage = usages.get(node["uuid"])
        mine = [a for a in aggs if node["host"] in a.hosts]
        zone = next((a.availability_zone for a in mine if a.availability_zone), default_az)
        hv = node["hypervisor_type"]
        states.append(HostState(
            host=node["host"], node=node["hypervisor_hostname"], provider_uuid=node["uuid"],
            enabled=not node["disabled"],
            up=hosts.is_up(rt, {**node, "created_at": node["service_created_at"]}, now),
            availability_zone=zone,
            aggregates=tuple(HostAggregate(a.uuid, a.name, dict(a.metadata)) for a in mine),
            capacity=dict(usage.capacity) if usage else {},
            used=dict(usage.used) if usage else {},
            num_instances=counts.get(node["host"], 0), instance_uuids=frozenset(),
            traits=frozenset(), hypervisor_type=hv,
            supported_instances=(("x86_64", hv.lower(), "hvm"), ("i686", hv.lower(), "hvm")),
        ))
    return _Base(states)


_LIVE = prebuilt(select(instances.c.uuid, instances.c.host).where(
    instances.c.deleted.is_(False), instances.c.host.is_not(None)))
_LIVE_AMONG = prebuilt(_LIVE.where(instances.c.uuid.in_(bindparam("uuids", expanding=True))))


async def _uuids_by_host(rt: Runtime, about: Iterable[str] | None) -> dict[str, set[str]]:
    """The uuids of live instances per host (all of them, or only those in
    ``about``: the scheduler looks up no others)."""
    query, params = _LIVE, {}
    if about is not None:
        wanted = sorted(set(about))
        if not wanted:
            return {}
        query, params = _LIVE_AMONG, {"uuids": wanted}
    on_host: dict[str, set[str]] = {}
    async with rt.db.read() as conn:
        for uuid, host in await conn.execute(query, params):
            on_host.setdefault(host, set()).add(uuid)
    return on_host


def interesting_uuids(request: RequestSpec) -> set[str]:
    """The instances whose hosts a request's filters look at: its own (moves) and
    those its same_host / different_host hints name."""
    return set(request.instance_uuids) | _hint_uuids(request.hints)


async def host_states(rt: Runtime, *, traits: bool = True,
                      about: Iterable[str] | None = None) -> list[HostState]:
    """Every compute node as the scheduler sees it right now (with each
    provider's traits unless ``traits`` is false; with the uuids of only the
    instances in ``about`` when given, else of all; the counts of all). The states
    are immutable: every request that shares a read shares them."""
    reads = rt.state.get(SHARED_KEY)
    if reads is None:
        reads = rt.state[SHARED_KEY] = _SharedReads()
    base = await reads.get(rt)
    on_host = await _uuids_by_host(rt, about)
    if not on_host and not traits:
        return list(base.states)
    traits_of_node = ({s.provider_uuid: await clients.provider_traits(rt, s.provider_uuid)
                       for s in base.states} if traits else {})
    return [dataclasses.replace(
        s, instance_uuids=frozenset(on_host.get(s.host, ())),
        traits=traits_of_node.get(s.provider_uuid, frozenset())) for s in base.states]


def flavor_spec(flavor: Mapping[str, Any], *, boot_from_volume: bool = False) -> FlavorSpec:
    return FlavorSpec(vcpus=int(flavor["vcpus"]), memory_mb=int(flavor["ram"]),
                      root_gb=0 if boot_from_volume else int(flavor["disk"]),
                      ephemeral_gb=int(flavor.get("ephemeral") or 0),
                      swap_mb=int(flavor.get("swap") or 0),
                      extra_specs=dict(flavor.get("extra_specs") or {}))


def _hint_uuids(hints: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for key in ("same_host", "different_host"):
        value = hints.get(key)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            found.update(str(v) for v in value)
    return found


async def request_spec(rt: Runtime, group: Sequence[Mapping[str, Any]],
                       spec: Mapping[str, Any]) -> RequestSpec:
    """The scheduler's request for ``group`` (instances of one create request that
    share ``spec``, the stored request spec of the first)."""
    first = group[0]
    hints = dict(spec.get("hints") or {})
    wanted = _hint_uuids(hints)
    group_spec = None
    if hints.get("group"):
        group_spec = await _group_spec(rt, str(hints["group"]),
                                       {i["uuid"] for i in group})
    hosts_of: dict[str, str] = {}
    if wanted:
        async with rt.db.read() as conn:
            rows = await conn.execute(select(instances.c.uuid, instances.c.host).where(
                instances.c.uuid.in_(sorted(wanted)), instances.c.deleted.is_(False)))
            hosts_of = {u: h for u, h in rows if h}
    extra = first.get("extra") or {}
    bfv = not first.get("image_ref") and bool(extra.get("block_devices"))
    return RequestSpec(
        instance_uuids=tuple(i["uuid"] for i in group),
        project_id=first["project_id"], user_id=first["user_id"],
        flavor=flavor_spec(first["flavor"], boot_from_volume=bfv),
        image_properties=dict(spec.get("image_properties") or {}),
        availability_zone=spec.get("availability_zone"),
        hints=hints, group=group_spec,
        ignore_hosts=frozenset(spec.get("ignore_hosts") or ()),
        force_host=spec.get("force_host"), force_node=spec.get("force_node"),
        hosts_of_instances=hosts_of,
    )


async def _group_spec(rt: Runtime, group_id: str, placing: set[str]) -> GroupSpec | None:
    try:
        group = await server_groups.get_server_group(rt, None, group_id)
    except NotFound:
        return None
    others = [m for m in group.members if m not in placing]
    member_hosts: dict[str, int] = {}
    if others:
        async with rt.db.read() as conn:
            rows = await conn.execute(select(instances.c.host).where(
                instances.c.uuid.in_(others), instances.c.deleted.is_(False),
                instances.c.host.is_not(None)))
            for (host,) in rows:
                member_hosts[host] = member_hosts.get(host, 0) + 1
    return GroupSpec(uuid=group.id, policy=group.policy, rules=dict(group.rules),
                     member_hosts=member_hosts)
