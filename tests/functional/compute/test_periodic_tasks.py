"""The conductor's periodic tasks, on a cloud with short times: soft-deleted
servers are reclaimed after ``reclaim_instance_interval`` (their allocation and
guest gone), and servers shelved longer than ``shelved_offload_time`` are
offloaded (no host, no allocation) and can still be unshelved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import conftest as root
from tests.cloud import Cloud
from tests.functional.compute.nova import Nova
from tests.functional.compute.servers import boot, poll, wait_gone, wait_status
from tests.functional.compute.test_actions_resize import allocations, show
from tests.functional.compute.tuned import (
    admin_of,
    domains_on,
    new_user,
    quota_used,
    tiny_image,
    tuned_cloud,
)

SETTINGS = {"NUBO_COMPUTE__RECLAIM_INSTANCE_INTERVAL": "2",
            "NUBO_COMPUTE__SHELVED_OFFLOAD_TIME": "2",
            "NUBO_COMPUTE__SHELVED_POLL_INTERVAL": "0.5"}


@pytest.fixture(scope="module", params=root.SELECTED)
def tuned(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    with tuned_cloud(request.param, SETTINGS) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def image(tuned: Cloud) -> str:
    return tiny_image(tuned)


@pytest.fixture
def admin(tuned: Cloud) -> Nova:
    return admin_of(tuned)


def test_soft_deleted_server_is_reclaimed(tuned: Cloud, admin: Nova, image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image)["id"]
    host = show(admin, sid)["OS-EXT-SRV-ATTR:host"]
    assert member.delete(f"/servers/{sid}").status_code == 204
    wait_status(member, sid, "SOFT_DELETED", timeout=10)
    assert allocations(admin, sid)
    wait_gone(member, sid, timeout=15)
    poll(lambda: allocations(admin, sid) == {}, timeout=5, what="allocation deleted")
    poll(lambda: sid not in domains_on(tuned, host), what="guest destroyed")
    assert quota_used(member) == {"instances": 0, "cores": 0, "ram": 0}


def test_shelved_server_is_offloaded_after_a_while(tuned: Cloud, admin: Nova,
                                                   image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image)["id"]
    r = member.post(f"/servers/{sid}/action", {"shelve": None}, version="2.90")
    assert r.status_code == 202, r.text
    shown = wait_status(member, sid, "SHELVED", "SHELVED_OFFLOADED")
    assert shown["status"] == "SHELVED"          # not at once: the time is 2 s
    assert show(admin, sid)["OS-EXT-SRV-ATTR:host"] is not None
    wait_status(member, sid, "SHELVED_OFFLOADED", timeout=15)
    assert show(admin, sid)["OS-EXT-SRV-ATTR:host"] is None
    assert allocations(admin, sid) == {}
    assert quota_used(member)["instances"] == 1   # the quota stays held, as in Nova
    events = member.get(f"/servers/{sid}/os-instance-actions", version="2.90").json()
    assert events["instanceActions"][0]["action"] == "shelve"
    r = member.post(f"/servers/{sid}/action", {"unshelve": None}, version="2.90")
    assert r.status_code == 202, r.text
    wait_status(member, sid, "ACTIVE")
    assert allocations(admin, sid)
