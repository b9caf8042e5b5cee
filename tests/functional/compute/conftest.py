"""Fixtures of the compute tests."""

from __future__ import annotations

# resources helper: raw Nova client, admin connection, users on fresh projects
from tests.functional.compute.nova import admin_conn, admin_nova, make_user

__all__ = ["admin_conn", "admin_nova", "make_user"]
