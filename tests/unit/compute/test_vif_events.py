"""The agent's waiters for external events: woken by the event, failed by a failed
event, missing when nothing comes in time."""

from __future__ import annotations

import asyncio

from nubo.compute.agent.events import InstanceEvents, wait

PLUGGED = "network-vif-plugged"


def test_events_wake_their_waiters() -> None:
    async def run() -> tuple[list[tuple[str, str]], list[tuple[str, str]], bool]:
        events = InstanceEvents()
        futures = events.prepare("s1", [(PLUGGED, "p1"), (PLUGGED, "p2"), (PLUGGED, "p3")])
        assert events.pop("s1", (PLUGGED, "p1"), "completed")
        asyncio.get_running_loop().call_later(
            0.01, events.pop, "s1", (PLUGGED, "p2"), "failed")
        failed, missing = await wait(futures, 0.2)
        unknown = events.pop("s1", (PLUGGED, "nobody"), "completed")
        return failed, missing, unknown

    failed, missing, unknown = asyncio.run(run())
    assert failed == [(PLUGGED, "p2")]
    assert missing == [(PLUGGED, "p3")]
    assert unknown is False


def test_cleared_waiters_count_as_missing() -> None:
    async def run() -> list[tuple[str, str]]:
        events = InstanceEvents()
        futures = events.prepare("s1", [(PLUGGED, "p1")])
        events.clear("s1")
        _failed, missing = await wait(futures, 0.05)
        return missing

    assert asyncio.run(run()) == [(PLUGGED, "p1")]
