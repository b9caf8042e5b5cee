"""Helpers and fixtures of the server tests: a tiny bootable image, a way to boot
and wait over raw HTTP, and pollers with deadlines (no sleeps of fixed length)."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova

TINY_FLAVOR = "1"          # m1.tiny: 1 vCPU, 512 MiB, 1 GiB
WAIT = 30.0


def poll(check: Callable[[], Any], *, timeout: float = WAIT, what: str = "condition") -> Any:
    """Call ``check`` until it returns something truthy; its last value on timeout
    is reported in the assertion."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def server_body(image: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"name": name or f"s-{uuid.uuid4().hex[:6]}", "imageRef": image,
            "flavorRef": TINY_FLAVOR, "networks": "none", **extra}
    return {"server": body}


def wait_status(nova: Nova, server_id: str, *statuses: str, timeout: float = WAIT
                ) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        r = nova.get(f"/servers/{server_id}", version="2.90")
        assert r.status_code == 200, r.text
        server: dict[str, Any] = r.json()["server"]
        return server if server["status"] in statuses else None

    result: dict[str, Any] = poll(check, timeout=timeout,
                                  what=f"server {server_id} in {statuses}")
    return result


def wait_gone(nova: Nova, server_id: str, timeout: float = WAIT) -> None:
    poll(lambda: nova.get(f"/servers/{server_id}").status_code == 404, timeout=timeout,
         what=f"server {server_id} deleted")


def boot(nova: Nova, image: str, *, wait: bool = True, **extra: Any) -> dict[str, Any]:
    r = nova.post("/servers", server_body(image, **extra), version="2.90")
    assert r.status_code == 202, r.text
    server: dict[str, Any] = r.json()["server"]
    if wait:
        return wait_status(nova, server["id"], "ACTIVE", "ERROR")
    return server


@pytest.fixture(scope="session")
def image_id(cloud: Cloud) -> str:
    """A 1 MiB raw image every project may boot, made once per cloud through the
    image API; "community", so that it stays out of other tests' image lists."""
    conn = cloud.connect("nubo-admin")
    image = conn.image.create_image(name=f"tiny-{uuid.uuid4().hex[:6]}", disk_format="raw",
                                    container_format="bare", visibility="community",
                                    data=io.BytesIO(b"\0" * 1024 * 1024))
    conn.image.wait_for_status(image, "active", wait=30)
    return str(image.id)


@pytest.fixture
def member(make_user: Callable[..., Nova]) -> Nova:
    """A member of a fresh project (raw HTTP)."""
    return make_user("member")


@pytest.fixture
def member_conn(cloud: Cloud, admin_conn: Any) -> Iterator[Any]:
    """An openstacksdk connection of a member of a fresh project."""
    import openstack

    suffix = uuid.uuid4().hex[:8]
    project = admin_conn.identity.create_project(name=f"p-{suffix}", domain_id="default")
    password = f"pw-{suffix}"
    user = admin_conn.identity.create_user(name=f"u-{suffix}", password=password,
                                           domain_id="default")
    admin_conn.identity.assign_project_role_to_user(
        project.id, user.id, admin_conn.identity.find_role("member").id)
    conn = openstack.connect(auth_url=cloud.auth_url, username=user.name, password=password,
                             project_id=project.id, user_domain_id="default",
                             project_domain_id="default")
    yield conn
    for server in conn.compute.servers():
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=30)
    admin_conn.identity.delete_user(user.id)
    admin_conn.identity.delete_project(project.id)
