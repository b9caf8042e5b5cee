"""A cloud of its own per (database, bus) variant for the compute scale tests.

Variants: sqlite and mariadb on the in-process bus, postgresql on the in-process
bus and on RabbitMQ (a throw-away vhost made with ``rabbitmqctl``). The databases
follow ``NUBO_TEST_BACKENDS``; a server that cannot be reached skips its variant
with the reason.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests import conftest as root
from tests.cloud import Cloud, free_port
from tests.databases import database

RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672
VARIANTS = [("sqlite", "inproc"), ("postgresql", "inproc"), ("postgresql", "amqp"),
            ("mariadb", "inproc")]


def variant_params() -> list[object]:
    return [pytest.param((db, bus), id=f"{db}-{bus}",
                         marks=[pytest.mark.rabbitmq] if bus == "amqp" else [])
            for db, bus in VARIANTS if db in root.SELECTED]


def _rabbitmqctl(*args: str) -> None:
    done = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")


@contextmanager
def rabbit_vhost() -> Iterator[str]:
    """An AMQP URL on a vhost of its own, deleted afterwards; RuntimeError when
    RabbitMQ cannot be used."""
    try:
        socket.create_connection((RABBIT_HOST, RABBIT_PORT), timeout=2).close()
    except OSError as e:
        raise RuntimeError(f"RabbitMQ not reachable at {RABBIT_HOST}:{RABBIT_PORT}: {e}") from e
    if shutil.which("rabbitmqctl") is None:
        raise RuntimeError("rabbitmqctl not found: cannot create a test vhost")
    vhost = f"nubo-test-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@contextmanager
def variant_cloud(db: str, bus: str, env: dict[str, str]) -> Iterator[Cloud]:
    """A started cloud on ``db`` and ``bus`` with ``env`` added; skips the test
    when a back end is not available."""
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"nubo-scale-{db}-"))
        try:
            url = stack.enter_context(database(db, tmp))
            extra = {"NUBO_BUS__URL": stack.enter_context(rabbit_vhost())} if bus == "amqp" else {}
        except RuntimeError as e:
            pytest.skip(str(e))
        cloud = Cloud(Path(tmp) / "state", free_port(), url,
                      env={**root.test_env(), **env, **extra})
        stack.callback(cloud.stop)
        cloud.start()
        yield cloud
