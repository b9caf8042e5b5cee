"""A server deleted in the middle of a move (resize, cold or live migration) leaves
nothing behind: right after the delete placement has no allocation of the server
or of its migration, the quota (also a bigger flavor's difference) is given back,
the migration is ``error`` (``confirmed`` when it waited for confirmResize), and
neither host keeps a copy of the guest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import conftest as root
from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, unique
from tests.functional.compute.servers import boot, poll, wait_gone, wait_status
from tests.functional.compute.test_actions_resize import allocations, show
from tests.functional.compute.tuned import (
    admin_of,
    domains_on,
    new_user,
    placement_usage,
    quota_used,
    tiny_image,
    tuned_cloud,
)

# moves slow enough to be caught half-way
SLOW_MOVES = ('{"spawn": 0.02, "destroy": 0.01, "migrate_disk_and_power_off": 3, '
              '"finish_migration": 0.5, "live_migration": 3}')
HOSTS = ("fake-host-1", "fake-host-2")
NOTHING = {"instances": 0, "cores": 0, "ram": 0}


@pytest.fixture(scope="module", params=root.SELECTED)
def tuned(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    with tuned_cloud(request.param, {"NUBO_COMPUTE__FAKE_DELAYS": SLOW_MOVES}) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def image(tuned: Cloud) -> str:
    return tiny_image(tuned)


@pytest.fixture
def admin(tuned: Cloud) -> Nova:
    return admin_of(tuned)


def migration_of(admin: Nova, server_id: str) -> dict[str, Any]:
    r = admin.get("/os-migrations", params={"instance_uuid": server_id}, version="2.59")
    assert r.status_code == 200, r.text
    (found,) = r.json()["migrations"]
    return dict(found)


def delete_and_check_freed(member: Nova, admin: Nova, server_id: str,
                           migration: dict[str, Any]) -> None:
    """Delete, then: no allocation, no usage, no quota held, no guest anywhere."""
    assert member.delete(f"/servers/{server_id}").status_code == 204
    wait_gone(member, server_id)
    poll(lambda: not allocations(admin, migration["uuid"]) and not allocations(admin, server_id),
         timeout=5, what="the server's and its migration's allocations deleted")
    assert placement_usage(admin) == {}
    assert quota_used(member) == NOTHING
    poll(lambda: all(server_id not in domains_on(admin.cloud, h) for h in HOSTS),
         what="no guest left on either host")


def test_delete_during_resize_to_bigger_flavor(tuned: Cloud, admin: Nova, image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image)["id"]
    r = member.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "2"}})
    assert r.status_code == 202, r.text
    poll(lambda: show(admin, sid)["OS-EXT-STS:task_state"] == "resize_migrating",
         what="resize under way")
    migration = migration_of(admin, sid)
    assert allocations(admin, migration["uuid"])            # the source, held meanwhile
    assert quota_used(member) == {"instances": 1, "cores": 1, "ram": 2048}
    delete_and_check_freed(member, admin, sid, migration)
    assert migration_of(admin, sid)["status"] == "error"


def test_delete_while_waiting_for_confirm(tuned: Cloud, admin: Nova, image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image, flavorRef="2")["id"]
    source = show(admin, sid)["OS-EXT-SRV-ATTR:host"]
    smaller = admin.post("/flavors", {"flavor": {"name": unique("f"), "vcpus": 1, "ram": 1024,
                                                 "disk": 20}})
    assert smaller.status_code == 200, smaller.text
    r = member.post(f"/servers/{sid}/action",
                    {"resize": {"flavorRef": smaller.json()["flavor"]["id"]}})
    assert r.status_code == 202, r.text
    wait_status(member, sid, "VERIFY_RESIZE")
    migration = migration_of(admin, sid)
    assert sid in domains_on(tuned, source)                 # kept until confirmed
    assert quota_used(member) == {"instances": 1, "cores": 1, "ram": 2048}
    delete_and_check_freed(member, admin, sid, migration)
    assert migration_of(admin, sid)["status"] == "confirmed"


def test_delete_during_cold_migration_by_admin(tuned: Cloud, admin: Nova, image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image)["id"]
    assert admin.post(f"/servers/{sid}/action", {"migrate": None}).status_code == 202
    poll(lambda: show(admin, sid)["OS-EXT-STS:task_state"] == "resize_migrating",
         what="migration under way")
    migration = migration_of(admin, sid)
    delete_and_check_freed(member, admin, sid, migration)
    assert migration_of(admin, sid)["status"] == "error"


def test_delete_during_live_migration(tuned: Cloud, admin: Nova, image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image)["id"]
    r = admin.post(f"/servers/{sid}/action",
                   {"os-migrateLive": {"host": None, "block_migration": "auto"}}, version="2.90")
    assert r.status_code == 202, r.text
    poll(lambda: migration_of(admin, sid)["status"] == "running", what="live migration running")
    assert show(admin, sid)["status"] == "MIGRATING"
    migration = migration_of(admin, sid)
    assert allocations(admin, migration["uuid"])
    delete_and_check_freed(member, admin, sid, migration)
    assert migration_of(admin, sid)["status"] == "error"
