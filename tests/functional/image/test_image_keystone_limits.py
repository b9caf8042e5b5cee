"""Quotas read from identity's unified limits (``[image] use_keystone_limits``), on
a cloud of their own (SQLite only: the rules do not depend on the database)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import conftest as base
from tests.cloud import Cloud, free_port
from tests.functional.image.conftest import Caller, token_for, unique


@pytest.fixture(scope="module")
def limits_cloud() -> Iterator[Cloud]:
    with tempfile.TemporaryDirectory(prefix="nubo-test-limits-") as tmp:
        state = Path(tmp) / "state"
        env = {**base.test_env(), "NUBO_IMAGE__USE_KEYSTONE_LIMITS": "true",
               "NUBO_IMAGE__IMAGE_COUNT_TOTAL": "0"}  # ignored: identity decides
        cloud = Cloud(state, free_port(), f"sqlite:///{state / 'nubo.db'}", env=env)
        try:
            cloud.start()
            yield cloud
        finally:
            cloud.stop()


def _member(cloud: Cloud, conn: Any) -> Caller:
    project = conn.identity.create_project(name=unique("p"), domain_id="default")
    name, password = unique("u"), "pw-" + unique()
    user = conn.identity.create_user(name=name, password=password, domain_id="default")
    conn.identity.assign_project_role_to_user(project, user, conn.identity.find_role("member"))
    return Caller(cloud, token_for(cloud, name, password, project.id), project.id)


def test_registered_default_and_project_limit(limits_cloud: Cloud) -> None:
    conn: Any = limits_cloud.connect("nubo-admin")
    admin_token = conn.session.get_token()
    service = next(s for s in conn.identity.services() if s.type == "image")
    limited, raised = _member(limits_cloud, conn), _member(limits_cloud, conn)
    # before any limit is registered: unlimited, whatever [image] says
    limited.create()
    url = f"{limits_cloud.auth_url}/v3"
    headers = {"X-Auth-Token": admin_token}
    r = requests.post(f"{url}/registered_limits", headers=headers, timeout=30, json={
        "registered_limits": [{"service_id": service.id, "resource_name": "image_count_total",
                               "default_limit": 1}]})
    assert r.status_code == 201, r.text
    r = requests.post(f"{url}/limits", headers=headers, timeout=30, json={"limits": [{
        "service_id": service.id, "project_id": raised.project_id,
        "resource_name": "image_count_total", "resource_limit": 2}]})
    assert r.status_code == 201, r.text
    r = limited.call("POST", "/images", {"name": "second"})
    assert r.status_code == 413
    assert "image_count_total" in r.json()["message"]
    raised.create()
    raised.create()
    assert raised.call("POST", "/images", {"name": "third"}).status_code == 413
