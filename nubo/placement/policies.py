"""Default policy rules of the placement API, named as Placement names them."""

from __future__ import annotations

DEFAULTS: dict[str, str] = {
    "admin_api": "role:admin",
}
