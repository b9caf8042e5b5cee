"""Two API processes of one cloud: the controller shape, where each ``nubo`` process
validates tokens on its own and learns of revocations from the database and RabbitMQ.

Both processes share the database (a throw-away one on the machine's PostgreSQL or
MariaDB server), a RabbitMQ vhost of their own and one Fernet key repository; they
serve identity and placement. The second starts once the first has bootstrapped, with
the first's bootstrap passwords, so its ``clouds.yaml`` is right too. A back end that
cannot be reached skips its variant with the reason.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import conftest as root
from tests.cloud import Cloud, free_port
from tests.databases import database
from tests.integration.compute.conftest import rabbit_vhost

DATABASES = [db for db in ("postgresql", "mariadb") if db in root.SELECTED]


@dataclass
class Pair:
    a: Cloud
    b: Cloud
    bus_url: str


@pytest.fixture(scope="module", params=[pytest.param(db, marks=pytest.mark.rabbitmq)
                                        for db in DATABASES])
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubo-pair-")))
        try:
            url = stack.enter_context(database(request.param, str(tmp)))
            bus_url = stack.enter_context(rabbit_vhost())
        except RuntimeError as e:
            pytest.skip(str(e))
        env = {**root.test_env(), "NUBO_BUS__URL": bus_url,
               "NUBO_CORE__ENABLED_SERVICES": "identity,placement",
               "NUBO_IDENTITY__KEY_REPOSITORY": str(tmp / "fernet-keys")}
        a = Cloud(tmp / "a", free_port(), url, env=env)
        stack.callback(a.stop)
        a.start()
        (tmp / "b").mkdir()
        shutil.copy(a.state_dir / "secrets.json", tmp / "b" / "secrets.json")
        b = Cloud(tmp / "b", free_port(), url, env=env)
        stack.callback(b.stop)
        b.start()
        yield Pair(a, b, bus_url)
