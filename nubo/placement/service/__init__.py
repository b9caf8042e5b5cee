"""Placement's operations, and the in-process interface the compute service calls.

The functions below are the contract with ``nubo.compute`` (keep their names and
signatures); they are thin wrappers over the operation modules of this package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nubo.core.errors import Conflict, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.placement.queries import AggregateQuery, TraitQuery
from nubo.placement.service import aggregates as aggregate_ops
from nubo.placement.service import allocations as allocation_ops
from nubo.placement.service import candidates, providers, snapshot, usages
from nubo.placement.service import inventories as inventory_ops
from nubo.placement.service import traits as trait_ops
from nubo.placement.service.allocations import UNCHECKED, ConsumerWrite

__all__ = [
    "Candidate", "allocation_candidates", "claim", "delete_allocations", "delete_provider",
    "ensure_provider", "get_allocations", "move_allocations", "provider_consumers",
    "provider_summaries",
    "set_aggregates", "usages_by_project",
]


@dataclass(frozen=True)
class Candidate:
    """One feasible single-provider allocation."""

    provider_uuid: str
    resources: dict[str, int]               # what would be allocated there
    summary: dict[str, dict[str, int]]      # rc -> {"capacity": int, "used": int}
    traits: frozenset[str]
    aggregates: frozenset[str]


async def ensure_provider(rt: Runtime, *, uuid: str, name: str,
                          inventories: dict[str, dict[str, float | int]],
                          traits: Iterable[str] = ()) -> None:
    """Create the provider or bring its name, inventories and traits up to date
    (idempotent; compute agents call it at start and periodically). Missing
    ``CUSTOM_*`` traits are created. Shrinking an inventory below what is
    allocated raises Conflict (``placement.inventory.inuse``)."""
    current = await _ensure_row(rt, uuid, name)
    if current["name"] != name:
        await providers.update_provider(rt, uuid, name, allow_reparent=False,
                                        parent_provider_uuid=current["parent_provider_uuid"])
    _, have = await inventory_ops.get_inventories(rt, uuid)
    wanted = {rc: inventory_ops.normalise(f) for rc, f in inventories.items()}
    if have != wanted:
        await inventory_ops.replace_inventories(rt, uuid, None, wanted)
    _, have_traits = await trait_ops.get_provider_traits(rt, uuid)
    if set(have_traits) != set(traits):
        await trait_ops.set_provider_traits(rt, uuid, None, traits, create_custom=True)


async def _ensure_row(rt: Runtime, uuid: str, name: str) -> dict[str, Any]:
    try:
        return await providers.get_provider(rt, uuid)
    except NotFound:
        pass
    try:
        return await providers.create_provider(rt, name, uuid=uuid)
    except Conflict as conflict:
        # another agent process may have made this very provider first
        try:
            return await providers.get_provider(rt, uuid)
        except NotFound:
            raise conflict from None


async def delete_provider(rt: Runtime, uuid: str) -> None:
    """Delete the provider (404 NotFound when absent, Conflict while it has allocations)."""
    await providers.delete_provider(rt, uuid)


async def allocation_candidates(rt: Runtime, resources: dict[str, int], *,
                                required_traits: Iterable[str] = (),
                                forbidden_traits: Iterable[str] = (),
                                member_of: Sequence[Sequence[str]] = (),
                                in_tree: str | None = None,
                                limit: int | None = None) -> list[Candidate]:
    """Single providers that can hold all of ``resources`` now. ``member_of`` is a
    list of any-of aggregate sets, every one of which must match. Zero amounts are
    dropped (as Nova does); nothing left to ask for is a ValidationError."""
    wanted = _amounts(resources)
    if not wanted:
        raise ValidationError("allocation candidates need at least one positive amount")
    group = candidates.Group(
        wanted,
        TraitQuery([frozenset({n}) for n in required_traits], set(forbidden_traits)),
        AggregateQuery([frozenset(s) for s in member_of]))
    result = await candidates.find(rt, candidates.Request([group], in_tree=in_tree,
                                                          limit=limit))
    out = []
    for found in result.requests:
        (rp, held), = found.allocations.items()
        s = result.providers[rp]
        out.append(Candidate(rp, held, s.summary(), frozenset(s.traits),
                             frozenset(s.aggregates)))
    return out


async def claim(rt: Runtime, consumer_uuid: str, allocations: dict[str, dict[str, int]], *,
                project_id: str, user_id: str, consumer_type: str = "INSTANCE",
                consumer_generation: int | None = None) -> None:
    """Atomically replace the consumer's allocations (PUT semantics). Raises
    Conflict (``placement.allocation.capacity_exceeded`` or
    ``placement.concurrent_update``); never overcommits. ``consumer_generation``
    None means "do not check"."""
    gen: Any = UNCHECKED if consumer_generation is None else consumer_generation
    held = {rp: _amounts(res) for rp, res in allocations.items()}
    await allocation_ops.write_allocations(rt, [ConsumerWrite(
        consumer_uuid, {rp: res for rp, res in held.items() if res}, project_id, user_id,
        consumer_type, gen)])


def _amounts(resources: Mapping[str, int]) -> dict[str, int]:
    """Positive amounts only (zero ones dropped); a negative one is a ValidationError."""
    for rc, n in resources.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValidationError(f"invalid amount {n!r} of {rc}: a whole number >= 0")
    return {rc: n for rc, n in resources.items() if n}



async def move_allocations(rt: Runtime, source_consumer: str, target_consumer: str) -> None:
    """Move what ``source_consumer`` holds to ``target_consumer`` (replacing what the
    target held), atomically: resize and migration bookkeeping."""
    await allocation_ops.move(rt, source_consumer, target_consumer)


async def get_allocations(rt: Runtime, consumer_uuid: str) -> dict[str, dict[str, int]]:
    """rp uuid -> resources the consumer holds there ({} when none)."""
    return (await allocation_ops.consumer_allocations(rt, consumer_uuid)).allocations


async def provider_consumers(rt: Runtime, provider_uuid: str) -> dict[str, dict[str, int]]:
    """consumer uuid -> resources it holds on the provider (NotFound: no provider)."""
    return (await allocation_ops.provider_allocations(rt, provider_uuid))[1]


async def delete_allocations(rt: Runtime, consumer_uuid: str) -> None:
    """Drop everything the consumer holds (idempotent)."""
    await allocation_ops.drop_consumer(rt, consumer_uuid)


async def provider_summaries(rt: Runtime, uuids: Iterable[str] | None = None
                             ) -> dict[str, dict[str, dict[str, int]]]:
    """rp uuid -> rc -> {"capacity", "used"} for the given providers (or all)."""
    async with rt.db.read() as conn:
        states = await snapshot.load(conn, None if uuids is None else list(uuids),
                                     details=False)
    return {u: s.summary() for u, s in states.items()}


async def set_aggregates(rt: Runtime, provider_uuid: str, aggregates: Iterable[str]) -> None:
    await aggregate_ops.replace_aggregates(rt, provider_uuid, None, aggregates)



async def usages_by_project(rt: Runtime, project_id: str, user_id: str | None = None
                            ) -> dict[str, int]:
    """rc -> amount allocated to the project's (and user's) consumers."""
    found = await usages.project_usages(rt, project_id, user_id)
    return {rc: n for rc, n in found.get("all", {}).items() if rc != "consumer_count"}
