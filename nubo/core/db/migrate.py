"""Alembic migrations, one chain per service.

Each service keeps its revisions in ``nubo/<service>/migrations`` with the
service name as branch label, so services evolve their schemas independently;
``upgrade`` brings every chain to its head. No alembic.ini: the configuration
is built here so ``nubo db upgrade`` and ``nubo up`` need nothing else.
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from nubo.core.db.engine import Database

SERVICES_WITH_SCHEMA = ("core", "identity")
HERE = Path(__file__).parent


def _import_tables() -> None:
    for service in SERVICES_WITH_SCHEMA:
        _service_tables(service)


def _versions_dir(service: str) -> Path:
    if service == "core":
        return HERE / "versions"
    module = importlib.import_module(f"nubo.{service}")
    return Path(module.__file__ or "").parent / "migrations"


def alembic_config(services: tuple[str, ...] = SERVICES_WITH_SCHEMA) -> Config:
    _import_tables()
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "alembic"))
    cfg.set_main_option(
        "version_locations", " ".join(str(_versions_dir(s)) for s in services)
    )
    cfg.set_main_option("path_separator", "space")
    return cfg


def _upgrade(conn: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "heads")


async def upgrade(db: Database) -> None:
    """Bring every service's schema to its newest revision (idempotent)."""
    cfg = alembic_config()
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, cfg)


def _service_tables(service: str) -> set[str]:
    module = importlib.import_module(
        "nubo.core.db.tables" if service == "core" else f"nubo.{service}.tables")
    return {v.name for v in vars(module).values() if isinstance(v, Table)}


def revision(url: str, service: str, message: str) -> None:
    """Autogenerate the next revision of one service's chain (developer tool):
    only that service's tables are compared."""
    cfg = alembic_config()
    versions = _versions_dir(service)
    versions.mkdir(parents=True, exist_ok=True)
    first = not any(versions.glob("*.py"))
    cfg.attributes["include_tables"] = _service_tables(service)

    def run(conn: Connection) -> None:
        _upgrade(conn, cfg)
        command.revision(cfg, message=message, autogenerate=True,
                         head="base" if first else f"{service}@head",
                         branch_label=service if first else None, version_path=str(versions))

    async def go() -> None:
        db = Database(url)
        try:
            async with db.engine.begin() as conn:
                await conn.run_sync(run)
        finally:
            await db.close()

    asyncio.run(go())
