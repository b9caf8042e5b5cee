"""Default policy rules of the compute API, named as Nova names them."""

from __future__ import annotations

DEFAULTS: dict[str, str] = {
    "context_is_admin": "role:admin",
    "admin_api": "is_admin:True or role:admin",
    "project_member_api": "role:member and project_id:%(project_id)s",
    "project_reader_api": "role:reader and project_id:%(project_id)s",
    "project_member_or_admin": "rule:project_member_api or rule:context_is_admin",
    "project_reader_or_admin": "rule:project_reader_api or rule:context_is_admin",
}

# --- resources: flavors, keypairs, aggregates, quotas, limits, server groups, usage ---
_ADMIN = "rule:admin_api"
_ADMIN_OR_OWNER = "rule:context_is_admin or user_id:%(user_id)s"
_ANY = "role:reader"
DEFAULTS.update({
    "os_compute_api:flavors:index": _ANY,
    "os_compute_api:flavors:show": _ANY,
    "os_compute_api:os-flavor-manage:create": _ADMIN,
    "os_compute_api:os-flavor-manage:update": _ADMIN,
    "os_compute_api:os-flavor-manage:delete": _ADMIN,
    "os_compute_api:os-flavor-extra-specs:index": "rule:project_reader_or_admin",
    "os_compute_api:os-flavor-extra-specs:show": "rule:project_reader_or_admin",
    "os_compute_api:os-flavor-extra-specs:create": _ADMIN,
    "os_compute_api:os-flavor-extra-specs:update": _ADMIN,
    "os_compute_api:os-flavor-extra-specs:delete": _ADMIN,
    "os_compute_api:os-flavor-access": _ADMIN,
    "os_compute_api:os-flavor-access:add_tenant_access": _ADMIN,
    "os_compute_api:os-flavor-access:remove_tenant_access": _ADMIN,
    "os_compute_api:os-keypairs:index": _ADMIN_OR_OWNER,
    "os_compute_api:os-keypairs:show": _ADMIN_OR_OWNER,
    "os_compute_api:os-keypairs:create": _ADMIN_OR_OWNER,
    "os_compute_api:os-keypairs:delete": _ADMIN_OR_OWNER,
    "os_compute_api:os-aggregates:index": _ADMIN,
    "os_compute_api:os-aggregates:create": _ADMIN,
    "os_compute_api:os-aggregates:show": _ADMIN,
    "os_compute_api:os-aggregates:update": _ADMIN,
    "os_compute_api:os-aggregates:delete": _ADMIN,
    "os_compute_api:os-aggregates:add_host": _ADMIN,
    "os_compute_api:os-aggregates:remove_host": _ADMIN,
    "os_compute_api:os-aggregates:set_metadata": _ADMIN,
    "os_compute_api:os-quota-sets:show": "rule:project_reader_or_admin",
    "os_compute_api:os-quota-sets:detail": "rule:project_reader_or_admin",
    "os_compute_api:os-quota-sets:defaults": _ANY,
    "os_compute_api:os-quota-sets:update": _ADMIN,
    "os_compute_api:os-quota-sets:delete": _ADMIN,
    "os_compute_api:os-quota-class-sets:show": _ADMIN,
    "os_compute_api:os-quota-class-sets:update": _ADMIN,
    "os_compute_api:limits": _ANY,
    "os_compute_api:limits:other_project": _ADMIN,
    "os_compute_api:os-server-groups:create": "rule:project_member_api",
    "os_compute_api:os-server-groups:delete": "rule:project_member_or_admin",
    "os_compute_api:os-server-groups:index": "rule:project_reader_or_admin",
    "os_compute_api:os-server-groups:index:all_projects": _ADMIN,
    "os_compute_api:os-server-groups:show": "rule:project_reader_or_admin",
    "os_compute_api:os-simple-tenant-usage:list": _ADMIN,
    "os_compute_api:os-simple-tenant-usage:show": "rule:project_reader_or_admin",
})
