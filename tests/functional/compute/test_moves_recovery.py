"""Moves and shelves across a crash: ``kill -9`` while a resize powers the source
off, a live migration sends the guest and a shelve uploads its snapshot; after the
restart each goes on (VERIFY_RESIZE, moved, SHELVED_OFFLOADED), with placement
allocations where the servers are and nothing left to the migrations."""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import conftest as root
from tests.cloud import Cloud, free_port
from tests.databases import database
from tests.functional.compute.nova import Nova
from tests.functional.compute.servers import boot, poll, wait_status
from tests.functional.compute.test_actions_resize import allocations, provider_of, show
from tests.functional.compute.tuned import admin_of, placement_usage, tiny_image

SLOW = ('{"spawn": 0.02, "destroy": 0.01, "migrate_disk_and_power_off": 8, '
        '"live_migration": 8, "snapshot": 8}')
FAST = '{"spawn": 0.02, "destroy": 0.01}'
TINY = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
SMALL = {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}


@pytest.fixture(params=root.SELECTED)
def crashing_cloud(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    with tempfile.TemporaryDirectory(prefix="nubo-moves-recovery-") as tmp:
        try:
            ctx = database(request.param, tmp)
            url = ctx.__enter__()
        except RuntimeError as e:
            pytest.skip(str(e))
        env = {**root.test_env(), "NUBO_COMPUTE__FAKE_DELAYS": SLOW}
        cloud = Cloud(Path(tmp) / "state", free_port(), url, env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()
            ctx.__exit__(None, None, None)


def act(nova: Nova, server_id: str, body: dict[str, Any]) -> None:
    r = nova.post(f"/servers/{server_id}/action", body, version="2.90")
    assert r.status_code in (202, 204), r.text


def migration(admin: Nova, server_id: str) -> dict[str, Any]:
    r = admin.get("/os-migrations", params={"instance_uuid": server_id}, version="2.59")
    (found,) = r.json()["migrations"]
    return dict(found)


def other(host: str) -> str:
    return "fake-host-2" if host == "fake-host-1" else "fake-host-1"


def shelved_image(admin: Nova, server_id: str) -> dict[str, Any]:
    r = requests.get(f"{admin.cloud.url}/image/v2/images", params={"limit": 1000},
                     headers={"X-Auth-Token": admin.token}, timeout=30)
    (image,) = [i for i in r.json()["images"] if i.get("instance_uuid") == server_id]
    return dict(image)


def test_kill_during_resize_live_migration_and_shelve(crashing_cloud: Cloud) -> None:
    cloud = crashing_cloud
    admin = admin_of(cloud)
    image = tiny_image(cloud)
    resized, moved, shelved = (boot(admin, image)["id"] for _ in range(3))
    source = {s: show(admin, s)["OS-EXT-SRV-ATTR:host"] for s in (resized, moved)}
    act(admin, resized, {"resize": {"flavorRef": "2"}})
    act(admin, moved, {"os-migrateLive": {"host": None, "block_migration": "auto"}})
    act(admin, shelved, {"shelve": None})

    def all_under_way() -> bool:
        return (show(admin, resized)["OS-EXT-STS:task_state"] == "resize_migrating"
                and migration(admin, moved)["status"] == "running"
                and show(admin, shelved)["OS-EXT-STS:task_state"]
                == "shelving_image_uploading")

    poll(all_under_way, timeout=8, what="the three under way")
    cloud.stop(signal.SIGKILL)

    cloud.env["NUBO_COMPUTE__FAKE_DELAYS"] = FAST
    cloud.start()
    admin = admin_of(cloud)
    # the resize goes on to VERIFY_RESIZE, the migration holding the source
    wait_status(admin, resized, "VERIFY_RESIZE")
    dest = show(admin, resized)["OS-EXT-SRV-ATTR:host"]
    assert dest == other(source[resized])
    assert allocations(admin, resized) == {provider_of(admin, dest): SMALL}
    assert allocations(admin, migration(admin, resized)["uuid"]) == {
        provider_of(admin, source[resized]): TINY}
    act(admin, resized, {"confirmResize": None})
    wait_status(admin, resized, "ACTIVE")
    # the live migration ends on the other host
    done = poll(lambda: (lambda s: s if s["OS-EXT-STS:task_state"] is None else None)(
        show(admin, moved)), what="live migration settled")
    assert done["status"] == "ACTIVE"
    assert done["OS-EXT-SRV-ATTR:host"] == other(source[moved])
    assert migration(admin, moved)["status"] == "completed"
    assert allocations(admin, moved) == {provider_of(admin, other(source[moved])): TINY}
    # the shelve stores its snapshot and offloads
    wait_status(admin, shelved, "SHELVED_OFFLOADED")
    assert shelved_image(admin, shelved)["status"] == "active"
    assert allocations(admin, shelved) == {}
    act(admin, shelved, {"unshelve": None})
    wait_status(admin, shelved, "ACTIVE")
    # placement holds exactly what the servers hold
    poll(lambda: placement_usage(admin) == {"VCPU": 3, "MEMORY_MB": 2048 + 2 * 512,
                                            "DISK_GB": 20 + 2 * 1},
         timeout=10, what="placement usage of the three servers")
    limits = admin.get("/limits").json()["limits"]["absolute"]
    assert (limits["totalInstancesUsed"], limits["totalRAMUsed"]) == (3, 2048 + 2 * 512)
