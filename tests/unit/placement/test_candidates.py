"""Allocation candidates over a snapshot (``candidates.solve``, a pure function)."""

from __future__ import annotations

from nubo.placement.capacity import Inventory
from nubo.placement.queries import AggregateQuery, TraitQuery
from nubo.placement.service.candidates import Group, Request, solve
from nubo.placement.service.snapshot import ProviderState


def provider(uuid: str, parent: str | None = None, root: str | None = None,
             **inv: int) -> ProviderState:
    s = ProviderState(0, uuid, uuid, 0, parent, root or uuid)
    s.inventories = {rc: Inventory(total=n) for rc, n in inv.items()}
    return s


def world() -> dict[str, ProviderState]:
    host = provider("host", VCPU=4, MEMORY_MB=1024)
    gpu1 = provider("gpu1", parent="host", root="host", VGPU=1)
    gpu2 = provider("gpu2", parent="host", root="host", VGPU=1)
    other = provider("other", VCPU=1)
    other.traits = {"CUSTOM_SLOW"}
    other.aggregates = {"agg"}
    return {s.uuid: s for s in (host, gpu1, gpu2, other)}


def rps(result: object) -> list[set[str]]:
    return [set(f.allocations) for f in result.requests]  # type: ignore[attr-defined]


def test_single_group_fits_on_one_provider() -> None:
    states = world()
    assert rps(solve(states, Request([Group({"VCPU": 1})]))) == [{"host"}, {"other"}]
    assert rps(solve(states, Request([Group({"VCPU": 2})]))) == [{"host"}]
    states["host"].used = {"VCPU": 3}
    assert rps(solve(states, Request([Group({"VCPU": 2})]))) == []


def test_traits_aggregates_tree_and_limit() -> None:
    states = world()
    slow = TraitQuery([frozenset({"CUSTOM_SLOW"})])
    assert rps(solve(states, Request([Group({"VCPU": 1}, slow)]))) == [{"other"}]
    never = TraitQuery(forbidden={"CUSTOM_SLOW"})
    assert rps(solve(states, Request([Group({"VCPU": 1}, never)]))) == [{"host"}]
    agg = AggregateQuery([frozenset({"agg"})])
    assert rps(solve(states, Request([Group({"VCPU": 1}, member_of=agg)]))) == [{"other"}]
    assert rps(solve(states, Request([Group({"VCPU": 1})], in_tree="gpu1"))) == [{"host"}]
    assert rps(solve(states, Request([Group({"VCPU": 1})], in_tree="nope"))) == []
    assert len(solve(states, Request([Group({"VCPU": 1})], limit=1)).requests) == 1


def test_granular_groups_isolate_and_same_subtree() -> None:
    states = world()
    groups = [Group({"VCPU": 1}), Group({"VGPU": 1}, suffix="1"), Group({"VGPU": 1}, suffix="2")]
    isolated = solve(states, Request(groups, isolate=True))
    assert rps(isolated) == [{"host", "gpu1", "gpu2"}] * 2
    assert all(f.mappings["1"] != f.mappings["2"] for f in isolated.requests)
    # without isolation both groups may not land on one 1-VGPU provider: the sum does not fit
    shared = solve(states, Request(groups))
    assert all(f.mappings["1"] != f.mappings["2"] for f in shared.requests)
    summaries = solve(states, Request(groups, isolate=True)).providers
    assert set(summaries) == {"host", "gpu1", "gpu2"}
    subtree = Request([Group({"VGPU": 1}, suffix="a"), Group({"VCPU": 1}, suffix="b")],
                      same_subtree=[["a", "b"]])
    assert rps(solve(states, subtree)) == [{"gpu1", "host"}, {"gpu2", "host"}]
    apart = Request([Group({"VGPU": 1}, suffix="a"), Group({"VGPU": 1}, suffix="b")],
                    isolate=True, same_subtree=[["a", "b"]])
    assert rps(solve(states, apart)) == []


def test_root_required() -> None:
    states = world()
    states["host"].traits = {"COMPUTE_NODE"}
    req = Request([Group({"VGPU": 1})], root_required=TraitQuery([frozenset({"COMPUTE_NODE"})]))
    assert rps(solve(states, req)) == [{"gpu1"}, {"gpu2"}]
    req.root_required = TraitQuery(forbidden={"COMPUTE_NODE"})
    assert rps(solve(states, req)) == []


def test_unnumbered_group_spreads_over_a_tree_only_when_asked() -> None:
    states = world()
    states["gpu1"].traits = {"CUSTOM_GPU_FAST"}
    request = Request([Group({"VCPU": 1, "VGPU": 1})])
    assert rps(solve(states, request)) == []
    request.spread = True
    found = solve(states, request).requests
    assert [f.allocations for f in found] == [
        {"host": {"VCPU": 1}, "gpu1": {"VGPU": 1}}, {"host": {"VCPU": 1}, "gpu2": {"VGPU": 1}}]
    assert found[0].mappings == {"": ["host", "gpu1"]}
    fast = Request([Group({"VCPU": 1, "VGPU": 1}, TraitQuery([frozenset({"CUSTOM_GPU_FAST"})]))],
                   spread=True)
    assert rps(solve(states, fast)) == [{"host", "gpu1"}]
    slow = Request([Group({"VCPU": 1, "VGPU": 1}, TraitQuery(forbidden={"CUSTOM_GPU_FAST"}))],
                   spread=True)
    assert rps(solve(states, slow)) == [{"host", "gpu2"}]
