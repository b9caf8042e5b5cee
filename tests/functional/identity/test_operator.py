"""The operator's side of the all-in-one cloud, as a newcomer uses it: ``nubo up`` in
the background on a state dir of its own, ``nubo status``, ``nubo down``, the files it
writes (clouds.yaml, openrc), a restart that finds everything as it was, Fernet key
rotation under a running cloud, and the settings that shape tokens, policy and logs."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.cloud import ROOT, free_port

EXPIRATION = 900


@dataclass
class Operator:
    """A cloud started the way the README says, driven with the ``nubo`` command."""

    state: Path
    port: int
    env: dict[str, str]

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/identity"

    def nubo(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "nubo.cli.main", "--state-dir", str(self.state), *args],
            env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"nubo {' '.join(args)}: {done.stdout}{done.stderr}")
        return done

    def secrets(self) -> dict[str, str]:
        return json.loads((self.state / "secrets.json").read_text())  # type: ignore[no-any-return]

    def token(self, user: str = "admin", project: str = "admin") -> requests.Response:
        password = self.secrets()[f"{user}_password"]
        return requests.post(f"{self.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})

    def get(self, path: str, token: str, **headers: str) -> requests.Response:
        return requests.get(f"{self.auth_url}/v3{path}", timeout=30,
                            headers={"X-Auth-Token": token, **headers})

    def rows(self) -> dict[str, int]:
        """Rows per table of the cloud's SQLite database."""
        with sqlite3.connect(self.state / "nubo.db") as db:
            tables = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


@pytest.fixture(scope="module")
def operator() -> Iterator[Operator]:
    with tempfile.TemporaryDirectory(prefix="nubo-test-operator-") as tmp:
        state = Path(tmp) / "state"
        state.mkdir()
        # a rule the operator overrides: nobody may list regions
        (state / "policy.yaml").write_text('"identity:list_regions": "!"\n')
        env = {**os.environ, "NUBO_CORE__ENABLED_SERVICES": "identity,placement",
               "NUBO_CORE__LOG_LEVEL": "INFO",
               "NUBO_IDENTITY__TOKEN_EXPIRATION": str(EXPIRATION),
               # Keystone's list_limit: longer lists are cut and say so
               "NUBO_IDENTITY__LIST_LIMIT": "3"}
        op = Operator(state, free_port(), env)
        try:
            yield op
        finally:
            op.nubo("down", check=False)


def test_up_status_and_the_files_it_writes(operator: Operator) -> None:
    up = operator.nubo("up", "--port", str(operator.port))
    assert "nubo is running" in up.stdout
    assert "openstack --os-cloud nubo" in up.stdout  # what to type next
    again = operator.nubo("up", "--port", str(operator.port))
    assert "already running" in again.stdout
    status = operator.nubo("status")
    assert "answering" in status.stdout and "identity, placement" in status.stdout
    clouds = yaml.safe_load((operator.state / "clouds.yaml").read_text())["clouds"]
    assert {"nubo", "nubo-admin"} <= set(clouds)
    assert clouds["nubo"]["auth"]["username"] == "demo"
    # the real CLI works from clouds.yaml and from the openrc files
    cli = str(Path(sys.executable).parent / "openstack")
    env = {**operator.env, "OS_CLIENT_CONFIG_FILE": str(operator.state / "clouds.yaml")}
    issued = subprocess.run([cli, "--os-cloud", "nubo", "token", "issue", "-f", "json"],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(issued.stdout)["project_id"]
    rc = operator.state / "openrc-admin"
    listed = subprocess.run(["bash", "-c", f". {rc} && {cli} project list -f value -c Name"],
                            env=operator.env, capture_output=True, text=True, timeout=120)
    assert {"admin", "demo"} <= set(listed.stdout.split()), listed.stderr
    # a catalog entry for every enabled service, at the DevStack paths
    token = operator.token().json()["token"]
    by_type = {s["type"]: s for s in token["catalog"]}
    assert {"identity", "placement"} <= set(by_type)
    urls = {e["interface"]: e["url"] for e in by_type["identity"]["endpoints"]}
    assert set(urls) == {"public", "internal", "admin"}
    assert urls["public"].endswith("/identity")


def test_token_expiry_follows_the_setting(operator: Operator) -> None:
    body = operator.token().json()["token"]

    def parse(stamp: str) -> float:
        return time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))

    assert parse(body["expires_at"]) - parse(body["issued_at"]) == EXPIRATION


