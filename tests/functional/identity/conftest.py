"""Helpers for identity tests: make users, projects and role grants quickly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.cloud import Cloud


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Api:
    """Raw HTTP against /identity/v3 with a token, for what the SDK hides
    (status codes, headers, error bodies)."""

    cloud: Cloud
    token: str

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             headers: dict[str, str] | None = None, data: bytes | None = None
             ) -> requests.Response:
        h = {"X-Auth-Token": token if token is not None else self.token}
        if token == "":
            h.pop("X-Auth-Token")
        h.update(headers or {})
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        return requests.request(method, f"{self.cloud.auth_url}/v3{path}", json=body,
                                data=data, headers=h, timeout=30)


def password_token(cloud: Cloud, user: str, password: str, scope: dict[str, Any] | None = None,
                   *, domain: str = "default") -> requests.Response:
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": {"id": domain}, "password": password}}}}
    if scope is not None:
        auth["scope"] = scope
    return requests.post(f"{cloud.auth_url}/v3/auth/tokens", json={"auth": auth}, timeout=30)


@pytest.fixture(scope="session")
def admin(cloud: Cloud) -> Any:
    return cloud.connect("nubo-admin")


@pytest.fixture(scope="session")
def admin_api(cloud: Cloud) -> Api:
    r = password_token(cloud, "admin", cloud.admin_password,
                       {"project": {"name": "admin", "domain": {"id": "default"}}})
    assert r.status_code == 201, r.text
    return Api(cloud, r.headers["X-Subject-Token"])


@dataclass
class Member:
    user_id: str
    name: str
    password: str
    project_id: str
    token: str


@pytest.fixture
def member_factory(cloud: Cloud, admin: Any) -> Iterator[Any]:
    """Make a user with a role on a fresh project; returns a Member with a token."""
    made: list[tuple[str, str]] = []

    def make(role: str = "member", project_id: str | None = None,
             domain_id: str = "default") -> Member:
        if project_id is None:
            project = admin.identity.create_project(name=unique("p"), domain_id=domain_id)
            project_id = project.id
            made.append(("project", project.id))
        name, pw = unique("u"), unique("pw")
        user = admin.identity.create_user(name=name, password=pw, domain_id=domain_id)
        made.append(("user", user.id))
        role_id = admin.identity.find_role(role).id
        admin.identity.assign_project_role_to_user(project_id, user.id, role_id)
        r = password_token(cloud, name, pw, {"project": {"id": project_id}}, domain=domain_id)
        assert r.status_code == 201, r.text
        return Member(user.id, name, pw, project_id, r.headers["X-Subject-Token"])

    yield make
    for kind, ident in reversed(made):
        if kind == "user":
            admin.identity.delete_user(ident, ignore_missing=True)
        else:
            admin.identity.delete_project(ident, ignore_missing=True)
