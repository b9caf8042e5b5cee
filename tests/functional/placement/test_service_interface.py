"""The in-process interface compute calls (``nubo.placement.service``), on every
database back end, including the capacity guarantee under concurrency."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.cli.launcher import load_specs, running
from nubo.core.config import load_settings
from nubo.core.errors import Conflict, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.placement import service as placement
from tests.conftest import SELECTED
from tests.databases import database

INV = {"VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0},
       "MEMORY_MB": {"total": 4096, "reserved": 512, "allocation_ratio": 1.5},
       "DISK_GB": {"total": 100, "reserved": 0, "allocation_ratio": 1.0}}


@pytest.fixture(scope="module", params=SELECTED)
async def rt(request: pytest.FixtureRequest) -> AsyncIterator[Runtime]:
    with tempfile.TemporaryDirectory(prefix="nubo-placement-") as tmp:
        try:
            ctx = database(request.param, tmp)
            url = await asyncio.to_thread(ctx.__enter__)
        except RuntimeError as e:
            pytest.skip(str(e))
        try:
            settings = load_settings(environ={}, overrides={
                "core": {"state_dir": str(Path(tmp) / "state")},
                "database": {"connection": url}})
            async with running(settings, load_specs(["placement"])) as runtime:
                yield runtime
        finally:
            await asyncio.to_thread(ctx.__exit__, None, None, None)


def new() -> str:
    return str(uuid.uuid4())


async def host(rt: Runtime, inv: dict[str, Any] | None = None, traits: tuple[str, ...] = ()
               ) -> str:
    rp = new()
    await placement.ensure_provider(rt, uuid=rp, name=f"host-{rp[:8]}",
                                    inventories=inv or INV, traits=traits)
    return rp


async def test_ensure_provider_is_idempotent_and_updates(rt: Runtime) -> None:
    rp = await host(rt, traits=("COMPUTE_NODE", "CUSTOM_FAST"))
    await placement.ensure_provider(rt, uuid=rp, name=f"host-{rp[:8]}", inventories=INV,
                                    traits=("COMPUTE_NODE", "CUSTOM_FAST"))
    summary = (await placement.provider_summaries(rt, [rp]))[rp]
    assert summary["MEMORY_MB"] == {"capacity": int((4096 - 512) * 1.5), "used": 0}
    await placement.ensure_provider(rt, uuid=rp, name="renamed-" + rp[:8],
                                    inventories={"VCPU": {"total": 2, "reserved": 0,
                                                          "allocation_ratio": 4.0}})
    summary = (await placement.provider_summaries(rt, [rp]))[rp]
    assert summary == {"VCPU": {"capacity": 8, "used": 0}}
    found = await placement.allocation_candidates(rt, {"VCPU": 1}, required_traits=["CUSTOM_FAST"],
                                                  in_tree=rp)
    assert found == []


async def test_candidates_claim_and_capacity(rt: Runtime) -> None:
    rp = await host(rt, traits=("COMPUTE_NODE",))
    found = await placement.allocation_candidates(rt, {"VCPU": 2, "MEMORY_MB": 1024},
                                                  required_traits=["COMPUTE_NODE"], in_tree=rp)
    assert [c.provider_uuid for c in found] == [rp]
    c = found[0]
    assert c.resources == {"VCPU": 2, "MEMORY_MB": 1024}
    assert c.summary["VCPU"] == {"capacity": 8, "used": 0}
    assert "COMPUTE_NODE" in c.traits
    assert await placement.allocation_candidates(
        rt, {"VCPU": 1}, forbidden_traits=["COMPUTE_NODE"], in_tree=rp) == []
    consumer, project, user = new(), new(), new()
    await placement.claim(rt, consumer, {rp: {"VCPU": 6}}, project_id=project, user_id=user)
    assert await placement.get_allocations(rt, consumer) == {rp: {"VCPU": 6}}
    with pytest.raises(Conflict) as err:
        await placement.claim(rt, new(), {rp: {"VCPU": 3}}, project_id=project, user_id=user)
    assert err.value.details["code"] == "placement.allocation.capacity_exceeded"
    assert await placement.allocation_candidates(rt, {"VCPU": 3}, in_tree=rp) == []
    # replacing the consumer's own allocation does not count it twice
    await placement.claim(rt, consumer, {rp: {"VCPU": 8}}, project_id=project, user_id=user)
    assert await placement.usages_by_project(rt, project) == {"VCPU": 8}
    assert await placement.usages_by_project(rt, project, new()) == {}
    await placement.delete_allocations(rt, consumer)
    await placement.delete_allocations(rt, consumer)
    assert await placement.get_allocations(rt, consumer) == {}
    assert (await placement.provider_summaries(rt, [rp]))[rp]["VCPU"]["used"] == 0


async def test_consumer_generation_checked_when_given(rt: Runtime) -> None:
    rp = await host(rt)
    consumer = new()
    await placement.claim(rt, consumer, {rp: {"VCPU": 1}}, project_id="p", user_id="u")
    with pytest.raises(Conflict) as err:
        await placement.claim(rt, consumer, {rp: {"VCPU": 2}}, project_id="p", user_id="u",
                              consumer_generation=7)
    assert err.value.details["code"] == "placement.concurrent_update"
    await placement.claim(rt, consumer, {rp: {"VCPU": 2}}, project_id="p", user_id="u",
                          consumer_generation=1)
    assert await placement.get_allocations(rt, consumer) == {rp: {"VCPU": 2}}


async def test_move_allocations(rt: Runtime) -> None:
    rp = await host(rt)
    instance, migration = new(), new()
    await placement.claim(rt, instance, {rp: {"VCPU": 2, "DISK_GB": 10}}, project_id="p",
                          user_id="u")
    await placement.move_allocations(rt, instance, migration)
    assert await placement.get_allocations(rt, instance) == {}
    assert await placement.get_allocations(rt, migration) == {rp: {"VCPU": 2, "DISK_GB": 10}}
    assert await placement.usages_by_project(rt, "p") != {}


async def test_aggregates_filter_candidates(rt: Runtime) -> None:
    a, b = await host(rt), await host(rt)
    agg = new()
    await placement.set_aggregates(rt, a, [agg])
    found = await placement.allocation_candidates(rt, {"VCPU": 1}, member_of=[[agg, new()]])
    assert [c.provider_uuid for c in found] == [a]
    assert found[0].aggregates == frozenset({agg})
    assert b not in [c.provider_uuid for c in found]
    assert len(await placement.allocation_candidates(rt, {"VCPU": 1}, limit=1)) == 1


async def test_delete_provider(rt: Runtime) -> None:
    rp = await host(rt)
    consumer = new()
    await placement.claim(rt, consumer, {rp: {"VCPU": 1}}, project_id="p", user_id="u")
    with pytest.raises(Conflict):
        await placement.delete_provider(rt, rp)
    await placement.delete_allocations(rt, consumer)
    await placement.delete_provider(rt, rp)
    with pytest.raises(NotFound):
        await placement.delete_provider(rt, rp)
    assert await placement.provider_summaries(rt, [rp]) == {}


async def test_inventory_shrink_below_usage_is_refused(rt: Runtime) -> None:
    rp = await host(rt)
    await placement.claim(rt, new(), {rp: {"VCPU": 6}}, project_id="p", user_id="u")
    with pytest.raises(Conflict) as err:
        await placement.ensure_provider(rt, uuid=rp, name=f"host-{rp[:8]}", inventories={
            "VCPU": {"total": 4, "reserved": 0, "allocation_ratio": 1.0}})
    assert err.value.details["code"] == "placement.inventory.inuse"


async def test_concurrent_claims_never_overcommit(rt: Runtime) -> None:
    rp = await host(rt, {"VCPU": {"total": 37, "reserved": 0, "allocation_ratio": 1.0}})

    async def one() -> bool:
        try:
            await placement.claim(rt, new(), {rp: {"VCPU": 1}}, project_id="p2", user_id="u")
        except Conflict:
            return False
        return True

    results = await asyncio.gather(*(one() for _ in range(60)))
    assert sum(results) == 37
    assert (await placement.provider_summaries(rt, [rp]))[rp]["VCPU"] == {
        "capacity": 37, "used": 37}


async def test_provider_consumers(rt: Runtime) -> None:
    rp = await host(rt)
    consumer = new()
    assert await placement.provider_consumers(rt, rp) == {}
    await placement.claim(rt, consumer, {rp: {"VCPU": 1, "DISK_GB": 5}}, project_id="p",
                          user_id="u")
    assert await placement.provider_consumers(rt, rp) == {consumer: {"VCPU": 1, "DISK_GB": 5}}
    with pytest.raises(NotFound):
        await placement.provider_consumers(rt, new())


async def test_concurrent_ensure_provider_and_name_clash(rt: Runtime) -> None:
    rp = new()
    inv = {"VCPU": {"total": 4.0, "reserved": 0, "allocation_ratio": 2}}
    await asyncio.gather(*(placement.ensure_provider(rt, uuid=rp, name=f"same-{rp[:8]}",
                                                     inventories=inv) for _ in range(5)))
    assert (await placement.provider_summaries(rt, [rp]))[rp] == {
        "VCPU": {"capacity": 8, "used": 0}}
    with pytest.raises(Conflict) as err:
        await placement.ensure_provider(rt, uuid=new(), name=f"same-{rp[:8]}", inventories=inv)
    assert err.value.details["code"] == "placement.duplicate_name"


async def test_concurrent_two_provider_claims_and_inventory_changes(rt: Runtime) -> None:
    room = {"VCPU": {"total": 10, "reserved": 0, "allocation_ratio": 1.0}}
    a, b = await host(rt, room), await host(rt, room)

    async def one(i: int) -> bool:
        pair = {a: {"VCPU": 1}, b: {"VCPU": 1}}
        if i % 2:
            pair = dict(reversed(list(pair.items())))
        try:
            await placement.claim(rt, new(), pair, project_id="p3", user_id="u")
        except Conflict:
            return False
        return True

    async def shrink() -> None:
        try:
            await placement.ensure_provider(rt, uuid=a, name=f"host-{a[:8]}", inventories={
                "VCPU": {"total": 6, "reserved": 0, "allocation_ratio": 1.0}})
        except Conflict as err:
            assert err.details["code"] == "placement.inventory.inuse"

    results = await asyncio.gather(*(one(i) for i in range(30)), shrink())
    won = sum(1 for r in results if r is True)
    summaries = await placement.provider_summaries(rt, [a, b])
    assert summaries[b]["VCPU"]["used"] == won
    assert summaries[a]["VCPU"]["used"] == won
    assert won <= summaries[a]["VCPU"]["capacity"]
    assert won in (6, 10)


async def test_zero_amounts_are_dropped_and_negative_refused(rt: Runtime) -> None:
    rp = await host(rt)
    found = await placement.allocation_candidates(rt, {"VCPU": 1, "DISK_GB": 0}, in_tree=rp)
    assert [c.resources for c in found] == [{"VCPU": 1}]
    consumer = new()
    await placement.claim(rt, consumer, {rp: {"VCPU": 1, "DISK_GB": 0}}, project_id="p",
                          user_id="u")
    assert await placement.get_allocations(rt, consumer) == {rp: {"VCPU": 1}}
    with pytest.raises(ValidationError):
        await placement.claim(rt, consumer, {rp: {"VCPU": -1}}, project_id="p", user_id="u")
    with pytest.raises(ValidationError):
        await placement.allocation_candidates(rt, {"VCPU": 0})
    assert await placement.get_allocations(rt, consumer) == {rp: {"VCPU": 1}}
