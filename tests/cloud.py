"""A live nubo for tests: ``nubo up --foreground`` in a subprocess on a free
port with its own state dir, driven through the real clients."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cloud:
    state_dir: Path
    port: int
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity"

    @property
    def secrets(self) -> dict[str, str]:
        return json.loads((self.state_dir / "secrets.json").read_text())  # type: ignore[no-any-return]

    @property
    def admin_password(self) -> str:
        return self.secrets["admin_password"]

    @property
    def clouds_yaml(self) -> Path:
        return self.state_dir / "clouds.yaml"

    def sql(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of one read-only query on the cloud's database, for the few facts no
        API shows (that nothing was leaked)."""
        import asyncio

        from sqlalchemy import text

        from nubo.core.db.engine import Database

        async def run() -> list[tuple[Any, ...]]:
            db = Database(self.database_url)
            try:
                async with db.read() as conn:
                    return [tuple(r) for r in await conn.execute(text(statement), params)]
            finally:
                await db.close()

        return asyncio.run(run())

    def sql_write(self, statement: str, **params: Any) -> None:
        """One statement on the cloud's database in a transaction of its own, as
        another process of the cloud would write (what the cloud must cope with)."""
        import asyncio

        from sqlalchemy import text

        from nubo.core.db.engine import Database

        async def run() -> None:
            db = Database(self.database_url)
            try:
                async with db.transaction() as tx:
                    await tx.execute(text(statement), params)
            finally:
                await db.close()

        asyncio.run(run())

    def start(self) -> None:
        env = {**os.environ,
               "NUBO_CORE__LOG_LEVEL": os.environ.get("NUBO_TEST_LOG_LEVEL", "WARNING"),
               **self.env, "NUBO_DATABASE__CONNECTION": self.database_url}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = (self.state_dir / "test-server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nubo.cli.main", "--state-dir", str(self.state_dir), "up",
             "--foreground", "--port", str(self.port)],
            env=env, stdout=log, stderr=log, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nubo exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.auth_url}/v3", timeout=1):
                    if (self.state_dir / "nubo.pid").exists():
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nubo did not start: {self.log_tail()}")

    def stop(self, sig: int = 15) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, n: int = 40) -> str:
        path = self.state_dir / "test-server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""

    def connect(self, cloud: str = "nubo-admin", **overrides: Any) -> Any:
        """An openstacksdk connection from the clouds.yaml that nubo wrote."""
        import openstack

        os.environ["OS_CLIENT_CONFIG_FILE"] = str(self.clouds_yaml)
        return openstack.connect(cloud=cloud, **overrides)

    def session(self, **auth: Any) -> Any:
        """A keystoneauth session for arbitrary credentials."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        auth.setdefault("auth_url", self.auth_url)
        return session.Session(auth=v3.Password(**auth))

    def cli(self, *args: str, cloud: str = "nubo-admin", check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        """Run the real ``openstack`` CLI against this cloud."""
        env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(self.clouds_yaml),
               "OS_CLOUD": cloud}
        exe = str(Path(sys.executable).parent / "openstack")
        result = subprocess.run([exe, *args], env=env, capture_output=True, text=True,
                                timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed: {result.stderr}")
        return result

    def cli_json(self, *args: str, cloud: str = "nubo-admin") -> Any:
        return json.loads(self.cli(*args, "-f", "json", cloud=cloud).stdout)
