"""Helpers for the compute resource tests: raw Nova HTTP with microversions, and
users with a role on a fresh project. Test modules import the fixtures they use."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.cloud import Cloud
from tests.functional.identity.conftest import password_token
from tests.functional.raw import Verbs


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Nova(Verbs):
    """Raw HTTP against /compute/v2.1 with one token."""

    cloud: Cloud
    token: str
    user_id: str = ""
    project_id: str = ""

    def call(self, method: str, path: str, body: Any = None, *, version: str | None = None,
             params: dict[str, Any] | None = None) -> requests.Response:
        headers = {"X-Auth-Token": self.token}
        if version:
            headers["OpenStack-API-Version"] = f"compute {version}"
        return requests.request(method, f"{self.cloud.url}/compute/v2.1{path}", json=body,
                                params=params, headers=headers, timeout=60)


def fault(resp: requests.Response, status: int, key: str) -> str:
    """Assert a Nova fault body and return its message."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert key in body, body
    assert body[key]["code"] == status
    return str(body[key]["message"])


@pytest.fixture(scope="session")
def admin_conn(cloud: Cloud) -> Any:
    return cloud.connect("nubo-admin")


@pytest.fixture(scope="session")
def admin_nova(cloud: Cloud) -> Nova:
    r = password_token(cloud, "admin", cloud.admin_password,
                       {"project": {"name": "admin", "domain": {"id": "default"}}})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    return Nova(cloud, r.headers["X-Subject-Token"], token["user"]["id"],
                token["project"]["id"])


@pytest.fixture
def make_user(cloud: Cloud, admin_conn: Any) -> Iterator[Any]:
    """``make_user(role="member", project_id=None)`` → a Nova client for a new user
    with that role on a new (or the given) project."""
    made: list[tuple[str, str]] = []

    def make(role: str = "member", project_id: str | None = None) -> Nova:
        if project_id is None:
            project_id = admin_conn.identity.create_project(name=unique("p"),
                                                            domain_id="default").id
            made.append(("project", project_id))
        name, pw = unique("u"), unique("pw")
        user = admin_conn.identity.create_user(name=name, password=pw, domain_id="default")
        made.append(("user", user.id))
        role_id = admin_conn.identity.find_role(role).id
        admin_conn.identity.assign_project_role_to_user(project_id, user.id, role_id)
        r = password_token(cloud, name, pw, {"project": {"id": project_id}})
        assert r.status_code == 201, r.text
        return Nova(cloud, r.headers["X-Subject-Token"], user.id, project_id)

    yield make
    for kind, ident in reversed(made):
        if kind == "user":
            admin_conn.identity.delete_user(ident, ignore_missing=True)
        else:
            admin_conn.identity.delete_project(ident, ignore_missing=True)
