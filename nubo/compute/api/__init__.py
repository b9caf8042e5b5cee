"""The Nova v2.1 API, mounted at ``/compute``."""

from __future__ import annotations

from nubo.compute.api import (
    aggregates,
    availability_zones,
    extensions,
    external_events,
    flavors,
    floating_ips,
    hosts,
    hypervisors,
    images,
    instance_actions,
    interfaces,
    keypairs,
    limits,
    migrations,
    quotas,
    security_groups,
    server_actions,
    server_diagnostics,
    server_groups,
    server_metadata,
    server_moves,
    server_password,
    server_tags,
    servers,
    services,
    usage,
    usage_audit_log,
    versions,
)
from nubo.compute.api.versions import MICROVERSIONS
from nubo.core.api.faults import nova_fault
from nubo.core.api.routing import ServiceApp

# flavors, keypairs, aggregates, quotas, limits, server groups, usage (resources helper)
RESOURCES = [flavors.router, keypairs.router, aggregates.router, quotas.router, limits.router,
             server_groups.router, usage.router, usage_audit_log.router]

# servers, services, hypervisors, zones, hosts, instance actions, events (core helper)
CORE = [servers.router, services.router, hypervisors.router, availability_zones.router,
        hosts.router, instance_actions.router, external_events.router, extensions.router]


# server actions, metadata, tags, password, diagnostics, migrations (actions helper)
ACTIONS = [server_actions.router, server_moves.router, server_metadata.router,
           server_tags.router, server_password.router, server_diagnostics.router,
           migrations.router]

# the 2.1 proxy APIs, capped at the microversions that removed them
PROXIES = [images.router]

# a server's ports and addresses, the networking proxies (networking helper)
NETWORKING = [interfaces.router, security_groups.router, floating_ips.router]


def service_app() -> ServiceApp:
    return ServiceApp(
        name="compute", prefix="/compute",
        routers=[versions.router, *RESOURCES, *CORE, *ACTIONS, *PROXIES,
                 *NETWORKING], fault=nova_fault,
        microversions=MICROVERSIONS, request_id_header="x-compute-request-id",
    )
