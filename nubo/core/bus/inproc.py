"""The in-process bus of the all-in-one shape: queues in memory, RabbitMQ's semantics.

Every message is serialized at publish and parsed again for each delivery, so handlers
never share objects with the publisher and a payload that would not cross RabbitMQ
fails here too. Handlers run as tasks; ``publish`` never waits for them. Messages live
only as long as the bus: what is still queued when it closes is logged and lost.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import uuid
from collections import deque
from dataclasses import dataclass

from nubo.core.bus.base import (
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
    topic_matches,
)

_DEAD_LETTERS_KEPT = 1000
_ROUTES_KEPT = 4096


@dataclass(frozen=True, slots=True)
class _Message:
    body: bytes
    attempt: int = 1


class _Queue:
    """A queue with its bindings, waiting messages and competing consumers."""

    def __init__(self, name: str, *, fanout: bool) -> None:
        self.name = name
        self.fanout = fanout
        self.deleted = False
        self.patterns: set[str] = set()
        self.messages: deque[_Message] = deque()
        self.consumers: list[_Consumer] = []
        self.in_flight = 0
        self._turn = 0

    def matches(self, topic: str) -> bool:
        return any(topic_matches(p, topic) for p in self.patterns)

    def next_consumer(self, prefetch: int) -> _Consumer | None:
        """The next consumer, round robin, that has room for another message."""
        count = len(self.consumers)
        for step in range(count):
            consumer = self.consumers[(self._turn + step) % count]
            if len(consumer.tasks) < prefetch:
                self._turn = (self._turn + step + 1) % count
                return consumer
        return None

    def idle(self) -> bool:
        """Nothing running, and nothing waiting that a consumer could take."""
        return self.in_flight == 0 and not (self.messages and self.consumers)


class _Consumer(Subscription):
    def __init__(self, bus: InProcBus, queue: _Queue, pattern: str, handler: Handler) -> None:
        super().__init__(pattern, queue.name)
        self.bus = bus
        self.source = queue
        self.handler = handler
        self.tasks: set[asyncio.Task[None]] = set()

    async def cancel(self) -> None:
        await self.bus._cancel(self)


class InProcBus(Bus):
    """The bus for one process; ``drain()`` waits until there is nothing left to do."""

    def __init__(self, options: BusOptions | None = None) -> None:
        super().__init__(options)
        self.dead_letters: deque[DeadLetter] = deque(maxlen=_DEAD_LETTERS_KEPT)
        self._queues: dict[str, _Queue] = {}
        # topic -> the queues bound to it, worked out once per topic until the
        # bindings change (topics repeat; matching every pattern is not free)
        self._routes: dict[str, list[_Queue]] = {}
        self._timers: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._started = False
        self._closed = False

    async def start(self) -> None:
        if self._closed:
            raise BusError("the in-process bus is closed")
        self._started = True

    async def close(self) -> None:
        consumers = [c for q in self._queues.values() for c in q.consumers]
        await asyncio.gather(*(c.cancel() for c in consumers))
        for timer in self._timers:
            timer.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
        self._closed = True
        lost = sum(len(q.messages) for q in self._queues.values())
        if lost:
            log.warning("bus: in-process bus closed with %d messages undelivered", lost)

    async def drain(self) -> None:
        """Wait until every message that has a consumer has been handled or dead-lettered.

        Redeliveries waiting out their backoff count as not handled yet; messages in a
        queue without consumers are left alone.
        """
        while not self._idle():
            self._changed.clear()
            await self._changed.wait()

    async def _send(self, env: Envelope, body: bytes) -> None:
        self._check_open()
        routes = self._routes.get(env.topic)
        if routes is None:
            if len(self._routes) >= _ROUTES_KEPT:
                self._routes.clear()
            routes = self._routes[env.topic] = [q for q in self._queues.values()
                                                if q.matches(env.topic)]
        for queue in routes:
            queue.messages.append(_Message(body))
            self._dispatch(queue)
        self._changed.set()

    async def _declare(self, pattern: str, queue: str) -> None:
        self._work_queue(pattern, queue)

    async def _consume(self, pattern: str, handler: Handler, queue: str) -> Subscription:
        return self._attach(self._work_queue(pattern, queue), pattern, handler)

    async def _subscribe(self, pattern: str, handler: Handler) -> Subscription:
        self._check_open()
        queue = _Queue(f"nubo.bus.sub.{uuid.uuid4().hex}", fanout=True)
        queue.patterns.add(pattern)
        self._queues[queue.name] = queue
        self._routes.clear()
        return self._attach(queue, pattern, handler)

    def _check_open(self) -> None:
        if not self._started or self._closed:
            raise BusError("the in-process bus is not running (call start() first)")

    def _work_queue(self, pattern: str, name: str) -> _Queue:
        self._check_open()
        queue = self._queues.setdefault(name, _Queue(name, fanout=False))
        if pattern not in queue.patterns:
            queue.patterns.add(pattern)
            self._routes.clear()
        return queue

    def _attach(self, queue: _Queue, pattern: str, handler: Handler) -> _Consumer:
        consumer = _Consumer(self, queue, pattern, handler)
        queue.consumers.append(consumer)
        self._dispatch(queue)
        return consumer

    def _dispatch(self, queue: _Queue) -> None:
        """Hand waiting messages to consumers with room, each as its own task."""
        while queue.messages and (consumer := queue.next_consumer(self.options.prefetch)):
            message = queue.messages.popleft()
            queue.in_flight += 1
            # A fresh context, as in another process: nothing leaks from the publisher.
            delivery = self._deliver(queue, consumer, message)
            task = asyncio.create_task(delivery, context=contextvars.Context())
            consumer.tasks.add(task)
            task.add_done_callback(functools.partial(self._delivered, queue, consumer, message))

    def _delivered(
        self, queue: _Queue, consumer: _Consumer, message: _Message, task: asyncio.Task[None]
    ) -> None:
        consumer.tasks.discard(task)
        queue.in_flight -= 1
        if task.cancelled() and not queue.deleted:
            queue.messages.appendleft(message)  # never acknowledged: back to the queue
        self._dispatch(queue)
        self._changed.set()

    async def _deliver(self, queue: _Queue, consumer: _Consumer, message: _Message) -> None:
        env = Envelope.from_json(message.body)
        try:
            await call_handler(consumer.handler, env)
        except Exception as exc:
            log_failure(queue.name, env, message.attempt, exc)
            self._retry(queue, message, exc)

    def _retry(self, queue: _Queue, message: _Message, exc: Exception) -> None:
        if message.attempt >= self.options.max_attempts:
            letter = DeadLetter(queue.name, message.body, message.attempt, repr(exc))
            self.dead_letters.append(letter)
            log_dead_letter(letter)
            return
        again = _Message(message.body, message.attempt + 1)
        delay = self.options.retry_after(message.attempt)
        timer = asyncio.create_task(self._redeliver(queue, again, delay))
        self._timers.add(timer)
        timer.add_done_callback(self._timer_done)

    async def _redeliver(self, queue: _Queue, message: _Message, delay: float) -> None:
        await asyncio.sleep(delay)
        if not queue.deleted:
            queue.messages.append(message)
            self._dispatch(queue)

    def _timer_done(self, timer: asyncio.Task[None]) -> None:
        self._timers.discard(timer)
        self._changed.set()

    async def _cancel(self, consumer: _Consumer) -> None:
        queue = consumer.source
        if consumer in queue.consumers:
            queue.consumers.remove(consumer)
        await finish_tasks(consumer.tasks, self.options.drain_timeout)
        if queue.fanout:
            queue.deleted = True
            self._queues.pop(queue.name, None)
            self._routes.clear()
        self._dispatch(queue)
        self._changed.set()

    def _idle(self) -> bool:
        return not self._timers and all(q.idle() for q in self._queues.values())
