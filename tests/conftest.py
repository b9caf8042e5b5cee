"""Shared fixtures: a live nubo per database back end.

``NUBO_TEST_BACKENDS`` picks the back ends (default: sqlite,postgresql,mariadb);
a back end whose server is not reachable skips its tests with the reason.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cloud import Cloud, free_port
from tests.databases import BACKENDS, database

# the seeded slapd fixture (``ldap_server``) for tests marked ldap
pytest_plugins = ["tests.ldap_server"]

SELECTED = [b for b in os.environ.get("NUBO_TEST_BACKENDS", ",".join(BACKENDS)).split(",") if b]


@pytest.fixture(scope="session", params=SELECTED)
def cloud(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    backend = request.param
    with tempfile.TemporaryDirectory(prefix=f"nubo-test-{backend}-") as tmp:
        try:
            ctx = database(backend, tmp)
            url = ctx.__enter__()
        except RuntimeError as e:
            pytest.skip(str(e))
        c = Cloud(Path(tmp) / "state", free_port(), url, env=test_env())
        try:
            c.start()
            yield c
        finally:
            c.stop()
            ctx.__exit__(None, None, None)


def test_env() -> dict[str, str]:
    """Settings every test cloud shares: security compliance on, as Tempest expects."""
    return {
        "NUBO_IDENTITY__LOCKOUT_FAILURE_ATTEMPTS": "3",
        "NUBO_IDENTITY__LOCKOUT_DURATION": "5",
        "NUBO_IDENTITY__UNIQUE_LAST_PASSWORD_COUNT": "2",
        "NUBO_IDENTITY__MINIMUM_PASSWORD_AGE": "0",
        # two fake hypervisors, so reschedules and host filters have somewhere to go
        "NUBO_COMPUTE__FAKE_HOSTS": "2",
        "NUBO_COMPUTE__FAKE_DELAYS": '{"spawn": 0.02, "destroy": 0.01}',
    }
