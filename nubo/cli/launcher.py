"""Building and running a nubo process: runtime, services, HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from nubo.core.api.app import build_app
from nubo.core.audit import AuditLog
from nubo.core.auth.policy import PolicyEngine
from nubo.core.bus import make_bus
from nubo.core.config import Settings
from nubo.core.db import migrate
from nubo.core.db.engine import Database
from nubo.core.db.outbox import Relay
from nubo.core.errors import ConfigError
from nubo.core.log import setup_logging
from nubo.core.runtime import Runtime
from nubo.core.service import ServiceSpec
from nubo.guest import cloud as guest_image

log = logging.getLogger("nubo")
T = TypeVar("T")
KNOWN_SERVICES = ("identity", "image", "placement", "compute", "network")


def load_specs(names: list[str]) -> list[ServiceSpec]:
    unknown = set(names) - set(KNOWN_SERVICES)
    if unknown:
        raise ConfigError(f"unknown service(s) {sorted(unknown)}; known: {list(KNOWN_SERVICES)}")
    return [importlib.import_module(f"nubo.{name}").spec() for name in names]


def _policy(settings: Settings, specs: list[ServiceSpec]) -> PolicyEngine:
    defaults: dict[str, str] = {}
    for spec in specs:
        defaults.update(spec.policy_defaults)
    path = settings.policy.override_file or str(settings.state_path / "policy.yaml")
    override = Path(path) if settings.policy.override_file or Path(path).exists() else None
    return PolicyEngine(defaults, override)


@contextlib.asynccontextmanager
async def running(settings: Settings, specs: list[ServiceSpec], *,
                  start: bool = True) -> AsyncIterator[Runtime]:
    """Everything but the HTTP server: database (migrated), bus, relay, services
    (their policies always; their workers unless ``start`` is false, as for an
    agent process calling into the services in-process)."""
    settings.state_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(settings.database_url, pool_size=settings.database.pool_size,
                  echo=settings.database.echo,
                  sqlite_threads=settings.database.sqlite_threads)
    bus = make_bus(settings.bus.url)
    await bus.start()
    audit_path = None
    if settings.audit.enabled:
        audit_path = Path(settings.audit.log_file or settings.state_path / "audit.log")
    rt = Runtime(settings=settings, db=db, bus=bus, policy=_policy(settings, specs),
                 audit=AuditLog(audit_path, bus))
    relay = Relay(db, bus)
    started = specs if start else []
    try:
        await migrate.upgrade(db)
        await relay.start()
        for spec in started:
            await spec.start(rt)
        yield rt
    finally:
        for spec in reversed(started):
            await spec.stop(rt)
        await relay.stop()
        await rt.audit.close()
        await bus.close()
        await db.close()


@dataclass
class Accounts:
    admin_password: str
    demo_password: str
    reset: bool = False


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when it is installed (uvicorn[standard] brings it): a
    cheaper loop for every request and for every thread hop of the SQLite driver."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def serve(settings: Settings, accounts: Accounts, *, ready: Path | None = None) -> None:
    """Run the all-in-one process until SIGTERM/SIGINT."""
    from nubo.identity.service.bootstrap import Account, bootstrap

    setup_logging(settings.core.log_level, settings.core.log_format)
    specs = load_specs(settings.core.enabled_services)
    async with running(settings, specs) as rt:
        await bootstrap(
            rt, admin=Account("admin", accounts.admin_password, "admin", "admin"),
            demo=Account("demo", accounts.demo_password, "demo", "member"),
            region="RegionOne", services=specs, reset_passwords=accounts.reset,
        )
        await guest_image.install(rt)  # the default image, when [compute] guest_image wants it
        if "network" in settings.core.enabled_services:
            from nubo.network import public_network

            await public_network.install(rt)  # the external network, on the host's bridge
        app = build_app(rt, [spec.api() for spec in specs])
        config = uvicorn.Config(
            app, host=settings.api.host, port=settings.api.port, log_config=None,
            access_log=False, lifespan="off", server_header=False, timeout_graceful_shutdown=5,
            loop="none", http="httptools", timeout_keep_alive=settings.api.keep_alive_timeout,
        )
        # uvicorn turns SIGTERM/SIGINT into a graceful shutdown
        server = uvicorn.Server(config)
        serve_task = asyncio.create_task(server.serve())
        while not server.started and not serve_task.done():  # noqa: ASYNC110 (no event)
            await asyncio.sleep(0.01)
        if server.started:
            log.info("nubo is serving at %s (pid %d)", settings.public_url, os.getpid())
            if ready is not None:
                await asyncio.to_thread(ready.write_text, str(os.getpid()))
        await serve_task
