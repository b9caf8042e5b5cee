"""Soft delete with ``[compute] reclaim_instance_interval`` > 0: a deleted server
that ran is SOFT_DELETED (powered off, still on its host with its placement
allocation, out of the quota and of plain lists), ``restore`` brings it back
(quota taken again, 403 when it no longer fits), ``forceDelete`` ends it; servers
that never ran, are shelved or wait for confirmResize are deleted at once;
refusals as Nova's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import conftest as root
from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault
from tests.functional.compute.servers import boot, poll, wait_gone, wait_status
from tests.functional.compute.test_actions_resize import allocations, show
from tests.functional.compute.tuned import (
    admin_of,
    new_user,
    quota_used,
    tiny_image,
    tuned_cloud,
)

TINY = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}


@pytest.fixture(scope="module", params=root.SELECTED)
def tuned(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    with tuned_cloud(request.param, {"NUBO_COMPUTE__RECLAIM_INSTANCE_INTERVAL": "3600"}
                     ) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def image(tuned: Cloud) -> str:
    return tiny_image(tuned)


@pytest.fixture
def admin(tuned: Cloud) -> Nova:
    return admin_of(tuned)


def act(nova: Nova, server_id: str, body: dict[str, Any]) -> Any:
    return nova.post(f"/servers/{server_id}/action", body, version="2.90")


def soft_delete(nova: Nova, server_id: str) -> dict[str, Any]:
    assert nova.delete(f"/servers/{server_id}").status_code == 204
    return wait_status(nova, server_id, "SOFT_DELETED")


def listed(nova: Nova, server_id: str, **params: Any) -> bool:
    r = nova.get("/servers/detail", params=params, version="2.90")
    assert r.status_code == 200, r.text
    return server_id in {s["id"] for s in r.json()["servers"]}


def test_soft_delete_then_restore(tuned: Cloud, admin: Nova, image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image)["id"]
    shown = soft_delete(member, sid)
    assert shown["OS-EXT-STS:task_state"] is None and shown["OS-EXT-STS:power_state"] == 4
    assert shown["OS-EXT-STS:vm_state"] == "soft-delete"
    assert show(admin, sid)["OS-EXT-SRV-ATTR:host"] is not None
    assert list(allocations(admin, sid).values()) == [TINY]       # placement keeps it
    assert quota_used(member) == {"instances": 0, "cores": 0, "ram": 0}
    assert not listed(member, sid)
    assert not listed(admin, sid, all_tenants="1")
    assert listed(admin, sid, all_tenants="1", deleted="true")
    # a second delete changes nothing
    assert member.delete(f"/servers/{sid}").status_code == 204
    assert show(member, sid)["status"] == "SOFT_DELETED"
    r = act(member, sid, {"restore": None})
    assert r.status_code == 202, r.text
    shown = wait_status(member, sid, "ACTIVE")
    assert shown["OS-EXT-STS:power_state"] == 1
    assert quota_used(member) == {"instances": 1, "cores": 1, "ram": 512}
    assert listed(member, sid)
    actions = [a["action"] for a in member.get(f"/servers/{sid}/os-instance-actions")
               .json()["instanceActions"]]
    assert actions[:3] == ["restore", "delete", "create"]


def test_force_delete_ends_a_soft_deleted_server(tuned: Cloud, admin: Nova,
                                                 image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image)["id"]
    soft_delete(member, sid)
    assert act(member, sid, {"forceDelete": None}).status_code == 202
    wait_gone(member, sid)
    poll(lambda: allocations(admin, sid) == {}, timeout=5, what="allocation deleted")
    assert quota_used(member) == {"instances": 0, "cores": 0, "ram": 0}


def test_servers_that_never_ran_are_shelved_or_resized_go_at_once(tuned: Cloud, admin: Nova,
                                                          image: str) -> None:
    member = new_user(tuned)
    r = admin.post("/flavors", {"flavor": {"name": f"fail-{member.project_id[:6]}",
                                           "vcpus": 1, "ram": 512, "disk": 1}})
    flavor = r.json()["flavor"]["id"]
    r = admin.post(f"/flavors/{flavor}/os-extra_specs",
                   {"extra_specs": {"fake:fail_spawn": "true"}})
    assert r.status_code == 200, r.text
    failed = boot(member, image, flavorRef=flavor)
    assert failed["status"] == "ERROR"
    assert member.delete(f"/servers/{failed['id']}").status_code == 204
    wait_gone(member, failed["id"])
    shelved = boot(member, image)["id"]
    assert act(member, shelved, {"shelve": None}).status_code == 202
    wait_status(member, shelved, "SHELVED_OFFLOADED")
    assert member.delete(f"/servers/{shelved}").status_code == 204
    wait_gone(member, shelved)
    resized = boot(member, image)["id"]
    assert act(member, resized, {"resize": {"flavorRef": "2"}}).status_code == 202
    wait_status(member, resized, "VERIFY_RESIZE")
    assert member.delete(f"/servers/{resized}").status_code == 204
    wait_gone(member, resized)
    poll(lambda: allocations(admin, resized) == {}, timeout=5, what="allocation deleted")
    assert quota_used(member) == {"instances": 0, "cores": 0, "ram": 0}


def test_restore_refusals(tuned: Cloud, admin: Nova, image: str) -> None:
    member = new_user(tuned)
    r = admin.put(f"/os-quota-sets/{member.project_id}", {"quota_set": {"instances": 1}})
    assert r.status_code == 200, r.text
    first = boot(member, image)["id"]
    fault(act(member, first, {"restore": None}), 409, "conflictingRequest")
    soft_delete(member, first)
    second = boot(member, image)["id"]          # the soft-deleted one does not count
    msg = fault(act(member, first, {"restore": None}), 403, "forbidden")
    assert "Quota exceeded for instances" in msg
    assert show(member, first)["status"] == "SOFT_DELETED"
    assert quota_used(member)["instances"] == 1
    fault(act(member, first, {"restore": {"x": 1}}), 400, "badRequest")
    other = new_user(tuned)
    fault(act(other, first, {"restore": None}), 404, "itemNotFound")
    fault(act(other, first, {"forceDelete": None}), 404, "itemNotFound")
    reader = new_user(tuned, "reader", member.project_id)
    fault(act(reader, first, {"restore": None}), 403, "forbidden")
    fault(act(reader, first, {"forceDelete": None}), 403, "forbidden")
    assert show(member, first)["status"] == "SOFT_DELETED"
    # room again: the restore goes through
    assert member.delete(f"/servers/{second}").status_code == 204
    wait_status(member, second, "SOFT_DELETED")
    assert act(member, first, {"restore": None}).status_code == 202
    wait_status(member, first, "ACTIVE")


def test_locked_server_is_not_soft_deleted(tuned: Cloud, admin: Nova, image: str) -> None:
    member = new_user(tuned)
    sid = boot(member, image)["id"]
    assert act(admin, sid, {"lock": None}).status_code == 202
    fault(member.delete(f"/servers/{sid}"), 409, "conflictingRequest")
    assert show(member, sid)["status"] == "ACTIVE"
    soft_delete(admin, sid)              # an admin may
    fault(act(member, sid, {"restore": None}), 409, "conflictingRequest")
    assert act(admin, sid, {"restore": None}).status_code == 202
    wait_status(member, sid, "ACTIVE")


def test_cli_delete_and_restore(tuned: Cloud, image: str) -> None:
    server = tuned.cli_json("server", "create", "--image", image, "--flavor", "1",
                            "--nic", "none", "--wait", "soft-cli")
    tuned.cli("server", "delete", server["id"])
    shown = poll(lambda: (lambda s: s if s["status"] == "SOFT_DELETED" else None)(
        tuned.cli_json("server", "show", server["id"])), what="SOFT_DELETED")
    assert shown["name"] == "soft-cli"
    tuned.cli("server", "restore", server["id"])
    poll(lambda: tuned.cli_json("server", "show", server["id"])["status"] == "ACTIVE",
         what="restored")
    tuned.cli("server", "delete", server["id"])
