"""Default policy rules of the placement API, named as Placement names them.

Placement is an admin and service API: every rule defaults to
``admin_or_service_api`` except ``placement:usages``, which a project's
reader may also call for their own project (as in Placement). Targets: the
usages rule gets ``project_id`` (the project asked about); the others none.
"""

from __future__ import annotations

ADMIN_OR_SERVICE = "rule:admin_or_service_api"

_RULES = (
    "resource_providers:list", "resource_providers:create", "resource_providers:show",
    "resource_providers:update", "resource_providers:delete",
    "resource_providers:inventories:list", "resource_providers:inventories:create",
    "resource_providers:inventories:show", "resource_providers:inventories:update",
    "resource_providers:inventories:delete",
    "resource_providers:aggregates:list", "resource_providers:aggregates:update",
    "resource_providers:usages", "resource_providers:allocations:list",
    "resource_providers:traits:list", "resource_providers:traits:update",
    "resource_providers:traits:delete",
    "resource_classes:list", "resource_classes:create", "resource_classes:show",
    "resource_classes:update", "resource_classes:delete",
    "traits:list", "traits:show", "traits:update", "traits:delete",
    "allocations:list", "allocations:manage", "allocations:update", "allocations:delete",
    "allocation_candidates:list", "reshaper:reshape",
)

# Placement's base rules ``admin_api`` and ``project_reader_api`` are not
# redefined here: the process shares one rule table and compute defines those
# names; the placement rules below spell their checks out instead.
DEFAULTS: dict[str, str] = {
    "service_api": "role:service",
    "admin_or_service_api": "role:admin or role:service",
    "admin_or_project_reader_or_service_api":
        "role:admin or role:service or (role:reader and project_id:%(project_id)s)",
    **{f"placement:{name}": ADMIN_OR_SERVICE for name in _RULES},
    "placement:usages": "rule:admin_or_project_reader_or_service_api",
}
