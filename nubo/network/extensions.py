"""The Neutron API extensions nubo implements: what ``/v2.0/extensions`` lists.

Clients and Tempest decide what to call from this list, so it names only what
works. Add an entry in the same commit as the feature it announces.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extension:
    alias: str
    name: str
    description: str
    updated: str = "2026-11-21T00:00:00-00:00"

    def view(self) -> dict[str, object]:
        return {"alias": self.alias, "name": self.name, "description": self.description,
                "updated": self.updated, "links": []}


EXTENSIONS: tuple[Extension, ...] = (
    Extension("project-id", "project_id field enabled",
              "Resources show and accept project_id beside tenant_id."),
    Extension("standard-attr-description", "standard-attr-description",
              "A description on every resource with standard attributes."),
    Extension("standard-attr-revisions", "Resource revision numbers",
              "A revision_number on every resource, bumped on each change."),
    Extension("revision-if-match", "If-Match constraints based on revision_number",
              "Updates and deletes constrained by If-Match: revision_number=N."),
    Extension("standard-attr-timestamp", "Resource timestamps",
              "created_at and updated_at on every resource; the changed_since filter."),
    Extension("standard-attr-tag", "Tag support for resources with standard attributes",
              "Tags on every resource with standard attributes."),
    Extension("tag-ext", "Tag support for resources",
              "Tags on networks, subnets, ports, routers and more."),
    Extension("pagination", "Pagination support", "limit, marker and page_reverse."),
    Extension("sorting", "Sorting support", "sort_key and sort_dir."),
    Extension("filter-validation", "Filter parameters validation",
              "Unknown filter attributes are refused with 400."),
    Extension("external-net", "Neutron external network",
              "router:external on networks."),
    Extension("net-mtu", "Network MTU", "The MTU of each network."),
    Extension("net-mtu-writable", "Network MTU (writable)",
              "The MTU of a network can be set at create and update."),
    Extension("provider", "Provider Network",
              "Expose mapping of virtual networks to physical networks"),
    Extension("multi-provider", "Multi Provider Network",
              "Expose mapping of virtual networks to multiple physical networks"),
    Extension("segment", "Segment", "Segments extension."),
    Extension("standard-attr-segment", "Standard Attribute Segment Extension",
              "Add standard attributes to Segment resource"),
    Extension("rbac-policies", "RBAC Policies",
              "Allows creation and modification of policies that control project access "
              "to resources."),
    Extension("rbac-security-groups", "Add security_group type to network RBAC",
              "Add security_group type to network RBAC"),
    Extension("rbac-address-scope", "Add address_scope type to RBAC",
              "Add address_scope type to RBAC"),
    Extension("rbac-subnetpool", "Add subnetpool type to RBAC",
              "Add subnetpool type to RBAC"),
    Extension("rbac-address-group", "Add address_group type to RBAC",
              "Add address_group type to network RBAC"),
    Extension("quotas", "Quota management support",
              "Expose functions for quotas management per project"),
    Extension("quota_details", "Quota details management support",
              "Expose functions for quotas usage statistics per project"),
    Extension("quota-check-limit", "Quota engine limit check",
              "Support for checking the resource usage before applying a new quota "
              "limit"),
    Extension("quota-check-limit-default", "Quota engine limit check by default",
              "By default, the Neutron quota engine checks the resource usage before "
              "applying a new quota limit"),
    Extension("agent", "agent", "The agent management extension."),
    Extension("availability_zone", "Availability Zone", "The availability zone extension."),
    Extension("network_availability_zone", "Network Availability Zone",
              "Availability zone support for network."),
    Extension("auto-allocated-topology", "Auto Allocated Topology Services",
              "Auto Allocated Topology Services."),
    Extension("port-security", "Port Security", "Provides port security"),
    Extension("allowed-address-pairs", "Allowed Address Pairs",
              "Provides allowed address pairs"),
    Extension("extra_dhcp_opt", "Neutron Extra DHCP options",
              "Extra options configuration for DHCP (bootfile-name, tftp-server, ...)."),
    Extension("binding", "Port Binding",
              "Expose port bindings of a virtual port to external application"),
    Extension("dns-integration", "DNS Integration", "Provides integration with DNS."),
    Extension("ip-substring-filtering", "IP address substring filtering",
              "Provides IP address substring filtering when listing ports"),
    Extension("ip_allocation", "IP Allocation", "IP allocation extension."),
    Extension("port-mac-address-regenerate", "Neutron Port MAC address regenerate",
              "Network port MAC address regenerate"),
    Extension("port-security-groups-filtering", "Port filtering on security groups",
              "Ports can be filtered by the security groups they have."),
    Extension("security-group", "security-group", "The security groups extension."),
    Extension("stateful-security-group", "Stateful security group",
              "Indicates if the security group is stateful or not"),
    Extension("security-groups-remote-address-group",
              "Remote address group id field for security group rules",
              "Add new field of remote address group id in SG rules"),
    Extension("security-groups-normalized-cidr",
              "Normalized CIDR field for security group rules",
              "Add new field with normalized remote_ip_prefix cidr in SG rule"),
    Extension("security-groups-rules-belongs-to-default-sg",
              "Security group rule belongs to the project's default security group",
              "Flag to determine if the security group rule belongs to the project's "
              "default security group"),
    Extension("security-groups-default-rules", "Default rules for security groups",
              "Configure set of security group rules used as default rules for every new "
              "security group"),
    Extension("security-groups-shared-filtering",
              "Security group filtering on the shared field",
              "Support filtering security groups on the shared field"),
    Extension("address-group", "Address group", "Support address group"),
    Extension("subnet_allocation", "Subnet Allocation",
              "Subnets allocated from subnet pools (subnetpool_id, prefixlen)."),
    Extension("default-subnetpools", "Default Subnetpools",
              "is_default on subnet pools; use_default_subnetpool on subnets."),
    Extension("subnetpool-prefix-ops", "Subnet Pool Prefix Operations",
              "add_prefixes and remove_prefixes on subnet pools."),
    Extension("address-scope", "Address scope",
              "Address scopes: subnet pools whose addresses never overlap."),
    Extension("subnet-service-types", "Subnet service types",
              "service_types on subnets: which device owners take addresses there."),
    Extension("subnet-segmentid-writable", "Subnet SegmentID (writable)",
              "segment_id of an existing subnet can be set."),
    Extension("subnet-external-network", "Subnet External Network",
              "router:external on subnets: whether their network is external."),
    Extension("network-ip-availability", "Network IP Availability",
              "Total and used addresses of every network and subnet."),
    Extension("router", "Neutron L3 Router",
              "Routers between networks and to external networks, and floating IPs."),
    Extension("ext-gw-mode", "Neutron L3 Configurable external gateway mode",
              "enable_snat and external_fixed_ips in a router's external_gateway_info."),
    Extension("extraroute", "Neutron Extra Route", "Static routes on routers."),
    Extension("extraroute-atomic", "Atomically add/remove extra routes",
              "add_extraroutes and remove_extraroutes on routers."),
    Extension("router_availability_zone", "Router Availability Zone",
              "availability_zone_hints and availability_zones on routers."),
    Extension("fip-port-details", "Floating IP Port Details Extension",
              "port_details on floating IPs."),
    Extension("floating-ip-port-forwarding", "Floating IP Port Forwarding",
              "Port forwardings from a floating IP to ports of an internal port."),
    Extension("floating-ip-port-forwarding-description",
              "Floating IP Port Forwarding new attribute description",
              "description on port forwardings."),
    Extension("floating-ip-port-forwarding-port-ranges",
              "Floating IP Port Forwarding support port ranges",
              "internal_port_range and external_port_range on port forwardings."),
    Extension("expose-port-forwarding-in-fip", "Expose Floating IP port forwardings",
              "port_forwardings in the floating IP response."),
)


def by_alias() -> dict[str, Extension]:
    return {e.alias: e for e in EXTENSIONS}
