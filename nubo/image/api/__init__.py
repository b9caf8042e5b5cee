"""The Glance v2 API, mounted at ``/image``."""

from __future__ import annotations

from nubo.core.api.faults import glance_fault
from nubo.core.api.routing import ServiceApp
from nubo.image.api import data, images, info, members, metadefs, schemas, tasks, versions


def service_app() -> ServiceApp:
    return ServiceApp(name="image", prefix="/image",
                      routers=[versions.router, images.router, data.router, members.router,
                               schemas.router, info.router, metadefs.router, tasks.router],
                      fault=glance_fault)
