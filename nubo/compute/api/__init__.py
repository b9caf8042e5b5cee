"""The Nova v2.1 API, mounted at ``/compute``."""

from __future__ import annotations

from nubo.compute.api import versions
from nubo.compute.api.versions import MICROVERSIONS
from nubo.core.api.faults import nova_fault
from nubo.core.api.routing import ServiceApp


def service_app() -> ServiceApp:
    return ServiceApp(
        name="compute", prefix="/compute", routers=[versions.router], fault=nova_fault,
        microversions=MICROVERSIONS,
    )
