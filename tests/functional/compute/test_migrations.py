"""os-migrations (admin): filters, fields per microversion (2.23 type, 2.59 uuid and
paging, 2.80 user/project), changes-since/-before; /servers/{id}/migrations (2.23)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import conftest as base
from tests.cloud import Cloud, free_port
from tests.functional.compute.nova import Nova, fault
from tests.functional.compute.servers import boot, poll, wait_status
from tests.functional.identity.conftest import password_token


@pytest.fixture
def two_migrations(member: Nova, admin_nova: Nova, image_id: str) -> dict[str, Any]:
    """A server resized (confirmed) then cold-migrated (waiting for confirmation)."""
    sid = boot(member, image_id)["id"]
    r = member.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "2"}})
    assert r.status_code == 202, r.text
    wait_status(member, sid, "VERIFY_RESIZE")
    assert member.post(f"/servers/{sid}/action", {"confirmResize": None}).status_code == 204
    wait_status(member, sid, "ACTIVE")
    assert admin_nova.post(f"/servers/{sid}/action", {"migrate": None}).status_code == 202
    wait_status(member, sid, "VERIFY_RESIZE")
    return {"server": sid}


def listed(admin: Nova, version: str, **params: Any) -> list[dict[str, Any]]:
    r = admin.get("/os-migrations", params=params, version=version)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["migrations"]
    return found


def test_fields_and_filters(two_migrations: dict[str, Any], admin_nova: Nova,
                            member: Nova) -> None:
    sid = two_migrations["server"]
    old = listed(admin_nova, "2.1", instance_uuid=sid)
    assert len(old) == 2
    assert "migration_type" not in old[0] and "uuid" not in old[0]
    assert set(old[0]) >= {"id", "instance_uuid", "status", "source_compute",
                           "dest_compute", "source_node", "dest_node", "dest_host",
                           "old_instance_type_id", "new_instance_type_id", "created_at",
                           "updated_at"}
    new = listed(admin_nova, "2.80", instance_uuid=sid)
    assert [m["migration_type"] for m in new] == ["migration", "resize"]
    assert [m["status"] for m in new] == ["finished", "confirmed"]
    assert new[1]["old_instance_type_id"] == 1 and new[1]["new_instance_type_id"] == 2
    # who started each move: the member resized, the admin migrated
    assert (new[1]["user_id"], new[1]["project_id"]) == (member.user_id, member.project_id)
    assert (new[0]["user_id"], new[0]["project_id"]) == (admin_nova.user_id,
                                                         admin_nova.project_id)
    assert [m["id"] for m in listed(admin_nova, "2.80", instance_uuid=sid,
                                    migration_type="resize")] == [new[1]["id"]]
    assert [m["id"] for m in listed(admin_nova, "2.80", instance_uuid=sid,
                                    status="finished")] == [new[0]["id"]]
    host = new[0]["dest_compute"]
    assert new[0]["id"] in {m["id"] for m in listed(admin_nova, "2.80", host=host)}
    assert listed(admin_nova, "2.80", instance_uuid=sid, user_id="nobody") == []
    assert [m["id"] for m in listed(admin_nova, "2.80", instance_uuid=sid,
                                    project_id=member.project_id)] == [new[1]["id"]]


def test_paging_and_times(two_migrations: dict[str, Any], admin_nova: Nova) -> None:
    sid = two_migrations["server"]
    first = admin_nova.get("/os-migrations", params={"instance_uuid": sid, "limit": 1},
                           version="2.59").json()
    assert len(first["migrations"]) == 1 and "migrations_links" in first
    marker = first["migrations"][0]["uuid"]
    rest = listed(admin_nova, "2.59", instance_uuid=sid, marker=marker)
    assert len(rest) == 1 and rest[0]["uuid"] != marker
    fault(admin_nova.get("/os-migrations", params={"marker": "nope"}, version="2.59"),
          400, "badRequest")
    assert listed(admin_nova, "2.59", instance_uuid=sid,
                  **{"changes-since": "2999-01-01T00:00:00Z"}) == []
    assert listed(admin_nova, "2.66", instance_uuid=sid,
                  **{"changes-before": "2000-01-01T00:00:00Z"}) == []
    fault(admin_nova.get("/os-migrations", version="2.66",
                         params={"changes-since": "2020-01-02T00:00:00Z",
                                 "changes-before": "2020-01-01T00:00:00Z"}),
          400, "badRequest")


def test_server_migrations_and_policy(two_migrations: dict[str, Any], admin_nova: Nova,
                                      member: Nova,
                                      make_user: Callable[..., Nova]) -> None:
    sid = two_migrations["server"]
    # no live migration is in progress: the cold ones are not listed here
    r = admin_nova.get(f"/servers/{sid}/migrations", version="2.23")
    assert r.status_code == 200 and r.json() == {"migrations": []}
    assert admin_nova.get(f"/servers/{sid}/migrations", version="2.22").status_code == 404
    fault(admin_nova.get(f"/servers/{sid}/migrations/1", version="2.23"), 404,
          "itemNotFound")
    fault(member.get("/os-migrations"), 403, "forbidden")
    fault(member.get(f"/servers/{sid}/migrations", version="2.23"), 403, "forbidden")
    other = make_user("member")
    fault(other.get(f"/servers/{sid}/migrations", version="2.23"), 404, "itemNotFound")


# ----------------------------- in-progress live migrations (a slow fake driver)


@pytest.fixture(scope="module")
def slow_cloud() -> Iterator[Cloud]:
    """Two fake hosts whose live migrations take 3 seconds."""
    with tempfile.TemporaryDirectory(prefix="nubo-test-slowlive-") as tmp:
        state = Path(tmp) / "state"
        env = {**base.test_env(), "NUBO_COMPUTE__FAKE_DELAYS":
               '{"spawn": 0.02, "destroy": 0.01, "live_migration": 3}'}
        cloud = Cloud(state, free_port(), f"sqlite:///{state / 'nubo.db'}", env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()


@pytest.fixture(scope="module")
def slow_admin(slow_cloud: Cloud) -> tuple[Nova, str]:
    r = password_token(slow_cloud, "admin", slow_cloud.admin_password,
                       {"project": {"name": "admin", "domain": {"id": "default"}}})
    admin = Nova(slow_cloud, r.headers["X-Subject-Token"])
    conn: Any = slow_cloud.connect("nubo-admin")
    image = conn.image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                    visibility="public", data=io.BytesIO(b"\0" * 1024))
    conn.image.wait_for_status(image, "active", wait=30)
    return admin, str(image.id)


def _start_live(admin: Nova, image: str) -> tuple[str, str, dict[str, Any]]:
    sid = boot(admin, image)["id"]
    host = admin.get(f"/servers/{sid}").json()["server"]["OS-EXT-SRV-ATTR:host"]
    r = admin.post(f"/servers/{sid}/action",
                   {"os-migrateLive": {"host": None, "block_migration": "auto"}},
                   version="2.90")
    assert r.status_code == 202, r.text
    r = admin.get(f"/servers/{sid}/migrations", version="2.80")
    assert r.status_code == 200, r.text
    (mig,) = r.json()["migrations"]
    return sid, host, mig


def test_in_progress_listed_and_force_complete(slow_admin: tuple[Nova, str]) -> None:
    admin, image = slow_admin
    sid, host, mig = _start_live(admin, image)
    assert mig["server_uuid"] == sid and mig["status"] == "running"
    assert mig["source_compute"] == host and "uuid" in mig and "user_id" in mig
    shown = admin.get(f"/servers/{sid}/migrations/{mig['id']}", version="2.23").json()
    assert shown["migration"]["id"] == mig["id"]
    listed = admin.get("/os-migrations", params={"instance_uuid": sid},
                       version="2.23").json()["migrations"]
    assert listed[0]["links"][0]["href"].endswith(f"/servers/{sid}/migrations/{mig['id']}")
    assert admin.get(f"/servers/{sid}").json()["server"]["status"] == "MIGRATING"
    r = admin.post(f"/servers/{sid}/migrations/{mig['id']}/action",
                   {"force_complete": None}, version="2.22")
    assert r.status_code == 202, r.text
    fault(admin.post(f"/servers/{sid}/migrations/{mig['id']}/action",
                     {"force_complete": None}, version="2.21"), 404, "itemNotFound")
    poll(lambda: admin.get(f"/servers/{sid}/migrations", version="2.23")
         .json()["migrations"] == [], timeout=20, what="migration done")
    server = admin.get(f"/servers/{sid}").json()["server"]
    assert server["OS-EXT-SRV-ATTR:host"] != host and server["status"] == "ACTIVE"
    fault(admin.post(f"/servers/{sid}/migrations/{mig['id']}/action",
                     {"force_complete": None}, version="2.22"), 404, "itemNotFound")


def test_abort_keeps_server_at_source(slow_admin: tuple[Nova, str]) -> None:
    admin, image = slow_admin
    sid, host, mig = _start_live(admin, image)
    r = admin.delete(f"/servers/{sid}/migrations/{mig['id']}", version="2.24")
    assert r.status_code == 202, r.text
    poll(lambda: admin.get(f"/servers/{sid}").json()["server"]["OS-EXT-STS:task_state"]
         is None, timeout=20, what="abort settled")
    server = admin.get(f"/servers/{sid}").json()["server"]
    assert server["OS-EXT-SRV-ATTR:host"] == host and server["status"] == "ACTIVE"
    found = admin.get("/os-migrations", params={"instance_uuid": sid},
                      version="2.59").json()["migrations"]
    assert found[0]["status"] == "cancelled"
    r = requests.get(f"{admin.cloud.url}/placement/allocations/{sid}",
                     headers={"X-Auth-Token": admin.token}, timeout=30)
    assert len(r.json()["allocations"]) == 1
    fault(admin.delete(f"/servers/{sid}/migrations/{mig['id']}", version="2.24"), 404,
          "itemNotFound")
