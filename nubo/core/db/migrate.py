"""Alembic migrations, one chain per service.

Each service keeps its revisions in ``nubo/<service>/migrations`` with the
service name as branch label, so services evolve their schemas independently;
``upgrade`` brings every chain to its head. No alembic.ini: the configuration
is built here so ``nubo db upgrade`` and ``nubo up`` need nothing else.
"""

from __future__ import annotations

import asyncio
import importlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from nubo.core.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

SERVICES_WITH_SCHEMA = ("core", "identity", "placement", "image", "compute", "network")
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
    from alembic.config import Config

    _import_tables()
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "alembic"))
    cfg.set_main_option(
        "version_locations", " ".join(str(_versions_dir(s)) for s in services)
    )
    cfg.set_main_option("path_separator", "space")
    return cfg


def _upgrade(conn: Connection, cfg: Config) -> None:
    from alembic import command

    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "heads")


REVISION = re.compile(r"^(down_revision|revision)\s*=\s*(.+)$", re.MULTILINE)


def expected_heads() -> set[str]:
    """The head revision of every chain, read from the files without Alembic
    (importing Alembic costs most of a second at every start)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for service in SERVICES_WITH_SCHEMA:
        for path in _versions_dir(service).glob("*.py"):
            for key, value in REVISION.findall(path.read_text()):
                names = set(re.findall(r"['\"]([0-9a-zA-Z_]+)['\"]", value))
                (revisions if key == "revision" else parents).update(names)
    return revisions - parents


async def current_heads(db: Database) -> set[str]:
    try:
        async with db.read() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {str(r[0]) for r in rows}
    except DBAPIError:
        return set()


async def upgrade(db: Database) -> None:
    """Bring every service's schema to its newest revision (idempotent)."""
    if await current_heads(db) == expected_heads():
        return
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
        from alembic import command

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
