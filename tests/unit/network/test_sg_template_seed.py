"""The migration seeds exactly Neutron's built-in rule templates, with the keys
``sg_templates`` computes for them (so a duplicate of a seeded template is caught)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select

from nubo.core.db import migrate
from nubo.core.db.engine import Database
from nubo.network import tables as t
from nubo.network.sg_templates import BUILTIN_TEMPLATES, Template


def _seeded(tmp_path: Path) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        db = Database(f"sqlite:///{tmp_path / 'seed.db'}")
        try:
            await migrate.upgrade(db)
            async with db.read() as conn:
                rows = await conn.execute(select(t.default_security_group_rules))
                return [dict(r._mapping) for r in rows]
        finally:
            await db.close()

    return asyncio.run(run())


def test_the_builtin_templates_are_seeded_with_their_keys(tmp_path: Path) -> None:
    rows = _seeded(tmp_path)
    seeded = {(Template.from_row(r), r["default_key"], r["non_default_key"]) for r in rows}
    expected = {(b, b.default_key, b.non_default_key) for b in BUILTIN_TEMPLATES}
    assert seeded == expected
    assert len({r["id"] for r in rows}) == 4
