"""The RabbitMQ bus (aio-pika): the controller and host shapes.

Layout on the broker:

- ``nubo``: durable topic exchange; every message is published there, persistent, with
  publisher confirms, routing key = topic.
- work queues: durable, named by the caller, bound to their patterns.
- subscriptions: ``nubo.bus.sub.<hex>``, exclusive and auto-delete, one per subscriber.
- ``nubo.bus.retry.<ms>ms``: one fanout exchange and queue per backoff delay. A failed
  message is republished there with routing key = its queue's name and header
  ``x-nubo-attempts`` = the next attempt number; the queue's TTL expires it into the
  default exchange, which routes it straight back to its queue (and only that queue).
- ``nubo.bus.dead-letter``: durable queue of messages that failed ``max_attempts`` times,
  with headers naming the queue, the attempts and the last error.

The connection is robust: after a connection loss aio-pika reconnects and restores
channels, queues, bindings and consumers. Messages published to a fanout subscriber
while it was disconnected are lost (its queue is exclusive); work queues keep theirs.
Each subscription has its own channel, so the prefetch count bounds its handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.exceptions import AMQPError, ChannelInvalidStateError
from yarl import URL

from nubo.core.bus.base import (
    EXCHANGE,
    Bus,
    BusError,
    BusOptions,
    DeadLetter,
    Envelope,
    Handler,
    Subscription,
    call_handler,
    finish_tasks,
    log,
    log_dead_letter,
    log_failure,
)

ATTEMPTS_HEADER = "x-nubo-attempts"
DEAD_LETTER_QUEUE = "nubo.bus.dead-letter"
# A channel closed under us by a lost connection is a broker error too (a RuntimeError).
_BROKER_ERRORS = (AMQPError, ChannelInvalidStateError, OSError, TimeoutError)
_STEP_TIMEOUT = 5.0
"""Bound on one teardown step, so a broker that stopped answering cannot hang close()."""


def retry_tier(delay: float) -> tuple[str, int]:
    """The name of the retry exchange and queue for ``delay`` seconds, and its TTL in ms."""
    ms = max(1, round(delay * 1000))
    return f"nubo.bus.retry.{ms}ms", ms


def _attempt(message: AbstractIncomingMessage) -> int:
    value = message.headers.get(ATTEMPTS_HEADER)
    return value if isinstance(value, int) and value >= 1 else 1


def _persistent(body: bytes, message_id: str | None, headers: dict[str, Any]) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message_id,
        headers=headers,
    )


@contextlib.asynccontextmanager
async def _translated(what: str) -> AsyncIterator[None]:
    """Turn broker and socket errors into ``BusError``."""
    try:
        yield
    except _BROKER_ERRORS as exc:
        raise BusError(f"RabbitMQ: {what} failed: {exc!r}") from exc


class _AmqpSubscription(Subscription):
    """One consumer on its own channel; each delivery is handled in its own task."""

    def __init__(
        self, bus: AmqpBus, pattern: str, handler: Handler, channel: AbstractChannel
    ) -> None:
        super().__init__(pattern, "")
        self.bus = bus
        self.handler = handler
        self.channel = channel
        self.tasks: set[asyncio.Task[None]] = set()
        self._source: AbstractQueue | None = None
        self._tag: str | None = None
        self._stopping = False

    async def start(self, queue: AbstractQueue) -> None:
        self._source, self.queue = queue, queue.name
        self._tag = await queue.consume(self._on_message)

    async def cancel(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self.bus._subscriptions.discard(self)
        if self._source is not None and self._tag is not None:
            await _quietly(self._source.cancel(self._tag), "cancel consumer")
        await finish_tasks(self.tasks, self.bus.options.drain_timeout)
        await _quietly(self.channel.close(), "close channel")  # requeues what is unacked

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if self._stopping:
            return  # not acknowledged: requeued when the channel closes
        task = asyncio.create_task(self._handle(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        attempt = _attempt(message)
        try:
            env = Envelope.from_json(message.body)
        except ValueError as exc:
            await self._give_up(message, attempt, f"malformed envelope: {exc}")
            return
        try:
            await call_handler(self.handler, env)
        except Exception as exc:
            log_failure(self.queue, env, attempt, exc)
            await self._retry(message, attempt, exc)
            return
        await _quietly(message.ack(), "ack")

    async def _retry(self, message: AbstractIncomingMessage, attempt: int, exc: Exception) -> None:
        if attempt >= self.bus.options.max_attempts:
            await self._give_up(message, attempt, repr(exc))
            return
        try:
            await self.bus._republish_later(self.queue, message, attempt)
        except BusError as error:
            log.error("bus: could not schedule a retry on %s, requeueing: %s", self.queue, error)
            await _quietly(message.nack(requeue=True), "nack")
            return
        await _quietly(message.ack(), "ack")

    async def _give_up(self, message: AbstractIncomingMessage, attempt: int, error: str) -> None:
        letter = DeadLetter(self.queue, message.body, attempt, error)
        try:
            await self.bus._dead_letter(letter, message.message_id)
        except BusError as exc:
            log.error("bus: could not dead-letter from %s, requeueing: %s", self.queue, exc)
            await _quietly(message.nack(requeue=True), "nack")
            return
        log_dead_letter(letter)
        await _quietly(message.ack(), "ack")


async def _quietly(step: Awaitable[object], what: str) -> None:
    """Run a settle/teardown step whose failure only means the broker will redeliver."""
    try:
        await asyncio.wait_for(step, _STEP_TIMEOUT)
    except _BROKER_ERRORS as exc:
        log.warning("bus: %s failed (the broker will redeliver if needed): %r", what, exc)


class AmqpBus(Bus):
    """The bus over RabbitMQ at ``url`` (``amqp://user:password@host:port/vhost``)."""

    def __init__(self, url: str, options: BusOptions | None = None) -> None:
        super().__init__(options)
        self.url = url
        self._subscriptions: set[_AmqpSubscription] = set()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._closing = False

    @property
    def where(self) -> str:
        """The broker URL without its password, for messages and logs."""
        return str(URL(self.url).with_password(None))

    async def start(self) -> None:
        if self._closing:
            raise BusError(f"the bus to {self.where} is closed")
        if self._connection is not None:
            return
        try:
            async with _translated(f"connecting to {self.where}"):
                self._connection = await aio_pika.connect_robust(self.url)
                self._channel = await self._connection.channel(publisher_confirms=True)
                self._exchange = await self._channel.declare_exchange(
                    EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
                )
                await self._channel.declare_queue(DEAD_LETTER_QUEUE, durable=True)
                for attempt in range(1, self.options.max_attempts):
                    await self._declare_retry_tier(self._channel, attempt)
        except BusError:
            await self._disconnect()
            raise

    async def close(self) -> None:
        self._closing = True
        await asyncio.gather(*(s.cancel() for s in list(self._subscriptions)))
        await self._disconnect()

    async def _disconnect(self) -> None:
        if self._connection is not None:
            await _quietly(self._connection.close(), "close connection")
        self._connection = self._channel = self._exchange = None

    async def _declare_retry_tier(self, channel: AbstractChannel, attempt: int) -> None:
        name, ms = retry_tier(self.options.retry_after(attempt))
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.FANOUT, durable=True)
        queue = await channel.declare_queue(
            name, durable=True, arguments={"x-message-ttl": ms, "x-dead-letter-exchange": ""}
        )
        await queue.bind(exchange)

    async def _send(self, env: Envelope, body: bytes) -> None:
        message = _persistent(body, env.message_id, {})
        await self._publish(self._running()[1], env.topic, message)

    async def _republish_later(
        self, queue: str, message: AbstractIncomingMessage, attempt: int
    ) -> None:
        """Send ``message`` back to ``queue`` after the backoff for failed ``attempt``."""
        channel, _ = self._running()
        tier, _ = retry_tier(self.options.retry_after(attempt))
        exchange = await channel.get_exchange(tier, ensure=False)
        again = _persistent(message.body, message.message_id, {ATTEMPTS_HEADER: attempt + 1})
        await self._publish(exchange, queue, again)

    async def _dead_letter(self, letter: DeadLetter, message_id: str | None) -> None:
        channel, _ = self._running()
        headers: dict[str, Any] = {
            "x-nubo-queue": letter.queue,
            ATTEMPTS_HEADER: letter.attempts,
            "x-nubo-error": letter.error[:1000],
        }
        message = _persistent(letter.body, message_id, headers)
        await self._publish(channel.default_exchange, DEAD_LETTER_QUEUE, message)

    async def _publish(
        self, exchange: AbstractExchange, routing_key: str, message: aio_pika.Message
    ) -> None:
        """Publish with confirms, retrying through reconnects for ``publish_timeout``."""
        try:
            async with asyncio.timeout(self.options.publish_timeout):
                await self._publish_until_confirmed(exchange, routing_key, message)
        except TimeoutError as exc:
            raise BusError(
                f"RabbitMQ at {self.where} did not confirm a message for {routing_key} "
                f"within {self.options.publish_timeout}s"
            ) from exc

    async def _publish_until_confirmed(
        self, exchange: AbstractExchange, routing_key: str, message: aio_pika.Message
    ) -> None:
        pause = 0.05
        while True:
            try:
                await exchange.publish(message, routing_key, mandatory=False)
                return
            except _BROKER_ERRORS as exc:
                if self._closing:
                    raise BusError(f"the bus to {self.where} is closing") from exc
                log.warning("bus: publish to %s failed, retrying: %r", routing_key, exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _running(self) -> tuple[AbstractChannel, AbstractExchange]:
        if self._channel is None or self._exchange is None:
            raise BusError(f"the bus to {self.where} is not running (call start() first)")
        return self._channel, self._exchange

    async def _declare(self, pattern: str, queue: str) -> None:
        connection = self._connection_or_fail()
        async with _translated(f"declaring queue {queue}"):
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, durable=True)
                await declared.bind(EXCHANGE, routing_key=pattern)
            finally:
                await _quietly(channel.close(), "close channel")

    async def _consume(self, pattern: str, handler: Handler, queue: str) -> Subscription:
        return await self._start_subscription(pattern, handler, queue)

    async def _subscribe(self, pattern: str, handler: Handler) -> Subscription:
        return await self._start_subscription(pattern, handler, None)

    async def _start_subscription(
        self, pattern: str, handler: Handler, queue: str | None
    ) -> Subscription:
        """A channel, a queue (durable and named, or exclusive), its binding, a consumer."""
        connection = self._connection_or_fail()
        async with _translated(f"subscribing to {pattern}"):
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.options.prefetch)
            subscription = _AmqpSubscription(self, pattern, handler, channel)
            try:
                declared = await self._declare_for(channel, queue)
                await declared.bind(EXCHANGE, routing_key=pattern)
                await subscription.start(declared)
            except BaseException:
                await _quietly(channel.close(), "close channel")
                raise
        self._subscriptions.add(subscription)
        return subscription

    @staticmethod
    async def _declare_for(channel: AbstractChannel, queue: str | None) -> AbstractQueue:
        if queue is not None:
            return await channel.declare_queue(queue, durable=True)
        name = f"nubo.bus.sub.{uuid.uuid4().hex}"
        return await channel.declare_queue(name, exclusive=True, auto_delete=True)

    def _connection_or_fail(self) -> AbstractRobustConnection:
        if self._connection is None or self._closing:
            raise BusError(f"the bus to {self.where} is not running (call start() first)")
        return self._connection
