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
    "os_compute_api:os-aggregates:images": _ADMIN,
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

# --- core: servers, services, hypervisors, zones, hosts, instance actions, events ---
_MEMBER = "rule:project_member_or_admin"
_READER = "rule:project_reader_or_admin"
DEFAULTS.update({
    "os_compute_api:servers:index": _READER,
    "os_compute_api:servers:detail": _READER,
    "os_compute_api:servers:index:get_all_tenants": _ADMIN,
    "os_compute_api:servers:detail:get_all_tenants": _ADMIN,
    "os_compute_api:servers:allow_all_filters": _ADMIN,
    "os_compute_api:servers:show": _READER,
    "os_compute_api:servers:show:host_status": _ADMIN,
    "os_compute_api:servers:show:host_status:unknown-only": _ADMIN,
    "os_compute_api:servers:show:flavor-extra-specs": _READER,
    "os_compute_api:servers:create": "rule:project_member_api",
    "os_compute_api:servers:create:forced_host": _ADMIN,
    "compute:servers:create:requested_destination": _ADMIN,
    "os_compute_api:servers:create:attach_volume": "rule:project_member_api",
    "os_compute_api:servers:create:attach_network": "rule:project_member_api",
    "os_compute_api:servers:create:trusted_certs": "rule:project_member_api",
    "os_compute_api:servers:create:zero_disk_flavor": _ADMIN,
    "os_compute_api:servers:update": _MEMBER,
    "os_compute_api:servers:delete": _MEMBER,
    "os_compute_api:os-deferred-delete:force": _MEMBER,
    "os_compute_api:os-extended-server-attributes": _ADMIN,
    "os_compute_api:os-services:list": _ADMIN,
    "os_compute_api:os-services:update": _ADMIN,
    "os_compute_api:os-services:delete": _ADMIN,
    "os_compute_api:os-hypervisors:list": _ADMIN,
    "os_compute_api:os-hypervisors:list-detail": _ADMIN,
    "os_compute_api:os-hypervisors:statistics": _ADMIN,
    "os_compute_api:os-hypervisors:show": _ADMIN,
    "os_compute_api:os-hypervisors:uptime": _ADMIN,
    "os_compute_api:os-hypervisors:search": _ADMIN,
    "os_compute_api:os-hypervisors:servers": _ADMIN,
    "os_compute_api:os-availability-zone:list": _ANY,
    "os_compute_api:os-availability-zone:detail": _ADMIN,
    "os_compute_api:os-hosts:list": _ADMIN,
    "os_compute_api:os-hosts:show": _ADMIN,
    "os_compute_api:os-hosts:update": _ADMIN,
    "os_compute_api:os-hosts:reboot": _ADMIN,
    "os_compute_api:os-hosts:shutdown": _ADMIN,
    "os_compute_api:os-hosts:start": _ADMIN,
    "os_compute_api:os-instance-actions:list": _READER,
    "os_compute_api:os-instance-actions:show": _READER,
    "os_compute_api:os-instance-actions:events": _ADMIN,
    "os_compute_api:os-instance-actions:events:details": _ADMIN,
    "os_compute_api:os-server-external-events:create": _ADMIN + " or role:service",
})

