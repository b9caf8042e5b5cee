"""One fixture, two buses: every behaviour test runs on the in-process bus and on RabbitMQ.

The RabbitMQ runs get a throw-away vhost for the session (made with ``rabbitmqctl``) and
are skipped with the reason when the broker at 127.0.0.1:5672 cannot be reached.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest

from nubo.core.bus import Bus, BusOptions, InProcBus, make_bus

RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672

FAST = BusOptions(
    prefetch=8,
    max_attempts=4,
    retry_delay=0.05,
    max_retry_delay=0.2,
    drain_timeout=2.0,
    publish_timeout=5.0,
)
"""Short backoffs so redelivery tests take a fraction of a second."""


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _rabbit_unreachable() -> str | None:
    """Why RabbitMQ cannot be used for the tests, or None if it can."""
    try:
        socket.create_connection((RABBIT_HOST, RABBIT_PORT), timeout=2).close()
    except OSError as exc:
        return f"RabbitMQ not reachable at {RABBIT_HOST}:{RABBIT_PORT}: {exc}"
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl not found: cannot create a test vhost"
    return None


@pytest.fixture(scope="session")
def rabbit_vhost() -> Iterator[str]:
    reason = _rabbit_unreachable()
    if reason:
        print(reason)
        pytest.skip(reason)
    vhost = f"nubo-test-{uuid.uuid4().hex[:8]}"
    try:
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"cannot create a RabbitMQ test vhost: {exc}")
        pytest.skip(f"cannot create a RabbitMQ test vhost: {exc}")
    yield vhost
    rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def rabbit_url(rabbit_vhost: str) -> str:
    return f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/{rabbit_vhost}"


@dataclass
class Backend:
    """Makes started buses that share one broker (or, in-process, are one bus)."""

    name: str
    url: str
    _buses: list[Bus] = field(default_factory=list)

    async def bus(self, options: BusOptions = FAST) -> Bus:
        bus = make_bus(self.url, options)
        await bus.start()
        self._buses.append(bus)
        return bus

    async def settle(self, bus: Bus) -> None:
        """Let anything still on its way arrive, so tests can assert what did not."""
        if isinstance(bus, InProcBus):
            await asyncio.wait_for(bus.drain(), timeout=5)
        else:
            await asyncio.sleep(0.3)

    async def close_all(self) -> None:
        for bus in reversed(self._buses):
            await bus.close()


@pytest.fixture(params=["inproc", pytest.param("amqp", marks=pytest.mark.rabbitmq)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    url = "inproc://" if request.param == "inproc" else request.getfixturevalue("rabbit_url")
    backend = Backend(request.param, url)
    yield backend
    await backend.close_all()


@pytest.fixture
async def bus(backend: Backend) -> Bus:
    return await backend.bus()


@pytest.fixture
def ns() -> str:
    """A service name of its own per test, so topics and queues never collide."""
    return f"t{uuid.uuid4().hex[:10]}"
