"""The message bus contract: envelopes, topic patterns, subscriptions, the Bus interface.

Topics are ``<service>.<noun>.<verb>`` (``compute.instance.build``); patterns use AMQP
topic syntax: ``*`` stands for exactly one word, ``#`` for zero or more words.

Delivery is at least once. A message is acknowledged only after its handler returned;
a handler that raises gets the message again after a growing delay, up to
``BusOptions.max_attempts`` deliveries, after which the message is dead-lettered and an
error is logged. Handlers must therefore be idempotent. Retries count only handler
failures: a message whose handler kills the process is redelivered by the broker
without its count going up.

``publish`` returns once the bus holds the message (RabbitMQ: confirmed, persistent); it
never waits for handlers. A message that matches no queue and no subscriber is dropped,
as an AMQP topic exchange does.

Two kinds of subscription:

- ``consume(pattern, handler, queue=name)``: a named, durable work queue. Consumers on
  the same queue name compete; each message goes to one of them. The queue keeps
  messages while no consumer is attached, from the moment it is first declared
  (``declare`` or ``consume``). A queue's bindings are the union of every pattern it
  was declared with, so give each pattern its own queue name.
- ``subscribe(pattern, handler)``: fanout; every subscriber receives every matching
  message published while it is subscribed.

Each subscription runs up to ``BusOptions.prefetch`` handlers at once, each in its own
task. ``Subscription.cancel`` and ``Bus.close`` stop new deliveries, then wait up to
``drain_timeout`` for running handlers; a handler still running is cancelled and its
message, never acknowledged, goes back to its queue.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import orjson

from nubo.core.errors import ServiceUnavailable
from nubo.core.ids import new_uuid
from nubo.core.log import request_id_var

log = logging.getLogger("nubo.bus")

EXCHANGE = "nubo"
"""The one topic exchange every message is published to (RabbitMQ)."""

RESERVED_QUEUE_PREFIXES = ("amq.", "nubo.bus.")
"""Queue names the bus keeps for itself (subscriptions, retry tiers, dead letters)."""

_MAX_NAME_BYTES = 255
_WORD = re.compile(r"[A-Za-z0-9_-]+")
_T = TypeVar("_T")


class BusError(ServiceUnavailable):
    """The bus cannot take or deliver messages right now (broker down, bus closed)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message as it travels on the bus; serialized as a JSON object."""

    message_id: str
    topic: str
    payload: Mapping[str, Any]
    request_id: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def new(
        cls,
        topic: str,
        payload: Mapping[str, Any],
        *,
        request_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Envelope:
        """A fresh envelope with a new message id, stamped now."""
        return cls(
            message_id=new_uuid(),
            topic=check_topic(topic),
            payload=dict(payload),
            request_id=request_id,
            context=dict(context or {}),
        )

    def to_json(self) -> bytes:
        """Serialize; raises ``TypeError`` if payload or context is not JSON-able."""
        return orjson.dumps(
            {
                "message_id": self.message_id,
                "topic": self.topic,
                "payload": self.payload,
                "request_id": self.request_id,
                "context": self.context,
                "timestamp": self.timestamp.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> Envelope:
        """Parse and check an envelope; raises ``ValueError`` if it is malformed."""
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"envelope is not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ValueError("envelope is not a JSON object")
        return cls(
            message_id=_field(doc, "message_id", str),
            topic=check_topic(_field(doc, "topic", str)),
            payload=_field(doc, "payload", dict),
            request_id=_optional_str(doc, "request_id"),
            context=_field(doc, "context", dict),
            timestamp=_parse_timestamp(_field(doc, "timestamp", str)),
        )


def _field(doc: dict[str, Any], name: str, kind: type[_T]) -> _T:
    value = doc.get(name)
    if not isinstance(value, kind):
        raise ValueError(f"envelope field {name!r} must be a {kind.__name__}")
    return value


def _optional_str(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"envelope field {name!r} must be a string or null")
    return value


def _parse_timestamp(text: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"envelope timestamp {text!r} is not ISO 8601") from None
    if stamp.tzinfo is None:
        raise ValueError(f"envelope timestamp {text!r} has no time zone")
    return stamp.astimezone(UTC)


Handler = Callable[[Envelope], Awaitable[None]]
"""``async def handler(env: Envelope) -> None``; raising means "deliver again later"."""


async def call_handler(handler: Handler, env: Envelope) -> None:
    """Run ``handler`` in the caller's task with the message's request id as the current
    one, so its log lines and the messages it publishes carry it on."""
    request_id_var.set(env.request_id or "")
    await handler(env)


def check_topic(topic: str) -> str:
    """Return ``topic`` if it is dot-separated words of letters, digits, ``_`` and ``-``."""
    if not _fits(topic) or not all(_WORD.fullmatch(w) for w in topic.split(".")):
        raise ValueError(f"invalid topic {topic!r}: expected words like 'compute.instance.build'")
    return topic


def check_pattern(pattern: str) -> str:
    """Return ``pattern`` if it is a valid topic pattern (words, ``*`` or ``#``)."""
    words = pattern.split(".")
    if not _fits(pattern) or not all(w in ("*", "#") or _WORD.fullmatch(w) for w in words):
        raise ValueError(f"invalid topic pattern {pattern!r}: expected words, '*' or '#'")
    return pattern


def check_queue(name: str) -> str:
    """Return ``name`` if it can name a work queue."""
    if not name or not _fits(name) or name.startswith(RESERVED_QUEUE_PREFIXES):
        raise ValueError(f"invalid queue name {name!r}: empty, too long or reserved")
    return name


def _fits(name: str) -> bool:
    return 0 < len(name.encode()) <= _MAX_NAME_BYTES


def topic_matches(pattern: str, topic: str) -> bool:
    """True if ``topic`` matches the AMQP topic ``pattern``."""
    return _compile(pattern).fullmatch("." + topic) is not None


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    # Every word is matched with its leading dot, so "#" can match zero words.
    parts = {"*": r"\.[^.]+", "#": r"(?:\.[^.]+)*"}
    words = check_pattern(pattern).split(".")
    return re.compile("".join(parts.get(w, r"\." + re.escape(w)) for w in words))


@dataclass(frozen=True, slots=True)
class BusOptions:
    """Delivery tuning shared by both implementations."""

    prefetch: int = 16
    """Most messages a subscription handles at once."""
    max_attempts: int = 5
    """Deliveries of one message (first included) before it is dead-lettered."""
    retry_delay: float = 0.5
    """Delay before the second delivery; doubles for each further one."""
    max_retry_delay: float = 30.0
    """Longest delay between two deliveries."""
    drain_timeout: float = 30.0
    """How long cancel/close wait for running handlers before cancelling them."""
    publish_timeout: float = 15.0
    """How long publish keeps trying through a lost connection (RabbitMQ)."""

    def __post_init__(self) -> None:
        if self.prefetch < 1 or self.max_attempts < 1:
            raise ValueError("prefetch and max_attempts must be at least 1")

    def retry_after(self, attempt: int) -> float:
        """Seconds to wait after failed delivery number ``attempt`` (1-based)."""
        return float(min(self.retry_delay * 2 ** (attempt - 1), self.max_retry_delay))


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message given up on after ``attempts`` failed deliveries."""

    queue: str
    body: bytes
    attempts: int
    error: str


def log_dead_letter(letter: DeadLetter) -> None:
    log.error(
        "bus: dead-lettered message from queue %s after %d attempts: %s; body=%s",
        letter.queue,
        letter.attempts,
        letter.error,
        letter.body[:2000].decode(errors="replace"),
    )


def log_failure(queue: str, env: Envelope, attempt: int, exc: BaseException) -> None:
    log.warning(
        "bus: handler on queue %s failed for %s (message %s, attempt %d): %r",
        queue,
        env.topic,
        env.message_id,
        attempt,
        exc,
        exc_info=exc,
        extra={"request_id": env.request_id},
    )


async def finish_tasks(tasks: set[asyncio.Task[None]], grace: float) -> None:
    """Wait up to ``grace`` seconds for ``tasks`` (not the caller's own), then cancel them."""
    waiting = tasks - {asyncio.current_task()}
    if not waiting:
        return
    _, late = await asyncio.wait(waiting, timeout=grace)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)


class Subscription(abc.ABC):
    """A running consumer; ``cancel`` stops it after its running handlers finish."""

    def __init__(self, pattern: str, queue: str) -> None:
        self.pattern = pattern
        self.queue = queue

    @abc.abstractmethod
    async def cancel(self) -> None:
        """Stop receiving; wait up to ``drain_timeout`` for running handlers."""


class Bus(abc.ABC):
    """Publish envelopes by topic; consume them from work queues or fanout."""

    def __init__(self, options: BusOptions | None = None) -> None:
        self.options = options or BusOptions()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect; must be awaited before anything else."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Cancel every subscription (draining running handlers) and disconnect."""

    async def publish(
        self,
        topic: str,
        payload: Mapping[str, Any],
        *,
        request_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Envelope:
        """Send a message; returns once the bus has taken responsibility for it.

        ``request_id`` defaults to the current one (``nubo.core.log.request_id_var``).
        """
        request_id = request_id or request_id_var.get() or None
        env = Envelope.new(topic, payload, request_id=request_id, context=context)
        await self._send(env, env.to_json())
        return env

    async def declare(self, pattern: str, *, queue: str) -> None:
        """Create work queue ``queue`` bound to ``pattern`` without consuming from it."""
        await self._declare(check_pattern(pattern), check_queue(queue))

    async def consume(self, pattern: str, handler: Handler, *, queue: str) -> Subscription:
        """Take messages matching ``pattern`` from the shared work queue ``queue``."""
        return await self._consume(check_pattern(pattern), handler, check_queue(queue))

    async def subscribe(self, pattern: str, handler: Handler) -> Subscription:
        """Receive every message matching ``pattern`` (fanout)."""
        return await self._subscribe(check_pattern(pattern), handler)

    @abc.abstractmethod
    async def _send(self, env: Envelope, body: bytes) -> None: ...

    @abc.abstractmethod
    async def _declare(self, pattern: str, queue: str) -> None: ...

    @abc.abstractmethod
    async def _consume(self, pattern: str, handler: Handler, queue: str) -> Subscription: ...

    @abc.abstractmethod
    async def _subscribe(self, pattern: str, handler: Handler) -> Subscription: ...
