"""What the API benchmarks share: the admin's token and a fresh member of a fresh
project to run as."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Member:
    project_id: str
    user_id: str
    password: str
    suffix: str               # in the project's and the user's names


async def admin_token(http: httpx.AsyncClient, password: str) -> str:
    r = await http.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    r.raise_for_status()
    return r.headers["X-Subject-Token"]


async def new_member(admin: httpx.AsyncClient) -> Member:
    """A project ``bench-<suffix>`` and a user with the member role on it (``admin``
    carries the admin's token)."""
    suffix = uuid.uuid4().hex[:6]
    project = (await admin.post("/identity/v3/projects", json={"project": {
        "name": f"bench-{suffix}", "domain_id": "default"}})).json()["project"]["id"]
    password = uuid.uuid4().hex
    user = (await admin.post("/identity/v3/users", json={"user": {
        "name": f"bench-{suffix}", "password": password, "domain_id": "default"}})
            ).json()["user"]["id"]
    role = (await admin.get("/identity/v3/roles", params={"name": "member"})
            ).json()["roles"][0]["id"]
    await admin.put(f"/identity/v3/projects/{project}/users/{user}/roles/{role}")
    return Member(project, user, password, suffix)


async def member_token(http: httpx.AsyncClient, member: Member) -> str:
    r = await http.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "id": member.user_id, "password": member.password}}},
        "scope": {"project": {"id": member.project_id}}}})
    r.raise_for_status()
    return r.headers["X-Subject-Token"]
