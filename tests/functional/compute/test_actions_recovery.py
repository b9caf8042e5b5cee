"""Server actions across a crash: ``kill -9`` while a stop is under way and while a
resize waits for confirmation; after the restart the stop is done again and the
resize can still be reverted, its source allocation kept by the migration."""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import conftest as root
from tests.cloud import Cloud, free_port
from tests.functional.compute.nova import Nova
from tests.functional.compute.servers import boot, poll, wait_status
from tests.functional.compute.test_actions_resize import allocations, provider_of, show
from tests.functional.identity.conftest import password_token

SLOW = '{"spawn": 0.02, "destroy": 0.01, "power_off": 3}'
FAST = '{"spawn": 0.02, "destroy": 0.01}'


@pytest.fixture
def crashing_cloud() -> Iterator[Cloud]:
    with tempfile.TemporaryDirectory(prefix="nubo-actions-recovery-") as tmp:
        state = Path(tmp) / "state"
        env = {**root.test_env(), "NUBO_COMPUTE__FAKE_DELAYS": SLOW}
        cloud = Cloud(state, free_port(), f"sqlite:///{state / 'nubo.db'}", env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()


def admin_of(cloud: Cloud) -> Nova:
    r = password_token(cloud, "admin", cloud.admin_password,
                       {"project": {"name": "admin", "domain": {"id": "default"}}})
    return Nova(cloud, r.headers["X-Subject-Token"])


def test_kill_during_stop_and_resize_then_converge(crashing_cloud: Cloud) -> None:
    cloud = crashing_cloud
    admin = admin_of(cloud)
    conn: Any = cloud.connect("nubo-admin")
    image = conn.image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                    data=b"\0" * 4096)
    conn.image.wait_for_status(image, "active", wait=30)
    stopping = boot(admin, image.id)["id"]
    resized = boot(admin, image.id)["id"]
    source = show(admin, resized)["OS-EXT-SRV-ATTR:host"]
    r = admin.post(f"/servers/{resized}/action", {"resize": {"flavorRef": "2"}})
    assert r.status_code == 202, r.text
    wait_status(admin, resized, "VERIFY_RESIZE")
    assert admin.post(f"/servers/{stopping}/action", {"os-stop": None}).status_code == 202
    poll(lambda: show(admin, stopping)["OS-EXT-STS:task_state"] == "powering-off",
         what="stop under way")
    cloud.stop(signal.SIGKILL)

    cloud.env["NUBO_COMPUTE__FAKE_DELAYS"] = FAST
    cloud.start()
    admin = admin_of(cloud)
    shown = wait_status(admin, stopping, "SHUTOFF")
    assert shown["OS-EXT-STS:task_state"] is None and shown["OS-EXT-STS:power_state"] == 4
    assert show(admin, resized)["status"] == "VERIFY_RESIZE"
    r = admin.get("/os-migrations", params={"instance_uuid": resized}, version="2.59")
    (mig,) = r.json()["migrations"]
    assert allocations(admin, mig["uuid"]) == {provider_of(admin, source): {
        "VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}
    assert admin.post(f"/servers/{resized}/action", {"revertResize": None}).status_code == 202
    wait_status(admin, resized, "ACTIVE")
    assert show(admin, resized)["OS-EXT-SRV-ATTR:host"] == source
    assert allocations(admin, resized) == {provider_of(admin, source): {
        "VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}
