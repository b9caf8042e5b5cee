"""What the in-process bus adds to the shared semantics: drain(), dead letters in memory.

The delivery semantics both buses share are tested, for both, in
tests/integration/bus/test_bus_behaviour.py.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator

import pytest

from nubo.core.bus import BusError, BusOptions, Envelope, InProcBus, make_bus
from nubo.core.bus.amqp import AmqpBus
from nubo.core.log import request_id_var

OPTIONS = BusOptions(max_attempts=3, retry_delay=0.01, max_retry_delay=0.02, drain_timeout=0.2)


@pytest.fixture
async def bus() -> AsyncIterator[InProcBus]:
    bus = InProcBus(OPTIONS)
    await bus.start()
    yield bus
    await bus.close()


async def test_drain_waits_for_redeliveries_to_succeed(bus: InProcBus) -> None:
    calls: list[int] = []

    async def fails_twice(env: Envelope) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("not yet")

    await bus.consume("compute.instance.*", fails_twice, queue="conductor")
    await bus.publish("compute.instance.build", {})
    await asyncio.wait_for(bus.drain(), timeout=5)

    assert len(calls) == 3
    assert list(bus.dead_letters) == []


async def test_drain_waits_for_messages_that_handlers_publish(bus: InProcBus) -> None:
    seen: list[str] = []

    async def forward(env: Envelope) -> None:
        seen.append(env.topic)
        await asyncio.sleep(0.01)
        await bus.publish("compute.instance.spawned", {})

    await bus.subscribe("compute.instance.build", forward)
    await bus.subscribe("compute.instance.spawned", lambda env: _record(seen, env))
    await bus.publish("compute.instance.build", {})
    await asyncio.wait_for(bus.drain(), timeout=5)

    assert seen == ["compute.instance.build", "compute.instance.spawned"]


async def _record(seen: list[str], env: Envelope) -> None:
    seen.append(env.topic)


async def test_drain_ignores_queues_nobody_consumes(bus: InProcBus) -> None:
    await bus.declare("compute.instance.*", queue="compute.host9")
    await bus.publish("compute.instance.build", {})

    await asyncio.wait_for(bus.drain(), timeout=5)


async def test_exhausted_messages_are_kept_as_dead_letters(bus: InProcBus) -> None:
    async def broken(env: Envelope) -> None:
        raise ValueError("bad disk")

    await bus.consume("compute.instance.*", broken, queue="compute.host1")
    sent = await bus.publish("compute.instance.build", {"id": "vm-1"})
    await asyncio.wait_for(bus.drain(), timeout=5)

    [letter] = bus.dead_letters
    assert letter.queue == "compute.host1"
    assert letter.attempts == OPTIONS.max_attempts
    assert "bad disk" in letter.error
    assert Envelope.from_json(letter.body) == sent


async def test_handler_cancelled_at_drain_timeout_hands_its_message_on(bus: InProcBus) -> None:
    stuck_started = asyncio.Event()
    done: list[str] = []

    async def stuck(env: Envelope) -> None:
        stuck_started.set()
        await asyncio.Event().wait()

    async def healthy(env: Envelope) -> None:
        done.append(env.message_id)

    first = await bus.consume("compute.instance.*", stuck, queue="compute.host1")
    sent = await bus.publish("compute.instance.build", {})
    await stuck_started.wait()
    await bus.consume("compute.instance.*", healthy, queue="compute.host1")

    await first.cancel()  # gives up after drain_timeout; the message was never acked
    await asyncio.wait_for(bus.drain(), timeout=5)

    assert done == [sent.message_id]


async def test_a_handler_may_cancel_its_own_subscription(bus: InProcBus) -> None:
    received: list[Envelope] = []

    async def once(env: Envelope) -> None:
        received.append(env)
        await subscription.cancel()

    subscription = await bus.subscribe("identity.revocation.*", once)
    await bus.publish("identity.revocation.created", {})
    await asyncio.wait_for(bus.drain(), timeout=5)
    await bus.publish("identity.revocation.created", {})
    await asyncio.wait_for(bus.drain(), timeout=5)

    assert len(received) == 1


async def test_each_handler_gets_its_own_copy_of_the_payload(bus: InProcBus) -> None:
    seen: list[dict[str, object]] = []

    async def vandal(env: Envelope) -> None:
        env.payload["ids"].append("vandalized")

    async def reader(env: Envelope) -> None:
        seen.append(dict(env.payload))

    await bus.subscribe("compute.instance.*", vandal)
    await bus.subscribe("compute.instance.*", reader)
    payload = {"ids": ["a"]}
    await bus.publish("compute.instance.build", payload)
    await asyncio.wait_for(bus.drain(), timeout=5)

    assert seen == [{"ids": ["a"]}]
    assert payload == {"ids": ["a"]}


async def test_a_queue_delivers_everything_its_patterns_bind(bus: InProcBus) -> None:
    topics: list[str] = []
    await bus.declare("compute.volume.*", queue="compute.host1")
    await bus.consume("compute.instance.*", lambda env: _record(topics, env), queue="compute.host1")

    await bus.publish("compute.volume.attach", {})
    await bus.publish("compute.instance.build", {})
    await bus.publish("network.port.create", {})
    await asyncio.wait_for(bus.drain(), timeout=5)

    assert sorted(topics) == ["compute.instance.build", "compute.volume.attach"]


async def test_publish_takes_the_current_request_id_unless_given_one(bus: InProcBus) -> None:
    token = request_id_var.set("req-ambient")
    try:
        implicit = await bus.publish("compute.instance.build", {})
        explicit = await bus.publish("compute.instance.build", {}, request_id="req-given")
    finally:
        request_id_var.reset(token)
    outside = await bus.publish("compute.instance.build", {})

    assert (implicit.request_id, explicit.request_id) == ("req-ambient", "req-given")
    assert outside.request_id is None


async def test_handlers_do_not_inherit_the_publishers_context(bus: InProcBus) -> None:
    seen: list[str] = []

    async def look(env: Envelope) -> None:
        seen.append(_PUBLISHER_ONLY.get())

    await bus.subscribe("compute.instance.*", look)
    token = _PUBLISHER_ONLY.set("publisher's transaction")
    try:
        await bus.publish("compute.instance.build", {})
    finally:
        _PUBLISHER_ONLY.reset(token)
    await asyncio.wait_for(bus.drain(), timeout=5)

    assert seen == ["unset"]


_PUBLISHER_ONLY: contextvars.ContextVar[str] = contextvars.ContextVar("publisher", default="unset")


async def test_publish_with_a_non_json_payload_fails_at_the_caller(bus: InProcBus) -> None:
    with pytest.raises(TypeError):
        await bus.publish("compute.instance.build", {"when": object()})


async def test_bus_must_be_started_and_not_closed() -> None:
    bus = InProcBus()
    with pytest.raises(BusError):
        await bus.publish("compute.instance.build", {})
    async with bus:
        await bus.publish("compute.instance.build", {})
    with pytest.raises(BusError):
        await bus.subscribe("compute.#", lambda env: _record([], env))
    with pytest.raises(BusError):
        await bus.start()


def test_make_bus_chooses_the_implementation_by_url() -> None:
    assert isinstance(make_bus("inproc://"), InProcBus)
    assert isinstance(make_bus("memory://"), InProcBus)
    amqp = make_bus("amqp://guest:secret@rabbit:5672/nubo", OPTIONS)
    assert isinstance(amqp, AmqpBus) and amqp.options == OPTIONS
    assert "secret" not in amqp.where
    with pytest.raises(ValueError, match="unsupported bus URL"):
        make_bus("kafka://broker")


def test_retry_delay_doubles_up_to_its_cap() -> None:
    options = BusOptions(retry_delay=0.5, max_retry_delay=3.0)

    assert [options.retry_after(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_nonsense_options_are_refused() -> None:
    with pytest.raises(ValueError):
        BusOptions(prefetch=0)
    with pytest.raises(ValueError):
        BusOptions(max_attempts=0)
