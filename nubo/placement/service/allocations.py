"""Allocations: what each consumer holds of each provider, written atomically.

``write_allocations`` replaces the allocations of one or more consumers in one
transaction: lock the providers involved (old and new) in id order, check the
consumers' generations, check every amount against the inventory and against
what the *other* consumers use, write, and compare-and-set every provider's
generation. A lost race retries the whole write; a full provider is a 409.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import prebuilt
from nubo.core.errors import BadRequest, Conflict
from nubo.core.runtime import Runtime
from nubo.placement import tables as t
from nubo.placement.capacity import Inventory
from nubo.placement.service.locking import (
    CONCURRENT,
    GenerationRace,
    bump_all,
    lock_providers,
    provider_row,
    with_retries,
)

ALLOC = t.allocation
CONSUMER = t.consumer
RP = t.resource_provider
INV = t.inventory
CAPACITY_EXCEEDED = "placement.allocation.capacity_exceeded"
INCOMPLETE = "00000000-0000-0000-0000-000000000000"
UNCHECKED: Any = object()   # consumer generation not checked (before 1.28, in-process)


@dataclass
class ConsumerWrite:
    """The allocations one consumer should hold after the write (empty: none)."""

    uuid: str
    allocations: Mapping[str, Mapping[str, int]]
    project_id: str | None = None
    user_id: str | None = None
    consumer_type: str | None = None
    # UNCHECKED, None (the consumer must be new) or the generation the client saw
    generation: Any = UNCHECKED


@dataclass
class _Plan:
    providers: dict[str, Mapping[str, Any]]
    consumers: dict[str, Mapping[str, Any]]
    demand: dict[tuple[str, str], int] = field(default_factory=dict)


async def write_allocations(rt: Runtime, writes: Sequence[ConsumerWrite]) -> None:
    """Replace the allocations of every consumer in ``writes``, all or nothing."""
    async def attempt() -> None:
        async with rt.db.transaction() as tx:
            await write_in(tx, writes)

    await with_retries(attempt, what="allocate")


def _drop_statements() -> tuple[Any, Any, Any]:
    """Bump the generation of every provider the consumer holds allocations on,
    then delete its allocations and the consumer itself."""
    held = select(ALLOC.c.provider_id).where(ALLOC.c.consumer_uuid == bindparam("consumer"))
    return (update(RP).where(RP.c.id.in_(held))
            .values(generation=RP.c.generation + 1, updated_at=bindparam("now")),
            delete(ALLOC).where(ALLOC.c.consumer_uuid == bindparam("consumer")),
            delete(CONSUMER).where(CONSUMER.c.uuid == bindparam("consumer")))


_DROP = tuple(prebuilt(s) for s in _drop_statements())


async def drop_consumer(rt: Runtime, consumer_uuid: str) -> None:
    """Delete everything the consumer holds (idempotent). Giving back needs no
    capacity check and no compare-and-set: the providers' generations move on in
    the same statement that locks them, so a concurrent claim that read them before
    loses its compare-and-set and retries."""
    bump, allocations, consumer = _DROP

    async def attempt() -> None:
        async with rt.db.transaction() as tx:
            await tx.execute(bump, {"consumer": consumer_uuid, "now": utcnow()})
            await tx.execute(allocations, {"consumer": consumer_uuid})
            await tx.execute(consumer, {"consumer": consumer_uuid})

    await with_retries(attempt, what="delete allocations")


def _in(column: Any, name: str) -> Any:
    return column.in_(bindparam(name, expanding=True))


# the statements of a write, built once (``consumers`` and ``providers`` expand)
_HELD = prebuilt(select(ALLOC.c.provider_id).where(_in(ALLOC.c.consumer_uuid, "consumers")))
_HELD_LOCKED = prebuilt(_HELD.with_for_update())
_UUIDS_OF = prebuilt(select(RP.c.uuid).where(_in(RP.c.id, "providers")))
_CONSUMERS_LOCKED = prebuilt(
    select(CONSUMER).where(_in(CONSUMER.c.uuid, "consumers")).with_for_update())
_DROP_HELD = prebuilt(delete(ALLOC).where(_in(ALLOC.c.consumer_uuid, "consumers")))
# locking reads (FOR SHARE): under MariaDB's repeatable read a plain SELECT would
# answer from a snapshot taken before we waited for the provider locks
_USED_BY_OTHERS = prebuilt(
    select(ALLOC.c.provider_id, ALLOC.c.resource_class, ALLOC.c.used).where(
        _in(ALLOC.c.provider_id, "providers"), ALLOC.c.consumer_uuid.not_in(
            bindparam("consumers", expanding=True))).with_for_update(read=True))
_INVENTORIES = prebuilt(
    select(INV).where(_in(INV.c.provider_id, "providers")).with_for_update(read=True))


async def write_in(tx: Tx, writes: Sequence[ConsumerWrite]) -> set[str]:
    """The write itself, inside ``tx``; returns the uuids of the providers bumped."""
    uuids = [w.uuid for w in writes]
    consumers_of = {"consumers": uuids}
    old_ids = {r[0] for r in await tx.execute(_HELD, consumers_of)}
    old_uuids = {r[0] for r in await tx.execute(_UUIDS_OF, {"providers": sorted(old_ids)})
                 } if old_ids else set()
    new_uuids = {rp for w in writes for rp in w.allocations}
    providers = await lock_providers(tx, old_uuids | new_uuids)
    missing = sorted(new_uuids - set(providers))
    if missing:
        raise BadRequest(f"Allocation for resource provider '{missing[0]}' that does not "
                         "exist.", code="placement.resource_provider.not_found")
    consumers = {r.uuid: r._mapping for r in await tx.execute(_CONSUMERS_LOCKED, consumers_of)}
    held = {r[0] for r in await tx.execute(_HELD_LOCKED, consumers_of)}
    if not held <= {r["id"] for r in providers.values()}:
        raise GenerationRace("a consumer's allocations changed while we locked")
    plan = _Plan(providers, consumers)
    for w in writes:
        _check_generation(w, consumers.get(w.uuid))
        for rp, resources in w.allocations.items():
            for rc, amount in resources.items():
                key = (rp, rc)
                plan.demand[key] = plan.demand.get(key, 0) + amount
    await _check_capacity(tx, plan, uuids)
    if held:
        await tx.execute(_DROP_HELD, consumers_of)
    rows: list[dict[str, Any]] = []
    for w in writes:
        await _save_consumer(tx, w, consumers.get(w.uuid))
        rows += [{"provider_id": providers[rp]["id"], "consumer_uuid": w.uuid,
                  "resource_class": rc, "used": amount}
                 for rp, resources in w.allocations.items() for rc, amount in resources.items()]
    if rows:
        await tx.execute(insert(ALLOC), rows)
    await bump_all(tx, providers.values())
    return set(providers)


def _check_generation(w: ConsumerWrite, row: Mapping[str, Any] | None) -> None:
    if w.generation is UNCHECKED:
        return
    have = None if row is None else row["generation"]
    if w.generation != have:
        raise Conflict(f"consumer generation conflict - expected {_shown(w.generation)} but "
                       f"got {_shown(have)}", code=CONCURRENT)


def _shown(gen: int | None) -> str:
    return "null" if gen is None else str(gen)


async def _check_capacity(tx: Tx, plan: _Plan, writing: list[str]) -> None:
    ids = {plan.providers[rp]["id"] for rp, _ in plan.demand}
    if not ids:
        return
    params = {"providers": sorted(ids), "consumers": writing}
    used: dict[tuple[int, str], int] = defaultdict(int)
    for pid, rc, n in await tx.execute(_USED_BY_OTHERS, params):
        used[(pid, rc)] += n
    invs = {(r.provider_id, r.resource_class): Inventory.of(r._mapping)
            for r in await tx.execute(_INVENTORIES, params)}
    for (rp, rc), amount in sorted(plan.demand.items()):
        pid = plan.providers[rp]["id"]
        inv = invs.get((pid, rc))
        if inv is None:
            raise Conflict(f"Unable to allocate inventory: Inventory for '{rc}' on resource "
                           f"provider '{rp}' invalid.")
        problem = inv.shape_error(amount)
        if problem:
            raise Conflict(f"Unable to allocate inventory: allocation of {rc} on resource "
                           f"provider '{rp}' violates constraints: {problem}.")
        if not inv.fits(used.get((pid, rc), 0), amount):
            raise Conflict(f"Unable to allocate inventory: Unable to create allocation for "
                           f"'{rc}' on resource provider '{rp}'. The requested amount would "
                           "exceed the capacity.", code=CAPACITY_EXCEEDED)


async def _save_consumer(tx: Tx, w: ConsumerWrite, row: Mapping[str, Any] | None) -> None:
    now = utcnow()
    if not any(w.allocations.values()):
        if row is not None:
            await tx.execute(delete(CONSUMER).where(CONSUMER.c.uuid == w.uuid))
        return
    if row is None:
        await tx.execute(insert(CONSUMER).values(
            uuid=w.uuid, project_id=w.project_id or INCOMPLETE,
            user_id=w.user_id or INCOMPLETE, consumer_type=w.consumer_type, generation=1,
            created_at=now, updated_at=now))
        return
    values: dict[str, Any] = {"generation": row["generation"] + 1, "updated_at": now}
    if w.project_id:
        values["project_id"] = w.project_id
    if w.user_id:
        values["user_id"] = w.user_id
    if w.consumer_type:
        values["consumer_type"] = w.consumer_type
    await tx.execute(update(CONSUMER).where(CONSUMER.c.uuid == w.uuid).values(**values))


@dataclass
class ConsumerAllocations:
    allocations: dict[str, dict[str, int]]     # rp uuid -> rc -> amount
    generations: dict[str, int]                # rp uuid -> provider generation
    project_id: str | None = None
    user_id: str | None = None
    consumer_type: str | None = None
    generation: int | None = None


async def consumer_allocations(rt: Runtime, consumer_uuid: str) -> ConsumerAllocations:
    async with rt.db.read() as conn:
        rows = await conn.execute(
            select(RP.c.uuid, RP.c.generation, ALLOC.c.resource_class, ALLOC.c.used)
            .join(RP, RP.c.id == ALLOC.c.provider_id)
            .where(ALLOC.c.consumer_uuid == consumer_uuid))
        out = ConsumerAllocations(defaultdict(dict), {})
        for rp, gen, rc, used in rows:
            out.allocations[rp][rc] = used
            out.generations[rp] = gen
        out.allocations = dict(out.allocations)
        c = (await conn.execute(select(CONSUMER).where(CONSUMER.c.uuid == consumer_uuid))
             ).first()
    if c is not None:
        out.project_id, out.user_id = c.project_id, c.user_id
        out.consumer_type, out.generation = c.consumer_type or "unknown", c.generation
    return out


async def provider_allocations(rt: Runtime, uuid: str
                               ) -> tuple[int, dict[str, dict[str, int]]]:
    """The provider's generation and consumer uuid -> rc -> amount."""
    async with rt.db.read() as conn:
        row = await provider_row(conn, uuid)
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for r in await conn.execute(select(ALLOC).where(ALLOC.c.provider_id == row["id"])):
            out[r.consumer_uuid][r.resource_class] = r.used
    return row["generation"], dict(out)


