"""A token revoked through one API process is refused at once by the other: right
after the revoking request's answer, with no waiting, for identity and for another
service's API in that process. Each kind of revocation the issue names is tried in
both directions, several times, so a process that waited for the bus would be caught.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from nubo.core.bus import Envelope, make_bus
from tests.cloud import Cloud
from tests.integration.identity.conftest import Pair

ROUNDS = 3


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _call(cloud: Cloud, method: str, path: str, token: str, body: Any = None,
          headers: dict[str, str] | None = None) -> requests.Response:
    return requests.request(method, f"{cloud.url}{path}", json=body, timeout=30,
                            headers={"X-Auth-Token": token, **(headers or {})})


def _token(cloud: Cloud, name: str, password: str, scope: dict[str, Any]) -> str:
    r = requests.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {
            "user": {"name": name, "domain": {"id": "default"}, "password": password}}},
        "scope": scope}})
    assert r.status_code == 201, r.text
    return str(r.headers["X-Subject-Token"])


def _admin_token(cloud: Cloud) -> str:
    return _token(cloud, "admin", cloud.admin_password,
                  {"project": {"name": "admin", "domain": {"id": "default"}}})


@dataclass
class Subject:
    """A user with the member role on a project of its own (directly or through a
    group), and a project-scoped token."""

    user_id: str
    name: str
    password: str
    project_id: str
    group_id: str | None
    token: str = ""


def _subject(cloud: Cloud, admin: str, *, through_group: bool) -> Subject:
    v3 = "/identity/v3"
    project = _call(cloud, "POST", f"{v3}/projects", admin,
                    {"project": {"name": _unique("p"), "domain_id": "default"}})
    user_name, password = _unique("u"), _unique("pw")
    user = _call(cloud, "POST", f"{v3}/users", admin, {"user": {
        "name": user_name, "password": password, "domain_id": "default"}})
    assert project.status_code == user.status_code == 201, (project.text, user.text)
    pid, uid = project.json()["project"]["id"], user.json()["user"]["id"]
    role = _call(cloud, "GET", f"{v3}/roles?name=member", admin).json()["roles"][0]["id"]
    group_id = None
    if through_group:
        group = _call(cloud, "POST", f"{v3}/groups", admin,
                      {"group": {"name": _unique("g"), "domain_id": "default"}})
        group_id = group.json()["group"]["id"]
        assert _call(cloud, "PUT", f"{v3}/groups/{group_id}/users/{uid}", admin
                     ).status_code == 204
        grant = f"{v3}/projects/{pid}/groups/{group_id}/roles/{role}"
    else:
        grant = f"{v3}/projects/{pid}/users/{uid}/roles/{role}"
    assert _call(cloud, "PUT", grant, admin).status_code == 204
    return Subject(uid, user_name, password, pid, group_id)


def _revoke_token(cloud: Cloud, admin: str, s: Subject) -> requests.Response:
    return _call(cloud, "DELETE", "/identity/v3/auth/tokens", admin,
                 headers={"X-Subject-Token": s.token})


def _disable_user(cloud: Cloud, admin: str, s: Subject) -> requests.Response:
    return _call(cloud, "PATCH", f"/identity/v3/users/{s.user_id}", admin,
                 {"user": {"enabled": False}})


def _change_password(cloud: Cloud, _admin: str, s: Subject) -> requests.Response:
    return requests.post(f"{cloud.auth_url}/v3/users/{s.user_id}/password", timeout=30,
                         json={"user": {"original_password": s.password,
                                        "password": s.password + "-new"}})


def _role_id(cloud: Cloud, admin: str) -> str:
    roles = _call(cloud, "GET", "/identity/v3/roles?name=member", admin).json()["roles"]
    return str(roles[0]["id"])


def _remove_role(cloud: Cloud, admin: str, s: Subject) -> requests.Response:
    path = f"/identity/v3/projects/{s.project_id}/users/{s.user_id}/roles/"
    return _call(cloud, "DELETE", path + _role_id(cloud, admin), admin)


def _remove_group_role(cloud: Cloud, admin: str, s: Subject) -> requests.Response:
    path = f"/identity/v3/projects/{s.project_id}/groups/{s.group_id}/roles/"
    return _call(cloud, "DELETE", path + _role_id(cloud, admin), admin)


def _leave_group(cloud: Cloud, admin: str, s: Subject) -> requests.Response:
    return _call(cloud, "DELETE", f"/identity/v3/groups/{s.group_id}/users/{s.user_id}", admin)


Revocation = Callable[[Cloud, str, Subject], requests.Response]
KINDS: dict[str, tuple[Revocation, bool]] = {
    "token delete": (_revoke_token, False),
    "user disable": (_disable_user, False),
    "password change": (_change_password, False),
    "role removal": (_remove_role, False),
    "group role removal": (_remove_group_role, True),
    "group membership removal": (_leave_group, True),
}


def _accepted(cloud: Cloud, token: str) -> list[int]:
    """Statuses of an identity call and a placement call with ``token`` (placement's
    is for admins: 403 while the token is good, 401 once it is not)."""
    return [_call(cloud, "GET", "/identity/v3/auth/projects", token).status_code,
            _call(cloud, "GET", "/placement/resource_providers", token,
                  headers={"OpenStack-API-Version": "placement 1.10"}).status_code]


@pytest.mark.parametrize("kind", list(KINDS))
def test_revocation_is_refused_at_once_by_the_other_process(pair: Pair, kind: str) -> None:
    revoke, through_group = KINDS[kind]
    for writer, checker in [(pair.a, pair.b), (pair.b, pair.a)] * ROUNDS:
        admin = _admin_token(writer)
        s = _subject(writer, admin, through_group=through_group)
        s.token = _token(checker, s.name, s.password, {"project": {"id": s.project_id}})
        # the checker has validated (and cached) the token before the revocation
        assert _accepted(checker, s.token) == [200, 403]
        assert _accepted(writer, s.token) == [200, 403]
        done = revoke(writer, admin, s)
        assert done.status_code in (200, 204), done.text
        assert _accepted(checker, s.token) == [401, 401], f"{kind}: {writer.url} -> {checker.url}"
        assert _accepted(writer, s.token) == [401, 401]
        subject = _call(checker, "GET", "/identity/v3/auth/tokens", _admin_token(checker),
                        headers={"X-Subject-Token": s.token})
        assert subject.status_code == 404


def test_tokens_issued_by_one_process_are_valid_at_the_other(pair: Pair) -> None:
    admin_a = _admin_token(pair.a)
    r = _call(pair.b, "GET", "/identity/v3/auth/tokens", admin_a,
              headers={"X-Subject-Token": admin_a})
    assert r.status_code == 200
    assert r.json()["token"]["project"]["name"] == "admin"


async def test_audit_records_reach_the_bus_from_every_process(pair: Pair) -> None:
    got: list[Envelope] = []
    bus = make_bus(pair.bus_url)
    await bus.start()
    try:
        async def collect(env: Envelope) -> None:
            got.append(env)

        await bus.subscribe("audit.identity.#", collect)
        made = {}
        for cloud in (pair.a, pair.b):
            admin = await asyncio.to_thread(_admin_token, cloud)
            r = await asyncio.to_thread(_call, cloud, "POST", "/identity/v3/projects", admin,
                                        {"project": {"name": _unique("audited")}})
            assert r.status_code == 201, r.text
            made[r.headers["x-openstack-request-id"]] = r.json()["project"]["id"]
        for _ in range(100):
            if set(made) <= {e.request_id for e in got}:
                break
            await asyncio.sleep(0.05)
    finally:
        await bus.close()
    by_request = {e.request_id: e for e in got}
    for request_id, project_id in made.items():
        env = by_request[request_id]
        assert env.topic == "audit.identity.create"
        assert env.payload["target"] == {"typeURI": "service/identity/project",
                                         "id": project_id}
        assert env.payload["outcome"] == "success"
