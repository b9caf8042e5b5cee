"""Fixtures of the compute tests."""

from __future__ import annotations

# resources helper: raw Nova client, admin connection, users on fresh projects
from tests.functional.compute.nova import admin_conn, admin_nova, make_user

# core helper: a tiny image, a member of a fresh project
from tests.functional.compute.servers import image_id, member, member_conn

__all__ = ["admin_conn", "admin_nova", "image_id", "make_user", "member", "member_conn"]