# --- actions: server actions, metadata, tags, migrations ---
DEFAULTS.update({
    "os_compute_api:servers:stop": _MEMBER,
    "os_compute_api:servers:start": _MEMBER,
    "os_compute_api:servers:reboot": _MEMBER,
    "os_compute_api:os-pause-server:pause": _MEMBER,
    "os_compute_api:os-pause-server:unpause": _MEMBER,
    "os_compute_api:os-suspend-server:suspend": _MEMBER,
    "os_compute_api:os-suspend-server:resume": _MEMBER,
    "os_compute_api:os-lock-server:lock": _MEMBER,
    "os_compute_api:os-lock-server:unlock": _MEMBER,
    "os_compute_api:os-lock-server:unlock:unlock_override": _ADMIN,
    "os_compute_api:os-admin-actions:reset_state": _ADMIN,
    "os_compute_api:os-console-output": _MEMBER,
    "os_compute_api:os-server-password:show": _READER,
    "os_compute_api:os-server-password:clear": _MEMBER,
    "os_compute_api:os-server-diagnostics": _ADMIN,
    "os_compute_api:os-instance-usage-audit-log:list": _ADMIN,
    "os_compute_api:os-instance-usage-audit-log:show": _ADMIN,
    "os_compute_api:extensions": _ANY,
})
DEFAULTS.update({
    "os_compute_api:server-metadata:index": _READER,
    "os_compute_api:server-metadata:show": _READER,
    "os_compute_api:server-metadata:create": _MEMBER,
    "os_compute_api:server-metadata:update_all": _MEMBER,
    "os_compute_api:server-metadata:update": _MEMBER,
    "os_compute_api:server-metadata:delete": _MEMBER,
    "os_compute_api:os-server-tags:index": _READER,
    "os_compute_api:os-server-tags:show": _READER,
    "os_compute_api:os-server-tags:update": _MEMBER,
    "os_compute_api:os-server-tags:update_all": _MEMBER,
    "os_compute_api:os-server-tags:delete": _MEMBER,
    "os_compute_api:os-server-tags:delete_all": _MEMBER,
})
DEFAULTS.update({
    "os_compute_api:servers:create_image": _MEMBER,
    "os_compute_api:os-create-backup": _MEMBER,
})
DEFAULTS.update({
    "os_compute_api:servers:resize": _MEMBER,
    "os_compute_api:servers:confirm_resize": _MEMBER,
    "os_compute_api:servers:revert_resize": _MEMBER,
    "os_compute_api:os-migrate-server:migrate": _ADMIN,
    "os_compute_api:os-migrate-server:migrate:host": _ADMIN,
})
DEFAULTS.update({
    "os_compute_api:os-migrations:index": _ADMIN,
    "os_compute_api:servers:migrations:index": _ADMIN,
    "os_compute_api:servers:migrations:show": _ADMIN,
})
DEFAULTS.update({
    "os_compute_api:os-shelve:shelve": _MEMBER,
    "os_compute_api:os-shelve:shelve_offload": _ADMIN,
    "os_compute_api:os-shelve:unshelve": _MEMBER,
})
DEFAULTS.update({
    "os_compute_api:os-rescue": _MEMBER,
    "os_compute_api:os-unrescue": _MEMBER,
    "os_compute_api:os-admin-password": _MEMBER,
    "os_compute_api:servers:trigger_crash_dump": _MEMBER,
    "os_compute_api:os-deferred-delete:restore": _MEMBER,
})
DEFAULTS.update({
    "os_compute_api:servers:rebuild": _MEMBER,
})
DEFAULTS.update({
    "os_compute_api:os-migrate-server:migrate_live": _ADMIN,
    "os_compute_api:os-evacuate": _ADMIN,
})
DEFAULTS.update({
    "os_compute_api:servers:migrations:force_complete": _ADMIN,
    "os_compute_api:servers:migrations:delete": _ADMIN,
})

# --- networking: interfaces, addresses, the 2.1 network proxies ---
DEFAULTS.update({
    "network:attach_external_network": _ADMIN,
    "os_compute_api:os-attach-interfaces:list": _READER,
    "os_compute_api:os-attach-interfaces:show": _READER,
    "os_compute_api:os-attach-interfaces:create": _MEMBER,
    "os_compute_api:os-attach-interfaces:delete": _MEMBER,
    "os_compute_api:ips:index": _READER,
    "os_compute_api:ips:show": _READER,
    "os_compute_api:os-security-groups:get": _READER,
    "os_compute_api:os-security-groups:show": _READER,
    "os_compute_api:os-security-groups:create": _MEMBER,
    "os_compute_api:os-security-groups:update": _MEMBER,
    "os_compute_api:os-security-groups:delete": _MEMBER,
    "os_compute_api:os-security-groups:rule:create": _MEMBER,
    "os_compute_api:os-security-groups:rule:delete": _MEMBER,
    "os_compute_api:os-security-groups:list": _READER,
    "os_compute_api:os-security-groups:add": _MEMBER,
    "os_compute_api:os-security-groups:remove": _MEMBER,
    "os_compute_api:os-floating-ips:list": _READER,
    "os_compute_api:os-floating-ips:show": _READER,
    "os_compute_api:os-floating-ips:create": _MEMBER,
    "os_compute_api:os-floating-ips:delete": _MEMBER,
    "os_compute_api:os-floating-ips:add": _MEMBER,
    "os_compute_api:os-floating-ips:remove": _MEMBER,
    "os_compute_api:os-floating-ip-pools": _ANY,
    "os_compute_api:os-networks:list": _READER,
    "os_compute_api:os-networks:show": _READER,
    "os_compute_api:os-tenant-networks:list": _READER,
    "os_compute_api:os-tenant-networks:show": _READER,
    "os_compute_api:os-admin-actions:inject_network_info": _ADMIN,
})
