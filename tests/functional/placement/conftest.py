"""Helpers for placement tests: raw HTTP at a chosen microversion, and providers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.cloud import Cloud
from tests.functional.identity.conftest import (  # noqa: F401  (fixtures)
    admin,
    member_factory,
    password_token,
)

LATEST = "1.39"


def new() -> str:
    return str(uuid.uuid4())


@dataclass
class Placement:
    """Raw HTTP against /placement with a token, for status codes, headers and bodies."""

    cloud: Cloud
    token: str

    def call(self, method: str, path: str, body: Any = None, *, version: str | None = LATEST,
             token: str | None = None, params: Any = None) -> requests.Response:
        headers = {"X-Auth-Token": token or self.token}
        if version is not None:
            headers["OpenStack-API-Version"] = f"placement {version}"
        return requests.request(method, f"{self.cloud.url}/placement{path}", json=body,
                                headers=headers, params=params, timeout=60)

    def provider(self, name: str | None = None, inventories: dict[str, Any] | None = None,
                 **fields: Any) -> dict[str, Any]:
        """Make a provider (and its inventories); returns it as GET shows it."""
        r = self.call("POST", "/resource_providers",
                      {"name": name or f"rp-{new()[:8]}", **fields})
        assert r.status_code == 200, r.text
        rp: dict[str, Any] = r.json()
        if inventories:
            r = self.call("PUT", f"/resource_providers/{rp['uuid']}/inventories",
                          {"resource_provider_generation": rp["generation"],
                           "inventories": inventories})
            assert r.status_code == 200, r.text
            rp["generation"] = r.json()["resource_provider_generation"]
        return rp


def error(r: requests.Response) -> dict[str, Any]:
    """The one error of a Placement error body."""
    body = r.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1, body
    err: dict[str, Any] = body["errors"][0]
    assert set(err) == {"status", "title", "detail", "code", "request_id"}, err
    assert err["status"] == r.status_code
    return err


@pytest.fixture(scope="session")
def placement(cloud: Cloud) -> Placement:
    r = password_token(cloud, "admin", cloud.admin_password,
                       {"project": {"name": "admin", "domain": {"id": "default"}}})
    assert r.status_code == 201, r.text
    return Placement(cloud, r.headers["X-Subject-Token"])


@pytest.fixture
def cleanup(placement: Placement) -> Iterator[list[str]]:
    """Provider uuids to delete (with their allocations' consumers) after the test."""
    made: list[str] = []
    yield made
    for rp in made:
        r = placement.call("GET", f"/resource_providers/{rp}/allocations")
        for consumer in r.json().get("allocations", {}) if r.ok else {}:
            placement.call("DELETE", f"/allocations/{consumer}")
        placement.call("DELETE", f"/resource_providers/{rp}")
