"""Fixtures of the networking tests."""

from __future__ import annotations

from tests.functional.network.neutron import admin_conn, admin_neutron, make_user

__all__ = ["admin_conn", "admin_neutron", "make_user"]
