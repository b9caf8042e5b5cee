"""The Keystone v3 API, mounted at ``/identity``."""

from __future__ import annotations

from nubo.core.api.faults import keystone_fault
from nubo.core.api.routing import ServiceApp
from nubo.identity.api import (
    auth,
    catalog,
    consumers,
    credentials,
    domain_config,
    ec2,
    endpoint_filter,
    limits,
    policies,
    projects,
    revoke_events,
    roles,
    trusts,
    users,
    versions,
)


def service_app() -> ServiceApp:
    return ServiceApp(
        name="identity",
        prefix="/identity",
        routers=[versions.router, auth.router, projects.router, users.router, roles.router,
                 catalog.router, ec2.router,
                 credentials.router, limits.router, endpoint_filter.router, policies.router,
                 consumers.router, domain_config.router, revoke_events.router, trusts.router,
                 ],
        fault=keystone_fault,
    )