def test_operator_policy_file_overrides_a_rule(operator: Operator) -> None:
    token = operator.token().headers["X-Subject-Token"]
    assert operator.get("/regions", token).status_code == 403
    assert operator.get("/services", token).status_code == 200


def test_list_limit_truncates_long_lists(operator: Operator) -> None:
    token = operator.token().headers["X-Subject-Token"]
    roles = operator.get("/roles", token).json()  # the bootstrap made five
    assert len(roles["roles"]) == 3 and roles["truncated"] is True
    projects = operator.get("/projects", token).json()  # admin and demo
    assert len(projects["projects"]) == 2 and "truncated" not in projects


def test_logs_are_json_lines_with_request_ids(operator: Operator) -> None:
    token = operator.token().headers["X-Subject-Token"]
    rid = operator.get("/projects", token).headers["x-openstack-request-id"]
    lines: list[dict[str, Any]] = []
    for _ in range(50):
        lines = [json.loads(line) for line in
                 (operator.state / "nubo.log").read_text().splitlines()
                 if line.startswith("{")]
        if any(line.get("request_id") == rid for line in lines):
            break
        time.sleep(0.1)
    mine = [line for line in lines if line.get("request_id") == rid]
    assert mine, "no log line carries the request id"
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in mine), mine


def test_tokens_leave_no_rows(operator: Operator) -> None:
    before = operator.rows()
    tokens = [operator.token("demo", "demo").headers["X-Subject-Token"] for _ in range(5)]
    admin = operator.token().headers["X-Subject-Token"]
    for t in tokens:
        assert operator.get("/auth/tokens", admin, **{"X-Subject-Token": t}).status_code == 200
    assert operator.rows() == before


def test_key_rotation_under_a_running_cloud(operator: Operator) -> None:
    """Tokens made with a key stay valid while the key is kept (max_active_keys = 3:
    one rotation), and are refused once it is dropped."""
    old = operator.token().headers["X-Subject-Token"]
    keys = operator.state / "fernet-keys"
    first = sorted(int(p.name) for p in keys.iterdir())
    assert "new primary key" in operator.nubo("identity", "rotate-keys").stdout
    second = sorted(int(p.name) for p in keys.iterdir())
    assert len(second) == len(first) + 1 and max(second) > max(first)
    time.sleep(1.5)  # running processes pick up the keys within a second
    fresh = operator.token().headers["X-Subject-Token"]
    assert operator.get("/auth/tokens", fresh, **{"X-Subject-Token": old}).status_code == 200
    operator.nubo("identity", "rotate-keys")
    assert len(list(keys.iterdir())) == 3
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if operator.get("/auth/projects", old).status_code == 401:
            break
        time.sleep(0.2)
    assert operator.get("/auth/projects", old).status_code == 401
    assert operator.get("/auth/projects", fresh).status_code == 200


def test_down_then_up_finds_everything_as_it_was(operator: Operator) -> None:
    token = operator.token()
    project = token.json()["token"]["project"]["id"]
    rows = operator.rows()
    down = operator.nubo("down")
    assert "stopped" in down.stdout
    assert operator.nubo("status", check=False).returncode != 0
    operator.nubo("up", "--port", str(operator.port))
    # the same passwords, ids and keys: the old token is still good; nothing was added
    assert operator.get("/auth/projects", token.headers["X-Subject-Token"]).status_code == 200
    assert operator.token().json()["token"]["project"]["id"] == project
    assert operator.token("demo", "demo").status_code == 201
    after = operator.rows()
    grew = {t: (rows[t], after[t]) for t in rows if after.get(t) != rows[t]
            and t not in ("revocation_event", "outbox")}
    assert grew == {}
