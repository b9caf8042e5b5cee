"""Rotating the credential encryption keys with the operator CLI while the cloud runs:
blobs stay readable, and a rotation that could lose a key still in use is refused
until the blobs are re-encrypted."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import conftest
from tests.cloud import Cloud, free_port


@pytest.fixture(scope="module")
def own_cloud() -> Iterator[Cloud]:
    """A cloud of its own: rotation changes state other tests would see."""
    with tempfile.TemporaryDirectory(prefix="nubo-test-credkeys-") as tmp:
        cloud = Cloud(Path(tmp) / "state", free_port(), f"sqlite:///{tmp}/nubo.db",
                      env=conftest.test_env())
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()


def nubo(cloud: Cloud, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nubo.cli.main", "--state-dir", str(cloud.state_dir), *args],
        capture_output=True, text=True, timeout=60,
        env={"NUBO_DATABASE__CONNECTION": cloud.database_url, "PATH": "/usr/bin:/bin"})


def test_rotate_then_migrate_keeps_every_blob_readable(own_cloud: Cloud) -> None:
    admin = own_cloud.connect("nubo-admin")
    user_id = admin.current_user_id
    first = admin.identity.create_credential(type="cert", blob="first secret", user_id=user_id)
    keys_dir = own_cloud.state_dir / "credential-keys"

    done = nubo(own_cloud, "identity", "rotate-credential-keys")
    assert done.returncode == 0, done.stderr
    assert admin.identity.get_credential(first.id).blob == "first secret"
    # the blob is under a secondary key now: another rotation could drop that key
    refused = nubo(own_cloud, "identity", "rotate-credential-keys")
    assert refused.returncode == 1 and "migrate-credentials" in refused.stderr
    before = sorted(p.name for p in keys_dir.iterdir())

    migrated = nubo(own_cloud, "identity", "migrate-credentials")
    assert migrated.returncode == 0 and "re-encrypted 1 " in migrated.stdout, migrated.stdout
    for _ in range(3):  # beyond max_active_keys: the oldest keys are gone for good
        done = nubo(own_cloud, "identity", "rotate-credential-keys")
        assert done.returncode == 0, done.stderr
        assert nubo(own_cloud, "identity", "migrate-credentials").returncode == 0
    assert not set(before) & {p.name for p in keys_dir.iterdir()} - {"0"}
    assert admin.identity.get_credential(first.id).blob == "first secret"
    second = admin.identity.create_credential(type="cert", blob="second", user_id=user_id)
    assert admin.identity.get_credential(second.id).blob == "second"
