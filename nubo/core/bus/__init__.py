"""The message bus: one interface, an in-process and a RabbitMQ implementation.

    bus = make_bus("inproc://")          # or "amqp://guest:guest@127.0.0.1:5672/nubo"
    async with bus:
        await bus.subscribe("identity.revocation.*", on_revocation)
        await bus.consume("compute.instance.*", on_instance, queue="compute.host1")
        await bus.publish("compute.instance.build", {"id": server_id}, request_id=rid)

See ``base`` for the delivery semantics both implementations share.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from nubo.core.bus.base import (
    Bus,
    BusError,
    BusOptions,
    DeadLetter,
    Envelope,
    Handler,
    Subscription,
    check_pattern,
    check_topic,
    topic_matches,
)
from nubo.core.bus.inproc import InProcBus

__all__ = [
    "Bus",
    "BusError",
    "BusOptions",
    "DeadLetter",
    "Envelope",
    "Handler",
    "InProcBus",
    "Subscription",
    "check_pattern",
    "check_topic",
    "make_bus",
    "topic_matches",
]

_INPROC_SCHEMES = frozenset({"inproc", "memory"})
_AMQP_SCHEMES = frozenset({"amqp", "amqps"})


def make_bus(url: str, options: BusOptions | None = None) -> Bus:
    """The bus for ``url``: ``inproc://`` / ``memory://``, or ``amqp(s)://…`` (RabbitMQ)."""
    scheme = urlsplit(url).scheme
    if scheme in _INPROC_SCHEMES:
        return InProcBus(options)
    if scheme in _AMQP_SCHEMES:
        from nubo.core.bus.amqp import AmqpBus  # aio-pika is only loaded when needed

        return AmqpBus(url, options)
    raise ValueError(f"unsupported bus URL {url!r}: expected inproc:// or amqp://")
