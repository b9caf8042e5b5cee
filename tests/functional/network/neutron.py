"""Helpers for the networking tests: raw Neutron HTTP with one token (to read
status codes and NeutronError bodies), and users with a role on a fresh project,
each with an openstacksdk connection and a raw client."""

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
class Neutron(Verbs):
    """Raw HTTP against /network/v2.0 with one token."""

    cloud: Cloud
    token: str
    user_id: str = ""
    project_id: str = ""
    conn: Any = None  # an openstacksdk connection as the same user and project

    def call(self, method: str, path: str, body: Any = None, *,
             params: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
        sent = {"X-Auth-Token": self.token, **(headers or {})}
        return requests.request(method, f"{self.cloud.url}/network/v2.0{path}", json=body,
                                params=params, headers=sent, timeout=60)


def error(resp: requests.Response, status: int, kind: str | None = None) -> str:
    """Assert a NeutronError body with this status (and type); its message."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"NeutronError"}, body
    if kind is not None:
        assert body["NeutronError"]["type"] == kind, body
    return str(body["NeutronError"]["message"])


@pytest.fixture(scope="session")
def admin_conn(cloud: Cloud) -> Any:
    return cloud.connect("nubo-admin")


@pytest.fixture(scope="session")
def admin_neutron(cloud: Cloud, admin_conn: Any) -> Neutron:
    r = password_token(cloud, "admin", cloud.admin_password,
                       {"project": {"name": "admin", "domain": {"id": "default"}}})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    return Neutron(cloud, r.headers["X-Subject-Token"], token["user"]["id"],
                   token["project"]["id"], admin_conn)


@pytest.fixture
def make_user(cloud: Cloud, admin_conn: Any) -> Iterator[Any]:
    """``make_user(role="member", project_id=None)`` → a ``Neutron`` (with ``.conn``, an
    openstacksdk connection) for a new user with that role on a new (or given) project."""
    import openstack

    made: list[tuple[str, str]] = []

    def make(role: str = "member", project_id: str | None = None) -> Neutron:
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
        conn = openstack.connect(auth_url=cloud.auth_url, username=name, password=pw,
                                 project_id=project_id, user_domain_id="default")
        return Neutron(cloud, r.headers["X-Subject-Token"], user.id, project_id, conn)

    yield make
    for kind, ident in reversed(made):
        if kind == "user":
            admin_conn.identity.delete_user(ident, ignore_missing=True)
        else:
            admin_conn.identity.delete_project(ident, ignore_missing=True)
