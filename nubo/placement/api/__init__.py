"""The Placement API, mounted at ``/placement``."""

from __future__ import annotations

from nubo.core.api.faults import placement_fault
from nubo.core.api.routing import ServiceApp
from nubo.placement.api import (
    aggregates,
    allocations,
    candidates,
    inventories,
    providers,
    reshaper,
    resource_classes,
    traits,
    usages,
    versions,
)
from nubo.placement.api.versions import MICROVERSIONS


def service_app() -> ServiceApp:
    return ServiceApp(
        name="placement", prefix="/placement",
        routers=[versions.router, providers.router, inventories.router,
                 resource_classes.router, traits.router, aggregates.router,
                 allocations.router, usages.router, candidates.router, reshaper.router],
        fault=placement_fault, microversions=MICROVERSIONS,
    )
