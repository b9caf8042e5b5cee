"""What only the RabbitMQ bus can show: several processes, restarts, the broker's queues."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from nubo.core.bus import Bus, BusError, BusOptions
from nubo.core.bus.amqp import ATTEMPTS_HEADER, DEAD_LETTER_QUEUE, AmqpBus

from .conftest import FAST, rabbitmqctl
from .inbox import Flaky, Gate, Inbox

StartBus = Callable[..., Awaitable[Bus]]


@pytest.fixture
async def start_bus(rabbit_url: str) -> AsyncIterator[StartBus]:
    """Start AmqpBus instances on the test vhost, standing in for separate processes."""
    buses: list[Bus] = []

    async def start(options: BusOptions = FAST, query: str = "") -> Bus:
        bus = AmqpBus(rabbit_url + query, options)
        await bus.start()
        buses.append(bus)
        return bus

    yield start
    for bus in buses:
        await bus.close()


async def dead_letters(rabbit_url: str, message_id: str) -> list[AbstractIncomingMessage]:
    """The dead-letter queue's messages for ``message_id`` (others are left in place)."""
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(DEAD_LETTER_QUEUE, durable=True)
        found = []
        while (message := await queue.get(fail=False)) is not None:
            if message.message_id == message_id:
                await message.ack()
                found.append(message)
        return found


@pytest.mark.rabbitmq
async def test_fanout_reaches_subscribers_in_every_process(start_bus: StartBus, ns: str) -> None:
    publisher, first, second = await start_bus(), await start_bus(), await start_bus()
    inboxes = Inbox(), Inbox()
    await first.subscribe(f"{ns}.revocation.*", inboxes[0])
    await second.subscribe(f"{ns}.revocation.*", inboxes[1])

    await publisher.publish(f"{ns}.revocation.created", {"token": "abc"})

    for inbox in inboxes:
        assert [e.payload for e in await inbox.wait_for(1)] == [{"token": "abc"}]


@pytest.mark.rabbitmq
async def test_confirmed_message_waits_for_a_restarted_consumer(
    start_bus: StartBus, ns: str
) -> None:
    consumer = await start_bus()
    await consumer.consume(f"{ns}.instance.*", Inbox(), queue=f"{ns}.host1")
    await consumer.close()

    publisher = await start_bus()
    sent = await publisher.publish(f"{ns}.instance.build", {"id": "vm-1"})
    successor, inbox = await start_bus(), Inbox()
    await successor.consume(f"{ns}.instance.*", inbox, queue=f"{ns}.host1")

    assert [e.message_id for e in await inbox.wait_for(1)] == [sent.message_id]


@pytest.mark.rabbitmq
async def test_message_being_handled_when_consumer_stops_goes_to_the_next(
    start_bus: StartBus, ns: str
) -> None:
    impatient = dataclasses.replace(FAST, drain_timeout=0.1)
    consumer, stuck = await start_bus(impatient), Gate()  # the gate never opens
    await consumer.consume(f"{ns}.instance.*", stuck, queue=f"{ns}.host2")
    publisher = await start_bus()
    sent = await publisher.publish(f"{ns}.instance.build", {"id": "vm-2"})
    await stuck.wait_for(1)

    await consumer.close()  # gives up on the handler: the message was never acked
    successor, inbox = await start_bus(), Inbox()
    await successor.consume(f"{ns}.instance.*", inbox, queue=f"{ns}.host2")

    assert [e.message_id for e in await inbox.wait_for(1)] == [sent.message_id]
    assert stuck.finished.received == []


@pytest.mark.rabbitmq
async def test_exhausted_message_lands_in_the_dead_letter_queue(
    start_bus: StartBus, rabbit_url: str, ns: str
) -> None:
    bus, doomed = await start_bus(), Flaky(failures=100)
    await bus.consume(f"{ns}.instance.build", doomed, queue=f"{ns}.doomed")

    sent = await bus.publish(f"{ns}.instance.build", {"id": "vm-3"}, request_id="req-9")
    await doomed.tries.wait_for(FAST.max_attempts)
    await asyncio.sleep(0.3)

    [letter] = await dead_letters(rabbit_url, sent.message_id)
    assert letter.headers["x-nubo-queue"] == f"{ns}.doomed"
    assert letter.headers[ATTEMPTS_HEADER] == FAST.max_attempts
    assert "induced failure" in str(letter.headers["x-nubo-error"])
    assert letter.body == sent.to_json()
    assert doomed.attempts == {sent.message_id: FAST.max_attempts}


@pytest.mark.rabbitmq
async def test_malformed_message_is_dead_lettered_without_calling_the_handler(
    start_bus: StartBus, rabbit_url: str, ns: str
) -> None:
    bus, inbox = await start_bus(), Inbox()
    await bus.consume(f"{ns}.instance.*", inbox, queue=f"{ns}.strict")

    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange("nubo")
        garbage = aio_pika.Message(b"not json", message_id="garbage-" + ns)
        await exchange.publish(garbage, routing_key=f"{ns}.instance.build")
    await asyncio.sleep(0.3)

    [letter] = await dead_letters(rabbit_url, "garbage-" + ns)
    assert "malformed envelope" in str(letter.headers["x-nubo-error"])
    assert inbox.received == []


@pytest.mark.rabbitmq
async def test_bus_recovers_after_the_broker_drops_its_connection(
    start_bus: StartBus, rabbit_vhost: str, ns: str
) -> None:
    bus = await start_bus(FAST, "?reconnect_interval=0.2")
    work, fanout = Inbox(), Inbox()
    await bus.consume(f"{ns}.instance.*", work, queue=f"{ns}.host3")
    await bus.subscribe(f"{ns}.revocation.*", fanout)

    await asyncio.to_thread(
        rabbitmqctl, "close_all_connections", "-p", rabbit_vhost, "nubo test: connection loss"
    )
    await bus.publish(f"{ns}.instance.build", {"id": "after-loss"})  # retried until reconnected

    assert [e.payload for e in await work.wait_for(1, within=10)] == [{"id": "after-loss"}]
    # The fanout queue is re-created on reconnect; what was published in between is gone.
    for _ in range(50):
        await bus.publish(f"{ns}.revocation.created", {})
        with contextlib.suppress(TimeoutError):
            await fanout.wait_for(1, within=0.2)
            break
    assert fanout.received


async def test_unreachable_broker_fails_start_without_leaking_the_password() -> None:
    bus = AmqpBus("amqp://guest:s3cret@127.0.0.1:1/nubo", FAST)

    with pytest.raises(BusError) as failure:
        await bus.start()

    assert "127.0.0.1:1" in str(failure.value)
    assert "s3cret" not in str(failure.value)
    with pytest.raises(BusError):
        await bus.publish("compute.instance.build", {})
