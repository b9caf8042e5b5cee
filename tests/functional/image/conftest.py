"""Helpers for image tests: projects with users in given roles, raw HTTP on
/image, and small disk images made with qemu-img."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cloud import Cloud

PATCH = "application/openstack-images-v2.1-json-patch"


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Caller:
    """Someone with a token, calling /image/v2 over raw HTTP."""

    cloud: Cloud
    token: str
    project_id: str
    user_id: str = ""
    name: str = ""
    password: str = ""

    def call(self, method: str, path: str, body: Any = None, *,
             headers: dict[str, str] | None = None, data: Any = None,
             stream: bool = False) -> requests.Response:
        h = {"X-Auth-Token": self.token, **(headers or {})}
        return requests.request(method, f"{self.cloud.url}/image/v2{path}", json=body,
                                data=data, headers=h, timeout=120, stream=stream)

    def create(self, **body: Any) -> dict[str, Any]:
        body.setdefault("name", unique("img"))
        body.setdefault("disk_format", "raw")
        body.setdefault("container_format", "bare")
        r = self.call("POST", "/images", body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def upload(self, image_id: str, data: Any) -> requests.Response:
        return self.call("PUT", f"/images/{image_id}/file", data=data,
                         headers={"Content-Type": "application/octet-stream"})

    def patch(self, image_id: str, ops: list[dict[str, Any]],
              media_type: str = PATCH) -> requests.Response:
        return self.call("PATCH", f"/images/{image_id}", ops,
                         headers={"Content-Type": media_type})

    def show(self, image_id: str) -> dict[str, Any]:
        r = self.call("GET", f"/images/{image_id}")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


def token_for(cloud: Cloud, user: str, password: str, project_id: str) -> str:
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"id": project_id}}}
    r = requests.post(f"{cloud.auth_url}/v3/auth/tokens", json={"auth": auth}, timeout=30)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


@pytest.fixture(scope="session")
def admin_conn(cloud: Cloud) -> Any:
    return cloud.connect("nubo-admin")


@pytest.fixture(scope="session")
def admin(cloud: Cloud, admin_conn: Any) -> Caller:
    project = admin_conn.identity.find_project("admin")
    user = admin_conn.identity.find_user("admin")
    return Caller(cloud, token_for(cloud, "admin", cloud.admin_password, project.id),
                  project.id, user.id, "admin", cloud.admin_password)


@pytest.fixture(scope="session")
def make_caller(cloud: Cloud, admin_conn: Any) -> Iterator[Any]:
    """Make a user with ``role`` on a fresh (or given) project; returns a Caller."""

    def make(role: str = "member", project_id: str | None = None) -> Caller:
        if project_id is None:
            project_id = admin_conn.identity.create_project(
                name=unique("p"), domain_id="default").id
        name, password = unique("u"), uuid.uuid4().hex
        user = admin_conn.identity.create_user(name=name, password=password,
                                               domain_id="default")
        role_obj = admin_conn.identity.find_role(role)
        admin_conn.identity.assign_project_role_to_user(project_id, user.id, role_obj.id)
        return Caller(cloud, token_for(cloud, name, password, project_id), project_id,
                      user.id, name, password)

    yield make


@pytest.fixture(scope="session")
def alice(make_caller: Any) -> Caller:
    caller: Caller = make_caller("member")
    return caller


@pytest.fixture(scope="session")
def bob(make_caller: Any) -> Caller:
    caller: Caller = make_caller("member")
    return caller


def qemu_img(tmp: Path, name: str, fmt: str, size: str = "1M", *extra: str) -> Path:
    path = tmp / name
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, *extra, str(path), size],
                   check=True)
    return path
