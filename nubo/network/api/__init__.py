"""The Neutron v2.0 API, mounted at ``/network``."""

from __future__ import annotations

from nubo.core.api.faults import neutron_fault
from nubo.core.api.routing import ServiceApp
from nubo.network.api import (
    address_groups,
    address_scopes,
    agents,
    auto_allocated_topology,
    default_security_group_rules,
    floating_ips,
    ip_availability,
    networks,
    port_forwardings,
    ports,
    quotas,
    rbac_policies,
    routers,
    security_group_rules,
    security_groups,
    segments,
    subnetpools,
    subnets,
    tags,
    versions,
)


def service_app() -> ServiceApp:
    return ServiceApp(
        name="network", prefix="/network",
        routers=[versions.router, networks.router, segments.router, rbac_policies.router,
                 quotas.router, agents.router, auto_allocated_topology.router,
                 subnets.router, subnetpools.router, address_scopes.router,
                 ip_availability.router, ports.router,
                 security_groups.router, security_group_rules.router,
                 default_security_group_rules.router, address_groups.router, routers.router,
                 floating_ips.router, port_forwardings.router, tags.router],
        fault=neutron_fault,
    )
