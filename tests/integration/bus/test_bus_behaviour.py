"""The delivery semantics both buses promise, one test body for each implementation."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from nubo.core.bus import BusOptions, Envelope

from .conftest import FAST, Backend
from .inbox import Flaky, Gate, Inbox


async def test_fanout_reaches_every_matching_subscriber(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    exact, star, hash_, other = Inbox(), Inbox(), Inbox(), Inbox()
    await bus.subscribe(f"{ns}.revocation.created", exact)
    await bus.subscribe(f"{ns}.revocation.*", star)
    await bus.subscribe(f"{ns}.#", hash_)
    await bus.subscribe(f"{ns}.token.*", other)

    await bus.publish(f"{ns}.revocation.created", {"n": 1})
    await bus.publish(f"{ns}.revocation.created", {"n": 2})
    for inbox in (exact, star, hash_):
        await inbox.wait_for(2)
    await backend.settle(bus)

    for inbox in (exact, star, hash_):
        assert sorted(p["n"] for p in inbox.payloads) == [1, 2]
    assert other.received == []


async def test_work_queue_splits_and_handles_each_message_once(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    handled = Inbox()

    class Worker(Inbox):
        async def __call__(self, env: Envelope) -> None:
            await asyncio.sleep(0.01)
            await super().__call__(env)
            await handled(env)

    one, two = Worker(), Worker()
    await bus.consume(f"{ns}.instance.*", one, queue=f"{ns}.host1")
    await bus.consume(f"{ns}.instance.*", two, queue=f"{ns}.host1")

    for n in range(20):
        await bus.publish(f"{ns}.instance.build", {"n": n})
    await handled.wait_for(20)
    await backend.settle(bus)

    assert sorted(p["n"] for p in handled.payloads) == list(range(20))
    assert one.received and two.received


async def test_failing_handler_gets_redelivery_then_succeeds(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    flaky = Flaky(failures=2)
    await bus.consume(f"{ns}.instance.build", flaky, queue=f"{ns}.conductor")

    sent = await bus.publish(f"{ns}.instance.build", {"id": "vm-1"})
    await flaky.wait_for(1)
    await backend.settle(bus)

    assert flaky.attempts == {sent.message_id: 3}
    assert [e.message_id for e in flaky.received] == [sent.message_id]
    assert flaky.received[0].payload == {"id": "vm-1"}


async def test_fanout_redelivery_goes_only_to_the_failing_subscriber(
    backend: Backend, ns: str
) -> None:
    bus = await backend.bus()
    flaky, steady = Flaky(failures=1), Inbox()
    await bus.subscribe(f"{ns}.revocation.*", flaky)
    await bus.subscribe(f"{ns}.revocation.*", steady)

    await bus.publish(f"{ns}.revocation.created", {"id": 1})
    await flaky.wait_for(1)
    await backend.settle(bus)

    assert len(flaky.received) == 1
    assert len(steady.received) == 1


async def test_handler_that_always_fails_is_dead_lettered_after_max_attempts(
    backend: Backend, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    bus = await backend.bus()
    doomed = Flaky(failures=100)
    await bus.consume(f"{ns}.instance.build", doomed, queue=f"{ns}.doomed")

    with caplog.at_level(logging.WARNING, logger="nubo.bus"):
        sent = await bus.publish(f"{ns}.instance.build", {"id": "vm-x"})
        await doomed.tries.wait_for(FAST.max_attempts)
        await backend.settle(bus)

    assert doomed.attempts == {sent.message_id: FAST.max_attempts}
    dead = [r for r in caplog.records if "dead-lettered" in r.message]
    assert len(dead) == 1 and dead[0].levelno == logging.ERROR
    assert f"{ns}.doomed" in dead[0].message and sent.message_id in dead[0].message


async def test_messages_published_before_a_consumer_are_kept(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    await bus.declare(f"{ns}.instance.*", queue=f"{ns}.host2")
    for n in range(3):
        await bus.publish(f"{ns}.instance.build", {"n": n})

    inbox = Inbox()
    await bus.consume(f"{ns}.instance.*", inbox, queue=f"{ns}.host2")

    await inbox.wait_for(3)
    assert sorted(p["n"] for p in inbox.payloads) == [0, 1, 2]


async def test_work_queue_keeps_messages_between_consumers(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    first = Inbox()
    subscription = await bus.consume(f"{ns}.instance.*", first, queue=f"{ns}.host3")
    await subscription.cancel()

    await bus.publish(f"{ns}.instance.build", {"id": "while-nobody-listens"})
    await backend.settle(bus)
    second = Inbox()
    await bus.consume(f"{ns}.instance.*", second, queue=f"{ns}.host3")

    assert [e.payload for e in await second.wait_for(1)] == [{"id": "while-nobody-listens"}]
    assert first.received == []


async def test_cancelled_subscription_receives_nothing(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    gone, staying = Inbox(), Inbox()
    subscription = await bus.subscribe(f"{ns}.revocation.*", gone)
    await bus.subscribe(f"{ns}.revocation.*", staying)
    await subscription.cancel()

    await bus.publish(f"{ns}.revocation.created", {})
    await staying.wait_for(1)
    await backend.settle(bus)

    assert gone.received == []


async def test_request_id_and_context_are_carried(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    inbox = Inbox()
    await bus.consume(f"{ns}.instance.build", inbox, queue=f"{ns}.ctx")
    context = {"user_id": "u1", "project_id": "p1", "roles": ["member", "reader"]}

    sent = await bus.publish(
        f"{ns}.instance.build", {"id": "vm-2"}, request_id="req-123", context=context
    )
    [got] = await inbox.wait_for(1)

    assert got == sent
    assert got.request_id == "req-123"
    assert got.context == context
    assert got.topic == f"{ns}.instance.build"
    assert abs(datetime.now(UTC) - got.timestamp) < timedelta(seconds=30)


async def test_messages_a_handler_publishes_keep_its_request_id(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    follow_ups = Inbox()

    async def build(env: Envelope) -> None:
        await bus.publish(f"{ns}.instance.spawned", {"id": env.payload["id"]})

    await bus.consume(f"{ns}.instance.build", build, queue=f"{ns}.builder")
    await bus.subscribe(f"{ns}.instance.spawned", follow_ups)
    await bus.publish(f"{ns}.instance.build", {"id": "vm-4"}, request_id="req-777")
    await bus.publish(f"{ns}.instance.build", {"id": "vm-5"})

    received = await follow_ups.wait_for(2)
    assert {e.payload["id"]: e.request_id for e in received} == {"vm-4": "req-777", "vm-5": None}


async def test_publish_does_not_wait_for_handlers(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    gate = Gate()
    await bus.subscribe(f"{ns}.instance.*", gate)

    await asyncio.wait_for(bus.publish(f"{ns}.instance.build", {}), timeout=5)
    await gate.wait_for(1)

    assert gate.finished.received == []
    gate.open.set()
    await gate.finished.wait_for(1)


async def test_handlers_run_concurrently_up_to_prefetch(backend: Backend, ns: str) -> None:
    bus = await backend.bus(BusOptions(prefetch=3, drain_timeout=2.0))
    gate = Gate()
    await bus.consume(f"{ns}.instance.*", gate, queue=f"{ns}.prefetch")

    for n in range(5):
        await bus.publish(f"{ns}.instance.build", {"n": n})
    await gate.wait_for(3)
    await asyncio.sleep(0.2)
    assert len(gate.received) == 3  # the other two wait for a free slot

    gate.open.set()
    await gate.wait_for(5)
    await backend.settle(bus)
    assert len(gate.finished.received) == 5


async def test_close_lets_running_handlers_finish(backend: Backend, ns: str) -> None:
    bus = await backend.bus()
    gate = Gate()
    await bus.consume(f"{ns}.instance.*", gate, queue=f"{ns}.closing")
    await bus.publish(f"{ns}.instance.build", {"id": "vm-3"})
    await gate.wait_for(1)

    closing = asyncio.create_task(bus.close())
    await asyncio.sleep(0.05)
    assert not closing.done()  # waiting for the handler
    gate.open.set()
    await asyncio.wait_for(closing, timeout=5)

    assert gate.finished.payloads == [{"id": "vm-3"}]
