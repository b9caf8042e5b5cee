"""Per-project quotas, on a cloud of their own with small limits (SQLite only:
the rules do not depend on the database)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import conftest as base
from tests.cloud import Cloud, free_port
from tests.functional.image.conftest import Caller, token_for, unique


@pytest.fixture(scope="module")
def small_cloud() -> Iterator[Cloud]:
    with tempfile.TemporaryDirectory(prefix="nubo-test-quota-") as tmp:
        state = Path(tmp) / "state"
        env = {**base.test_env(), "NUBO_IMAGE__IMAGE_COUNT_TOTAL": "3",
               "NUBO_IMAGE__IMAGE_SIZE_TOTAL": "1", "NUBO_IMAGE__IMAGE_STAGE_TOTAL": "1",
               "NUBO_IMAGE__IMAGE_COUNT_UPLOADING": "1"}
        cloud = Cloud(state, free_port(), f"sqlite:///{state / 'nubo.db'}", env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()


@pytest.fixture(scope="module")
def member(small_cloud: Cloud) -> Caller:
    conn: Any = small_cloud.connect("nubo-admin")
    project = conn.identity.create_project(name=unique("p"), domain_id="default")
    name, password = unique("u"), "pw-" + unique()
    user = conn.identity.create_user(name=name, password=password, domain_id="default")
    conn.identity.assign_project_role_to_user(project, user, conn.identity.find_role("member"))
    return Caller(small_cloud, token_for(small_cloud, name, password, project.id), project.id)


def test_size_and_stage_quotas(member: Caller) -> None:
    mib = 1024 * 1024
    first = member.create()["id"]
    r = member.upload(first, b"\0" * (mib + 1))  # announced by Content-Length
    assert r.status_code == 413, r.text
    assert "image_size_total" in r.json()["message"]
    assert member.show(first)["status"] == "queued"
    r = member.upload(first, iter([b"\0" * mib, b"\0"]))  # chunked: cut off mid-stream
    assert r.status_code == 413, r.text
    assert member.show(first)["status"] == "queued"
    assert member.upload(first, b"\0" * mib).status_code == 204
    second = member.create()["id"]
    r = member.upload(second, b"\0" * 10)
    assert r.status_code == 413
    r = member.call("PUT", f"/images/{second}/stage", data=b"\0" * (mib + 1),
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 413
    assert "image_stage_total" in r.json()["message"]
    assert member.show(second)["status"] == "queued"


def test_count_quota(member: Caller) -> None:
    r = member.call("GET", "/images")
    have = len(r.json()["images"])
    for _ in range(3 - have):
        member.create()
    r = member.call("POST", "/images", {"name": "one too many"})
    assert r.status_code == 413
    assert "image_count_total" in r.json()["message"]


def test_usage_reports_limits_and_usage(member: Caller) -> None:
    usage = member.call("GET", "/info/usage").json()["usage"]
    assert set(usage) == {"image_size_total", "image_stage_total", "image_count_total",
                          "image_count_uploading"}
    assert usage["image_count_total"]["limit"] == 3
    images = member.call("GET", "/images").json()["images"]
    assert usage["image_count_total"]["usage"] == len(images)
    assert usage["image_size_total"] == {
        "limit": 1, "usage": -(-sum(i["size"] or 0 for i in images) // (1024 * 1024))}
    assert usage["image_count_uploading"]["usage"] == 0
