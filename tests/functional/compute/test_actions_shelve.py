"""shelve / shelveOffload / unshelve, on the shared cloud (offloaded at once, as
Nova's default shelved_offload_time = 0) and on a one-host cloud that keeps
shelved servers on their host (shelved_offload_time = -1) and resizes in place
(allow_resize_to_same_host)."""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import conftest as base
from tests.cloud import Cloud, free_port
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot, poll, wait_status
from tests.functional.compute.test_actions_resize import allocations, provider_of, show
from tests.functional.identity.conftest import password_token


def act(nova: Nova, server_id: str, body: dict[str, Any], version: str = "2.90") -> Any:
    return nova.post(f"/servers/{server_id}/action", body, version=version)


def image_status(nova: Nova, image_id: str) -> int:
    return requests.get(f"{nova.cloud.url}/image/v2/images/{image_id}",
                        headers={"X-Auth-Token": nova.token}, timeout=30).status_code


def shelved_image(admin: Nova, server_id: str) -> str:
    """The shelved image's id, from the shelve action's snapshot (by its name)."""
    name = show(admin, server_id)["name"] + "-shelved"
    r = requests.get(f"{admin.cloud.url}/image/v2/images", params={"name": name},
                     headers={"X-Auth-Token": admin.token}, timeout=30)
    (image,) = r.json()["images"]
    return str(image["id"])


