"""``/extensions``: the v2 extensions a client of the 2.1 API may still ask for.

Nova froze this list when microversions replaced extensions; clients (and Tempest)
still read it to learn what a cloud serves. nubo lists, under Nova's v2 names and
aliases, the extensions whose APIs it serves, and nothing it does not serve (no
remote consoles, volumes, multinic, cells, ...): an alias not listed is a 404.
"""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import NotFound

router = Router()

# Nova's placeholders: v2.1 has neither XML namespaces nor per-extension dates
NAMESPACE = "http://docs.openstack.org/compute/ext/fake_xml"
UPDATED = "2014-12-03T00:00:00Z"

# (name, alias, what it is) of each extension served
SERVED: tuple[tuple[str, str, str], ...] = (
    ("AccessIPs", "os-access-ips", "accessIPv4 and accessIPv6 of servers."),
    ("AdminActions", "os-admin-actions", "Server states reset."),
    ("AdminPassword", "os-admin-password", "A server's admin password changed."),
    ("Aggregates", "os-aggregates", "Host aggregates, their metadata and hosts."),
    ("AttachInterfaces", "os-attach-interfaces", "Ports attached to servers."),
    ("AvailabilityZone", "os-availability-zone", "Availability zones of hosts."),
    ("ConfigDrive", "os-config-drive", "Config drives of servers."),
    ("ConsoleOutput", "os-console-output", "A server's console log."),
    ("CreateBackup", "os-create-backup", "Backups of servers, with rotation."),
    ("DeferredDelete", "os-deferred-delete", "Soft delete: restore, force delete."),
    ("DiskConfig", "OS-DCF", "The disk configuration of servers."),
    ("Evacuate", "os-evacuate", "Servers rebuilt on another host."),
    ("ExtendedAvailabilityZone", "OS-EXT-AZ", "A server's availability zone."),
    ("ExtendedEvacuateFindHost", "os-extended-evacuate-find-host",
     "Evacuation to a host the scheduler picks."),
    ("ExtendedHypervisors", "os-extended-hypervisors", "More hypervisor fields."),
    ("ExtendedIps", "OS-EXT-IPS", "The type of each server address."),
    ("ExtendedIpsMac", "OS-EXT-IPS-MAC", "The MAC address of each server address."),
    ("ExtendedQuotas", "os-extended-quotas", "Quotas deleted and detailed."),
    ("ExtendedRescueWithImage", "os-extended-rescue-with-image",
     "Rescue from a given image."),
    ("ExtendedServerAttributes", "OS-EXT-SRV-ATTR", "A server's host and instance name."),
    ("ExtendedServices", "os-extended-services", "Services disabled with a reason."),
    ("ExtendedServicesDelete", "os-extended-services-delete", "Services deleted."),
    ("ExtendedStatus", "OS-EXT-STS", "A server's vm, task and power states."),
    ("ExtendedVolumes", "os-extended-volumes", "The volumes attached to a server."),
    ("FlavorAccess", "os-flavor-access", "Private flavors and their projects."),
    ("FlavorDisabled", "OS-FLV-DISABLED", "Whether a flavor is disabled."),
    ("FlavorExtraData", "OS-FLV-EXT-DATA", "A flavor's ephemeral disk."),
    ("FlavorExtraSpecs", "os-flavor-extra-specs", "Flavors' extra specs."),
    ("FlavorManage", "os-flavor-manage", "Flavors created and deleted."),
    ("FlavorRxtx", "os-flavor-rxtx", "A flavor's rxtx factor."),
    ("FlavorSwap", "os-flavor-swap", "A flavor's swap disk."),
    ("FloatingIps", "os-floating-ips", "Floating IPs (proxied to the network service)."),
    ("Hosts", "os-hosts", "The compute hosts."),
    ("HypervisorStatus", "os-hypervisor-status", "A hypervisor's state and status."),
    ("Hypervisors", "os-hypervisors", "Hypervisors, their servers and statistics."),
    ("ImageSize", "OS-EXT-IMG-SIZE", "The size of images."),
    ("InstanceActions", "os-instance-actions", "The actions taken on servers."),
    ("Keypairs", "os-keypairs", "SSH key pairs."),
    ("LockServer", "os-lock-server", "Servers locked and unlocked."),
    ("MigrateServer", "os-migrate-server", "Cold and live migration."),
    ("Migrations", "os-migrations", "The migrations of servers."),
    ("MultipleCreate", "os-multiple-create", "Several servers created at once."),
    ("Networks", "os-networks", "Networks (proxied to the network service)."),
    ("OSInstanceUsageAuditLog", "os-instance_usage_audit_log",
     "The hosts' instance usage audits."),
    ("PauseServer", "os-pause-server", "Servers paused and unpaused."),
    ("PreserveEphemeralOnRebuild", "os-preserve-ephemeral-rebuild",
     "The ephemeral disk kept through a rebuild."),
    ("QuotaClasses", "os-quota-class-sets", "Default quotas."),
    ("Quotas", "os-quota-sets", "Per-project and per-user quotas."),
    ("Rescue", "os-rescue", "Servers rescued and unrescued."),
    ("SchedulerHints", "OS-SCH-HNT", "Hints to the scheduler."),
    ("SecurityGroups", "os-security-groups",
     "Security groups (proxied to the network service)."),
    ("ServerDiagnostics", "os-server-diagnostics", "A server's diagnostics."),
    ("ServerExternalEvents", "os-server-external-events", "Events from other services."),
    ("ServerGroupQuotas", "os-server-group-quotas", "Quotas on server groups."),
    ("ServerGroups", "os-server-groups", "Server groups and their policies."),
    ("ServerPassword", "os-server-password", "A server's encrypted password."),
    ("ServerSortKeys", "os-server-sort-keys", "Server lists sorted."),
    ("ServerStartStop", "os-server-start-stop", "Servers started and stopped."),
    ("ServerUsage", "OS-SRV-USG", "When a server was launched and terminated."),
    ("Services", "os-services", "The compute services."),
    ("Shelve", "os-shelve", "Servers shelved, offloaded and unshelved."),
    ("SimpleTenantUsage", "os-simple-tenant-usage", "Usage per project."),
    ("SuspendServer", "os-suspend-server", "Servers suspended and resumed."),
    ("TenantNetworks", "os-tenant-networks",
     "A project's networks (proxied to the network service)."),
    ("UsedLimits", "os-used-limits", "Resources used, in the limits."),
    ("UsedLimitsForAdmin", "os-used-limits-for-admin", "Another project's limits."),
    ("UserData", "os-user-data", "User data of servers."),
    ("UserQuotas", "os-user-quotas", "Quotas per user."),
)


def _entry(name: str, alias: str, description: str) -> dict[str, object]:
    return {"name": name, "alias": alias, "description": description,
            "namespace": NAMESPACE, "updated": UPDATED, "links": []}


BY_ALIAS = {alias: _entry(name, alias, text) for name, alias, text in SERVED}


@router.get("/v2.1/extensions")
async def list_extensions(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:extensions")
    return {"extensions": [BY_ALIAS[a] for a in sorted(BY_ALIAS)]}


@router.get("/v2.1/extensions/{alias}")
async def show_extension(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:extensions")
    found = BY_ALIAS.get(req.params["alias"])
    if found is None:
        raise NotFound("The resource could not be found.")
    return {"extension": found}
