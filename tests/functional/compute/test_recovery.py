"""Crash recovery: ``kill -9`` the all-in-one while servers build and delete, start
it again, and every server converges (ACTIVE, ERROR with a fault, or gone) with
placement usage and quota usage matching the servers that are left."""

from __future__ import annotations

import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import conftest as root
from tests.cloud import Cloud, free_port
from tests.databases import database
from tests.functional.compute.servers import poll, server_body

SLOW = '{"spawn": 1.5, "destroy": 1.5}'
FAST = '{"spawn": 0.02, "destroy": 0.01}'


@pytest.fixture(params=root.SELECTED)
def crashing_cloud(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    with tempfile.TemporaryDirectory(prefix="nubo-recovery-") as tmp:
        try:
            ctx = database(request.param, tmp)
            url = ctx.__enter__()
        except RuntimeError as e:
            pytest.skip(str(e))
        env = {**root.test_env(), "NUBO_COMPUTE__FAKE_DELAYS": SLOW}
        c = Cloud(Path(tmp) / "state", free_port(), url, env=env)
        try:
            c.start()
            yield c
        finally:
            c.stop()
            ctx.__exit__(None, None, None)


class Api:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.conn = cloud.connect("nubo-admin")

    def call(self, method: str, path: str, body: Any = None, *, service: str = "compute/v2.1",
             version: str = "compute 2.53") -> requests.Response:
        headers = {"X-Auth-Token": self.conn.auth_token, "OpenStack-API-Version": version}
        return requests.request(method, f"{self.cloud.url}/{service}{path}", json=body,
                                headers=headers, timeout=30)

    def server(self, uuid: str) -> dict[str, Any] | None:
        r = self.call("GET", f"/servers/{uuid}")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        server: dict[str, Any] = r.json()["server"]
        return server


def _boot(api: Api, image: str) -> str:
    r = api.call("POST", "/servers", server_body(image))
    assert r.status_code == 202, r.text
    return str(r.json()["server"]["id"])


def _placement_used(api: Api) -> dict[str, int]:
    total: dict[str, int] = {}
    for h in api.call("GET", "/os-hypervisors").json()["hypervisors"]:
        r = api.call("GET", f"/resource_providers/{h['id']}/usages", service="placement",
                     version="placement 1.9")
        assert r.status_code == 200, r.text
        for rc, n in r.json()["usages"].items():
            total[rc] = total.get(rc, 0) + n
    return total


def test_kill_during_builds_and_deletes_then_converge(crashing_cloud: Cloud) -> None:
    cloud = crashing_cloud
    api = Api(cloud)
    image = api.conn.image.create_image(name="tiny", disk_format="raw",
                                        container_format="bare", data=b"\0" * 4096)
    api.conn.image.wait_for_status(image, "active", wait=30)
    doomed = _boot(api, image.id)
    poll(lambda: (api.server(doomed) or {}).get("status") == "ACTIVE", timeout=30,
         what="first server ACTIVE")
    building = [_boot(api, image.id) for _ in range(3)]
    assert api.call("DELETE", f"/servers/{doomed}").status_code == 204
    poll(lambda: all((api.server(u) or {}).get("OS-EXT-STS:task_state") == "spawning"
                     for u in building[:1]), timeout=10, what="a spawn under way")
    time.sleep(0.2)          # inside the 1.5 s fake spawn and destroy windows
    cloud.stop(signal.SIGKILL)

    cloud.env["NUBO_COMPUTE__FAKE_DELAYS"] = FAST
    cloud.start()
    api = Api(cloud)

    def settled() -> bool:
        if api.server(doomed) is not None:
            return False
        return all((api.server(u) or {}).get("status") in ("ACTIVE", "ERROR")
                   for u in building)

    poll(settled, timeout=60, what="servers to settle after the restart")
    live = [s for s in (api.server(u) for u in building) if s is not None]
    for server in live:
        if server["status"] == "ERROR":
            assert server["fault"]["message"]
    active = [s for s in live if s["status"] == "ACTIVE"]
    assert len(active) == 3, [(s["status"], s.get("fault")) for s in live]
    usage = _placement_used(api)
    assert usage.get("VCPU", 0) == len(active) * 1
    assert usage.get("MEMORY_MB", 0) == len(active) * 512
    limits = api.call("GET", "/limits").json()["limits"]["absolute"]
    assert limits["totalInstancesUsed"] == len(live)
