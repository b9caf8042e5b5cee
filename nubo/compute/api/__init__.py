"""The Nova v2.1 API, mounted at ``/compute``."""

from __future__ import annotations

from nubo.compute.api import (
    aggregates,
    flavors,
    keypairs,
    limits,
    quotas,
    server_groups,
    usage,
    versions,
)
from nubo.compute.api.versions import MICROVERSIONS
from nubo.core.api.faults import nova_fault
from nubo.core.api.routing import ServiceApp

# flavors, keypairs, aggregates, quotas, limits, server groups, usage (resources helper)
RESOURCES = [flavors.router, keypairs.router, aggregates.router, quotas.router, limits.router,
             server_groups.router, usage.router]


def service_app() -> ServiceApp:
    return ServiceApp(
        name="compute", prefix="/compute", routers=[versions.router, *RESOURCES], fault=nova_fault,
        microversions=MICROVERSIONS,
    )
