"""Clouds of their own, one per back end, with settings the shared test cloud does
not have (slow moves, soft delete, periodic shelve offload), and the few helpers
their tests share: admin and member clients, a bootable image, placement usage.

A module uses one by defining a module-scoped fixture::

    @pytest.fixture(scope="module", params=root.SELECTED)
    def tuned(request):
        with tuned_cloud(request.param, {"NUBO_COMPUTE__...": "..."}) as cloud:
            yield cloud
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import conftest as root
from tests.cloud import Cloud, free_port
from tests.databases import database
from tests.functional.compute.nova import Nova, unique
from tests.functional.identity.conftest import password_token


@contextmanager
def tuned_cloud(backend: str, env: dict[str, str]) -> Iterator[Cloud]:
    """A live nubo on ``backend`` with the shared test settings plus ``env``; the
    test skips when the back end's server is not reachable."""
    with tempfile.TemporaryDirectory(prefix=f"nubo-tuned-{backend}-") as tmp:
        try:
            ctx = database(backend, tmp)
            url = ctx.__enter__()
        except RuntimeError as e:
            pytest.skip(str(e))
        cloud = Cloud(Path(tmp) / "state", free_port(), url, env={**root.test_env(), **env})
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()
            ctx.__exit__(None, None, None)


def admin_of(cloud: Cloud) -> Nova:
    r = password_token(cloud, "admin", cloud.admin_password,
                       {"project": {"name": "admin", "domain": {"id": "default"}}})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    return Nova(cloud, r.headers["X-Subject-Token"], token["user"]["id"],
                token["project"]["id"])


def new_user(cloud: Cloud, role: str = "member", project_id: str | None = None) -> Nova:
    """A user with ``role`` on a new (or the given) project; the cloud is thrown
    away after its module, so nothing is cleaned up."""
    conn: Any = cloud.connect("nubo-admin")
    if project_id is None:
        project_id = conn.identity.create_project(name=unique("p"), domain_id="default").id
    name, password = unique("u"), unique("pw")
    user = conn.identity.create_user(name=name, password=password, domain_id="default")
    conn.identity.assign_project_role_to_user(project_id, user.id,
                                              conn.identity.find_role(role).id)
    r = password_token(cloud, name, password, {"project": {"id": project_id}})
    assert r.status_code == 201, r.text
    return Nova(cloud, r.headers["X-Subject-Token"], user.id, str(project_id))


def tiny_image(cloud: Cloud) -> str:
    """A 1 MiB raw community image every project may boot."""
    conn: Any = cloud.connect("nubo-admin")
    image = conn.image.create_image(name=f"tiny-{uuid.uuid4().hex[:6]}", disk_format="raw",
                                    container_format="bare", visibility="community",
                                    data=io.BytesIO(b"\0" * 1024 * 1024))
    conn.image.wait_for_status(image, "active", wait=30)
    return str(image.id)


def placement_usage(admin: Nova) -> dict[str, int]:
    """Resources used over every compute node's provider (placement's own usages)."""
    total: dict[str, int] = {}
    for h in admin.get("/os-hypervisors", version="2.53").json()["hypervisors"]:
        r = requests.get(f"{admin.cloud.url}/placement/resource_providers/{h['id']}/usages",
                         headers={"X-Auth-Token": admin.token}, timeout=30)
        assert r.status_code == 200, r.text
        for rc, n in r.json()["usages"].items():
            total[rc] = total.get(rc, 0) + int(n)
    return {rc: n for rc, n in total.items() if n}


def quota_used(nova: Nova) -> dict[str, int]:
    """The caller's instances, cores and RAM in use (``/limits``)."""
    absolute = nova.get("/limits").json()["limits"]["absolute"]
    return {"instances": absolute["totalInstancesUsed"], "cores": absolute["totalCoresUsed"],
            "ram": absolute["totalRAMUsed"]}


def domains_on(cloud: Cloud, host: str) -> set[str]:
    """The guests a fake hypervisor has (its domain files), for tests that check no
    guest is left behind on a host the API no longer shows."""
    return {f.stem for f in (cloud.state_dir / "fake-hosts" / host).glob("*.json")}