def test_shelve_offloads_and_unshelve_reschedules(member: Nova, admin_nova: Nova,
                                                  image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    assert act(member, sid, {"shelve": None}).status_code == 202
    shown = wait_status(member, sid, "SHELVED_OFFLOADED")
    assert shown["OS-EXT-STS:power_state"] == 0
    assert show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"] is None
    assert allocations(admin_nova, sid) == {}
    image = shelved_image(admin_nova, sid)
    assert image_status(member, image) == 200
    # the quota stays held, as in Nova
    assert member.get("/limits").json()["limits"]["absolute"]["totalInstancesUsed"] == 1
    fault(act(member, sid, {"os-start": None}), 409, "conflictingRequest")
    fault(act(member, sid, {"unshelve": {"availability_zone": "nowhere"}}), 400,
          "badRequest")
    fault(act(member, sid, {"unshelve": {"availability_zone": "nova"}}, version="2.76"),
          400, "badRequest")
    assert act(member, sid, {"unshelve": {"availability_zone": "nova"}}).status_code == 202
    wait_status(member, sid, "ACTIVE")
    host = show(admin_nova, sid)["OS-EXT-SRV-ATTR:host"]
    assert allocations(admin_nova, sid) == {provider_of(admin_nova, host): {
        "VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}
    poll(lambda: image_status(member, image) == 404, what="shelved image deleted")
    actions = [a["action"] for a in member.get(f"/servers/{sid}/os-instance-actions")
               .json()["instanceActions"]]
    assert actions[:3] == ["unshelve", "shelve", "create"]


def test_sdk_and_cli_shelve(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("sh"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    conn.compute.shelve_server(server)
    server = conn.compute.wait_for_server(server, status="SHELVED_OFFLOADED", wait=30)
    conn.compute.unshelve_server(server)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    cloud.cli("server", "shelve", "--wait", server.id)
    assert conn.compute.get_server(server.id).status == "SHELVED_OFFLOADED"
    cloud.cli("server", "unshelve", "--wait", server.id)
    assert conn.compute.get_server(server.id).status == "ACTIVE"
    conn.compute.delete_server(server)


def test_refusals(member: Nova, make_user: Callable[..., Nova], image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    msg = fault(act(member, sid, {"unshelve": None}), 409, "conflictingRequest")
    assert msg == f"Cannot 'unshelve' instance {sid} while it is in vm_state active"
    fault(act(member, sid, {"shelveOffload": None}), 403, "forbidden")
    reader = make_user("reader", member.project_id)
    fault(act(reader, sid, {"shelve": None}), 403, "forbidden")
    other = make_user("member")
    fault(act(other, sid, {"shelve": None}), 404, "itemNotFound")
    assert show(member, sid)["status"] == "ACTIVE"


# ------------------------------------------------------------ one-host cloud


@pytest.fixture(scope="module")
def one_host() -> Iterator[Cloud]:
    with tempfile.TemporaryDirectory(prefix="nubo-test-onehost-") as tmp:
        state = Path(tmp) / "state"
        env = {**base.test_env(), "NUBO_COMPUTE__FAKE_HOSTS": "1",
               "NUBO_COMPUTE__SHELVED_OFFLOAD_TIME": "-1",
               "NUBO_COMPUTE__ALLOW_RESIZE_TO_SAME_HOST": "true"}
        cloud = Cloud(state, free_port(), f"sqlite:///{state / 'nubo.db'}", env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()


@pytest.fixture(scope="module")
def one_host_users(one_host: Cloud) -> tuple[Nova, Nova, str]:
    """(member, admin, image id) on the one-host cloud."""
    conn: Any = one_host.connect("nubo-admin")
    project = conn.identity.create_project(name=unique("p"), domain_id="default")
    name, password = unique("u"), "pw-" + uuid.uuid4().hex
    user = conn.identity.create_user(name=name, password=password, domain_id="default")
    conn.identity.assign_project_role_to_user(project, user, conn.identity.find_role("member"))
    r = password_token(one_host, name, password, {"project": {"id": project.id}})
    member = Nova(one_host, r.headers["X-Subject-Token"], user.id, project.id)
    r = password_token(one_host, "admin", one_host.admin_password,
                       {"project": {"name": "admin", "domain": {"id": "default"}}})
    admin = Nova(one_host, r.headers["X-Subject-Token"], "", "")
    image = conn.image.create_image(name=unique("tiny"), disk_format="raw",
                                    container_format="bare", visibility="public",
                                    data=io.BytesIO(b"\0" * 1024))
    conn.image.wait_for_status(image, "active", wait=30)
    return member, admin, str(image.id)


def test_shelve_keeps_host_until_offload(one_host_users: tuple[Nova, Nova, str]) -> None:
    member, admin, image = one_host_users
    sid = boot(member, image)["id"]
    assert act(member, sid, {"shelve": None}).status_code == 202
    shown = wait_status(member, sid, "SHELVED")
    assert shown["OS-EXT-STS:power_state"] == 4
    assert show(admin, sid)["OS-EXT-SRV-ATTR:host"] == "fake-host-1"
    assert allocations(admin, sid) != {}
    # unshelve of a SHELVED server powers it on where it is; no zone may be named
    fault(act(member, sid, {"unshelve": {"availability_zone": "nova"}}), 409,
          "conflictingRequest")
    assert act(member, sid, {"unshelve": None}).status_code == 202
    wait_status(member, sid, "ACTIVE")
    assert act(member, sid, {"shelve": None}).status_code == 202
    wait_status(member, sid, "SHELVED")
    assert act(admin, sid, {"shelveOffload": None}).status_code == 202
    wait_status(member, sid, "SHELVED_OFFLOADED")
    assert allocations(admin, sid) == {}
    assert act(member, sid, {"unshelve": None}).status_code == 202
    wait_status(member, sid, "ACTIVE")
    assert show(admin, sid)["OS-EXT-SRV-ATTR:host"] == "fake-host-1"


def test_resize_on_the_same_host(one_host_users: tuple[Nova, Nova, str]) -> None:
    member, admin, image = one_host_users
    sid = boot(member, image)["id"]
    provider = provider_of(admin, "fake-host-1")
    assert act(member, sid, {"resize": {"flavorRef": "2"}}).status_code == 202
    wait_status(member, sid, "VERIFY_RESIZE")
    assert show(admin, sid)["OS-EXT-SRV-ATTR:host"] == "fake-host-1"
    assert allocations(admin, sid) == {provider: {"VCPU": 1, "MEMORY_MB": 2048,
                                                  "DISK_GB": 20}}
    assert act(member, sid, {"revertResize": None}).status_code == 202
    shown = wait_status(member, sid, "ACTIVE")
    assert shown["flavor"]["original_name"] == "m1.tiny"
    assert allocations(admin, sid) == {provider: {"VCPU": 1, "MEMORY_MB": 512,
                                                  "DISK_GB": 1}}
    # cold migration needs another host: the scheduler says why not
    msg = fault(act(admin, sid, {"migrate": None}), 400, "badRequest")
    assert msg.startswith("No valid host was found.")
    assert show(member, sid)["status"] == "ACTIVE"