async def move(rt: Runtime, source: str, target: str) -> None:
    """Give ``target`` the allocations ``source`` holds; ``source`` holds none after."""
    async def attempt() -> None:
        async with rt.db.transaction() as tx:
            held: dict[str, dict[str, int]] = defaultdict(dict)
            rows = await tx.execute(
                select(RP.c.uuid, ALLOC.c.resource_class, ALLOC.c.used)
                .join(RP, RP.c.id == ALLOC.c.provider_id)
                .where(ALLOC.c.consumer_uuid == source))
            for rp, rc, used in rows:
                held[rp][rc] = used
            c = (await tx.execute(select(CONSUMER).where(CONSUMER.c.uuid == source))).first()
            await write_in(tx, [
                ConsumerWrite(source, {}),
                ConsumerWrite(target, dict(held), c.project_id if c else None,
                              c.user_id if c else None, c.consumer_type if c else None),
            ])

    await with_retries(attempt, what="move allocations")


def flatten(allocations: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """The pre-1.12 list form ``[{"resource_provider": {"uuid"}, "resources"}]``."""
    out: dict[str, dict[str, int]] = {}
    for item in allocations:
        rp = item["resource_provider"]["uuid"]
        out.setdefault(rp, {}).update(item["resources"])
    return out


async def consumer_generations(rt: Runtime, uuids: list[str]) -> dict[str, int]:
    async with rt.db.read() as conn:
        rows = await conn.execute(select(CONSUMER.c.uuid, CONSUMER.c.generation).where(
            CONSUMER.c.uuid.in_(uuids)))
        return {u: g for u, g in rows}
