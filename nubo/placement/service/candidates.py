"""Allocation candidates: where a request (one or more groups of resources) fits.

Each numbered group (``resourcesN``) is satisfied by one provider. The
unnumbered group is too, unless ``spread`` (Placement 1.29, nested providers):
then each of its resource classes may come from a different provider of the
tree, and its required traits may be on any provider it uses. All providers of
one candidate share a tree; ``group_policy=isolate`` keeps the numbered groups
on distinct providers. Sharing providers (``MISC_SHARES_VIA_AGGREGATE``) are
not modelled.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nubo.core.runtime import Runtime
from nubo.placement.queries import AggregateQuery, TraitQuery
from nubo.placement.service import snapshot
from nubo.placement.service.snapshot import ProviderState

MAX_COMBINATIONS = 10000


@dataclass
class Group:
    resources: dict[str, int]
    traits: TraitQuery = field(default_factory=TraitQuery)
    member_of: AggregateQuery = field(default_factory=AggregateQuery)
    suffix: str = ""
    in_tree: str | None = None

    def admits(self, s: ProviderState) -> bool:
        if not s.can_hold(self.resources):
            return False
        if self.member_of and not self.member_of.matches(s.aggregates):
            return False
        return self.traits.matches(s.traits)


@dataclass
class Request:
    groups: list[Group]
    in_tree: str | None = None
    isolate: bool = False
    limit: int | None = None
    root_required: TraitQuery = field(default_factory=TraitQuery)
    # lists of group suffixes whose providers must share a subtree
    same_subtree: list[list[str]] = field(default_factory=list)
    # the unnumbered group may spread over the providers of a tree (1.29)
    spread: bool = False


@dataclass
class Found:
    """One allocation request: provider uuid -> resources, and group suffix -> providers."""

    allocations: dict[str, dict[str, int]]
    mappings: dict[str, list[str]]


@dataclass
class Result:
    requests: list[Found]
    providers: dict[str, ProviderState]


async def find(rt: Runtime, request: Request) -> Result:
    async with rt.db.read() as conn:
        states = await snapshot.load(conn)
    return solve(states, request)


def solve(states: Mapping[str, ProviderState], request: Request) -> Result:
    """The feasible allocation requests over a snapshot (a pure function)."""
    roots: dict[str, str] = {}
    for g in request.groups:
        anchor_uuid = g.in_tree or request.in_tree
        if anchor_uuid is not None:
            anchor = states.get(anchor_uuid)
            if anchor is None:
                return Result([], {})
            roots[g.suffix] = anchor.root_provider_uuid
    found: list[Found] = []
    for tree_root, members in snapshot.trees(states).items():
        if any(r != tree_root for r in roots.values()):
            continue
        root_state = states.get(tree_root)
        if root_state is None or not request.root_required.matches(root_state.traits):
            continue
        found.extend(f for f in _in_tree(members, request)
                     if all(_same_subtree(states, f, names) for names in request.same_subtree))
        if request.limit is not None and len(found) >= request.limit:
            break
    if request.limit is not None:
        found = found[:request.limit]
    used = {rp for f in found for rp in f.allocations}
    trees = {states[rp].root_provider_uuid for rp in used}
    involved = {u: s for u, s in states.items() if s.root_provider_uuid in trees}
    return Result(found, involved)


def _same_subtree(states: Mapping[str, ProviderState], found: Found, names: list[str]) -> bool:
    """One provider of the named groups is an ancestor (or self) of all the others."""
    rps = {rp for name in names for rp in found.mappings.get(name, [])}

    def ancestors(uuid: str) -> set[str]:
        out = {uuid}
        parent = states[uuid].parent_provider_uuid
        while parent is not None and parent not in out:
            out.add(parent)
            parent = states[parent].parent_provider_uuid if parent in states else None
        return out

    lines = {rp: ancestors(rp) for rp in rps}
    return any(all(top in line for line in lines.values()) for top in rps)


# one way to satisfy a group: (provider uuid, resource class, amount) triples
Option = tuple[tuple[str, str, int], ...]


def _options(members: Sequence[ProviderState], g: Group, spread: bool) -> list[Option]:
    if not spread or g.suffix or len(g.resources) < 2:
        return [tuple((s.uuid, rc, n) for rc, n in g.resources.items())
                for s in members if g.admits(s)]
    by_uuid = {s.uuid: s for s in members}
    per_class = [[(s.uuid, rc, n) for s in members
                  if s.can_hold({rc: n}) and not g.traits.forbidden & s.traits
                  and (not g.member_of or g.member_of.matches(s.aggregates))]
                 for rc, n in g.resources.items()]
    out: list[Option] = []
    for pick in itertools.islice(itertools.product(*per_class), MAX_COMBINATIONS):
        traits = set().union(*(by_uuid[uuid].traits for uuid, _, _ in pick))
        if g.traits.matches(traits):
            out.append(pick)
    return out


def _in_tree(members: Sequence[ProviderState], request: Request) -> Iterable[Found]:
    options = [_options(members, g, request.spread) for g in request.groups]
    if any(not o for o in options):
        return []
    by_uuid = {s.uuid: s for s in members}
    out: list[Found] = []
    for combo in itertools.islice(itertools.product(*options), MAX_COMBINATIONS):
        numbered = [opt[0][0] for opt, g in zip(combo, request.groups, strict=True) if g.suffix]
        if request.isolate and len(set(numbered)) != len(numbered):
            continue
        found = _combine(by_uuid, combo, request.groups)
        if found is not None and found not in out:
            out.append(found)
    return out


def _combine(by_uuid: Mapping[str, ProviderState], combo: Sequence[Option],
             groups: Sequence[Group]) -> Found | None:
    """Merge the groups' resources per provider; None when the sum no longer fits."""
    allocations: dict[str, dict[str, int]] = {}
    mappings: dict[str, list[str]] = {}
    for option, g in zip(combo, groups, strict=True):
        for uuid, rc, amount in option:
            merged = allocations.setdefault(uuid, {})
            merged[rc] = merged.get(rc, 0) + amount
            if uuid not in mappings.setdefault(g.suffix, []):
                mappings[g.suffix].append(uuid)
    for rp, resources in allocations.items():
        if not by_uuid[rp].can_hold(resources):
            return None
    return Found(allocations, mappings)
