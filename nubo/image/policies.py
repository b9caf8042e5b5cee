"""Default policy rules of the image API, named as Glance names them."""

from __future__ import annotations

DEFAULTS: dict[str, str] = {
    "context_is_admin": "role:admin",
}
