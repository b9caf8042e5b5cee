"""Networking tables. Only ``nubo.network`` reads or writes these.

Every top-level resource carries Neutron's standard attributes (``project_id``,
``created_at``, ``updated_at``, ``revision_number``, ``description``); tags of every
resource live in one table keyed by (resource type, id). List-like attributes that are
only ever read and written whole with their resource (allocation pools, DNS servers,
host routes, allowed address pairs, extra DHCP options) are JSON columns.

Uniqueness that must hold under concurrency is a constraint, never a read-then-write:
an address per subnet (``network_ip_allocations``), a MAC per network, a segmentation
id per type and physical network (``network_segment_allocations``), a rule per security
group (``rule_key``), the default security group of a project, a floating IP's fixed
address.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from nubo.core.db.base import UTCDateTime, Uuid, metadata

ProjectId = String(255)
Ip = String(64)
Cidr = String(64)
Mac = String(32)


def _standard() -> list[Column[Any]]:
    """Neutron's standard attributes, as the columns every resource table starts with."""
    return [
        Column("id", Uuid, primary_key=True),
        Column("project_id", ProjectId, nullable=True, index=True),
        Column("description", String(255), nullable=False, default=""),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("revision_number", Integer, nullable=False, default=0),
    ]


networks = Table(
    "networks",
    metadata,
    *_standard(),
    Column("name", String(255), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("admin_state_up", Boolean, nullable=False, default=True),
    # router:external; sharing is an RBAC row (``network_rbacs``), as in Neutron
    Column("external", Boolean, nullable=False, default=False),
    # the default external network of auto-allocated topologies
    Column("is_default", Boolean, nullable=False, default=False),
    Column("mtu", Integer, nullable=False),
    Column("port_security_enabled", Boolean, nullable=False, default=True),
    Column("availability_zone_hints", JSON, nullable=False, default=list),
    Column("dns_domain", String(255), nullable=False, default=""),
    Column("vlan_transparent", Boolean, nullable=True),
)

network_segments = Table(
    "network_segments",
    metadata,
    *_standard(),
    Column("network_id", Uuid, ForeignKey("networks.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("name", String(255), nullable=True),
    Column("network_type", String(32), nullable=False),
    Column("physical_network", String(64), nullable=True),
    Column("segmentation_id", Integer, nullable=True),
    Column("segment_index", Integer, nullable=False, default=0),
)

# one row per segmentation id in use: the primary key is what keeps two networks from
# getting the same VNI or VLAN, however many are created at once
network_segment_allocations = Table(
    "network_segment_allocations",
    metadata,
    Column("network_type", String(32), primary_key=True),
    # "" for types without one (vxlan), so the key never holds a NULL
    Column("physical_network", String(64), primary_key=True),
    Column("segmentation_id", Integer, primary_key=True),
    Column("segment_id", Uuid, ForeignKey("network_segments.id", ondelete="CASCADE"),
           nullable=False, index=True),
)

address_scopes = Table(
    "network_address_scopes",
    metadata,
    *_standard(),
    Column("name", String(255), nullable=False, default=""),
    Column("ip_version", Integer, nullable=False),
    Column("shared", Boolean, nullable=False, default=False),
)

subnetpools = Table(
    "network_subnetpools",
    metadata,
    *_standard(),
    Column("name", String(255), nullable=False, default=""),
    Column("ip_version", Integer, nullable=False),
    Column("prefixes", JSON, nullable=False, default=list),
    Column("default_prefixlen", Integer, nullable=False),
    Column("min_prefixlen", Integer, nullable=False),
    Column("max_prefixlen", Integer, nullable=False),
    Column("default_quota", Integer, nullable=True),
    Column("shared", Boolean, nullable=False, default=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("address_scope_id", Uuid, nullable=True, index=True),
)

subnets = Table(
    "network_subnets",
    metadata,
    *_standard(),
    Column("name", String(255), nullable=False, default=""),
    Column("network_id", Uuid, ForeignKey("networks.id"), nullable=False, index=True),
    Column("segment_id", Uuid, nullable=True),
    Column("subnetpool_id", Uuid, nullable=True, index=True),
    Column("ip_version", Integer, nullable=False),
    Column("cidr", Cidr, nullable=False),
    Column("gateway_ip", Ip, nullable=True),
    Column("enable_dhcp", Boolean, nullable=False, default=True),
    Column("ipv6_ra_mode", String(32), nullable=True),
    Column("ipv6_address_mode", String(32), nullable=True),
    # [{"start": ip, "end": ip}, ...]
    Column("allocation_pools", JSON, nullable=False, default=list),
    # [ip, ...] in the order given
    Column("dns_nameservers", JSON, nullable=False, default=list),
    # [{"destination": cidr, "nexthop": ip}, ...]
    Column("host_routes", JSON, nullable=False, default=list),
    Column("service_types", JSON, nullable=False, default=list),
    Column("dns_publish_fixed_ip", Boolean, nullable=False, default=False),
)

ports = Table(
    "network_ports",
    metadata,
    *_standard(),
    Column("name", String(255), nullable=False, default=""),
    Column("network_id", Uuid, ForeignKey("networks.id"), nullable=False, index=True),
    Column("mac_address", Mac, nullable=False),
    Column("admin_state_up", Boolean, nullable=False, default=True),
    Column("status", String(16), nullable=False),
    Column("device_id", String(255), nullable=False, default="", index=True),
    Column("device_owner", String(255), nullable=False, default=""),
    Column("port_security_enabled", Boolean, nullable=False, default=True),
    Column("ip_allocation", String(16), nullable=True),
    Column("dns_name", String(255), nullable=False, default=""),
    # [{"ip_address": ip-or-cidr, "mac_address": mac}, ...]
    Column("allowed_address_pairs", JSON, nullable=False, default=list),
    # [{"opt_name": .., "opt_value": .., "ip_version": 4|6}, ...]
    Column("extra_dhcp_opts", JSON, nullable=False, default=list),
    # binding:* (portbindings): where the port is plugged and how
    Column("binding_host_id", String(255), nullable=False, default=""),
    Column("binding_vnic_type", String(32), nullable=False, default="normal"),
    Column("binding_vif_type", String(32), nullable=False, default="unbound"),
    Column("binding_vif_details", JSON, nullable=False, default=dict),
    Column("binding_profile", JSON, nullable=False, default=dict),
    UniqueConstraint("network_id", "mac_address"),
)

# a fixed IP of a port; the primary key keeps an address from being handed out twice
ip_allocations = Table(
    "network_ip_allocations",
    metadata,
    Column("subnet_id", Uuid, ForeignKey("network_subnets.id"), primary_key=True),
    Column("ip_address", Ip, primary_key=True),
    Column("port_id", Uuid, ForeignKey("network_ports.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("network_id", Uuid, nullable=False, index=True),
)

security_groups = Table(
    "network_security_groups",
    metadata,
    *_standard(),
    Column("name", String(255), nullable=False, default=""),
    Column("stateful", Boolean, nullable=False, default=True),
)

# which group is a project's ``default``: the primary key makes creating it on first use
# safe when many requests of a new project arrive at once
default_security_groups = Table(
    "network_default_security_groups",
    metadata,
    Column("project_id", ProjectId, primary_key=True),
    Column("security_group_id", Uuid,
           ForeignKey("network_security_groups.id", ondelete="CASCADE"), nullable=False),
)

security_group_rules = Table(
    "network_security_group_rules",
    metadata,
    *_standard(),
    Column("security_group_id", Uuid,
           ForeignKey("network_security_groups.id", ondelete="CASCADE"), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("ethertype", String(8), nullable=False),
    Column("protocol", String(40), nullable=True),
    Column("port_range_min", Integer, nullable=True),
    Column("port_range_max", Integer, nullable=True),
    Column("remote_ip_prefix", Cidr, nullable=True),
    Column("remote_group_id", Uuid, nullable=True, index=True),
    Column("remote_address_group_id", Uuid, nullable=True, index=True),
    # the rule's normalised identity: two rules with one key are duplicates (409)
    Column("rule_key", String(255), nullable=False),
    UniqueConstraint("security_group_id", "rule_key"),
)

# the template rules new security groups get (default-security-group-rules API)
default_security_group_rules = Table(
    "network_default_security_group_rules",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("description", String(255), nullable=False, default=""),
    Column("direction", String(16), nullable=False),
    Column("ethertype", String(8), nullable=False),
    Column("protocol", String(40), nullable=True),
    Column("port_range_min", Integer, nullable=True),
    Column("port_range_max", Integer, nullable=True),
    Column("remote_ip_prefix", Cidr, nullable=True),
    # "PARENT" stands for the group the rule is put in
    Column("remote_group_id", String(36), nullable=True),
    Column("remote_address_group_id", Uuid, nullable=True),
    Column("used_in_default_sg", Boolean, nullable=False, default=False),
    Column("used_in_non_default_sg", Boolean, nullable=False, default=True),
    # the rule's identity among the templates of default groups and of other groups
    # (``sg_templates.Template.default_key`` / ``non_default_key``; NULL when unused):
    # one rule may be two templates, one for each kind of group
    Column("default_key", String(255), nullable=True, unique=True),
    Column("non_default_key", String(255), nullable=True, unique=True),
)

port_security_groups = Table(
    "network_port_security_groups",
    metadata,
    Column("port_id", Uuid, ForeignKey("network_ports.id", ondelete="CASCADE"),
           primary_key=True),
    Column("security_group_id", Uuid, ForeignKey("network_security_groups.id"),
           primary_key=True, index=True),
)

address_groups = Table(
    "network_address_groups",
    metadata,
    *_standard(),
    Column("name", String(255), nullable=False, default=""),
)

address_group_addresses = Table(
    "network_address_group_addresses",
    metadata,
    Column("address_group_id", Uuid, ForeignKey("network_address_groups.id",
                                                ondelete="CASCADE"), primary_key=True),
    Column("address", Cidr, primary_key=True),
)

routers = Table(
    "network_routers",
    metadata,
    *_standard(),
    Column("name", String(255), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("admin_state_up", Boolean, nullable=False, default=True),
    # the external gateway: its port on the external network, and whether to SNAT
    Column("gw_port_id", Uuid, ForeignKey("network_ports.id"), nullable=True),
    Column("enable_snat", Boolean, nullable=False, default=True),
    Column("distributed", Boolean, nullable=False, default=False),
    Column("ha", Boolean, nullable=False, default=False),
    Column("availability_zone_hints", JSON, nullable=False, default=list),
)

# the router's interfaces and gateway port (port ids unique: a port has one router)
router_ports = Table(
    "network_router_ports",
    metadata,
    Column("port_id", Uuid, ForeignKey("network_ports.id", ondelete="CASCADE"),
           primary_key=True),
    Column("router_id", Uuid, ForeignKey("network_routers.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("port_type", String(255), nullable=False),
)

router_routes = Table(
    "network_router_routes",
    metadata,
    Column("router_id", Uuid, ForeignKey("network_routers.id", ondelete="CASCADE"),
           primary_key=True),
    Column("destination", Cidr, primary_key=True),
    Column("nexthop", Ip, primary_key=True),
)

floating_ips = Table(
    "network_floating_ips",
    metadata,
    *_standard(),
    Column("floating_ip_address", Ip, nullable=False),
    Column("floating_network_id", Uuid, ForeignKey("networks.id"), nullable=False,
           index=True),
    # the port on the external network that holds the address
    Column("floating_port_id", Uuid, ForeignKey("network_ports.id", ondelete="CASCADE"),
           nullable=False, unique=True),
    Column("fixed_port_id", Uuid, ForeignKey("network_ports.id"), nullable=True,
           index=True),
    Column("fixed_ip_address", Ip, nullable=True),
    Column("router_id", Uuid, nullable=True, index=True),
    Column("status", String(16), nullable=False),
    Column("dns_name", String(255), nullable=False, default=""),
    Column("dns_domain", String(255), nullable=False, default=""),
    UniqueConstraint("floating_network_id", "fixed_port_id", "fixed_ip_address"),
)

port_forwardings = Table(
    "network_port_forwardings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("floatingip_id", Uuid, ForeignKey("network_floating_ips.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("internal_port_id", Uuid, ForeignKey("network_ports.id", ondelete="CASCADE"),
           nullable=False),
    Column("internal_ip_address", Ip, nullable=False),
    Column("internal_port_start", Integer, nullable=False),
    Column("internal_port_end", Integer, nullable=False),
    Column("external_port_start", Integer, nullable=False),
    Column("external_port_end", Integer, nullable=False),
    Column("protocol", String(16), nullable=False),
    Column("description", String(255), nullable=False, default=""),
    UniqueConstraint("floatingip_id", "external_port_start", "protocol"),
    UniqueConstraint("internal_port_id", "internal_ip_address", "internal_port_start",
                     "protocol"),
)

# role-based sharing: a network (or security group, address scope, subnet pool, address
# group) shared with one project or "*", as shared or as external
rbac_policies = Table(
    "network_rbac_policies",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", ProjectId, nullable=False, index=True),
    Column("object_type", String(32), nullable=False),
    Column("object_id", Uuid, nullable=False),
    Column("action", String(32), nullable=False),
    Column("target_project", ProjectId, nullable=False),
    UniqueConstraint("object_type", "object_id", "action", "target_project"),
    Index("ix_network_rbac_policies_object", "object_type", "object_id"),
)

tags = Table(
    "network_tags",
    metadata,
    Column("resource_type", String(32), primary_key=True),
    Column("resource_id", Uuid, primary_key=True),
    Column("tag", String(255), primary_key=True),
    Index("ix_network_tags_tag", "resource_type", "tag"),
)

quotas = Table(
    "network_quotas",
    metadata,
    Column("project_id", ProjectId, primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("limit", Integer, nullable=False),
)

# what each project holds of each counted resource, changed in the transaction that
# creates or deletes the resource with a locking read, so concurrent creates never
# exceed a quota
quota_usages = Table(
    "network_quota_usages",
    metadata,
    Column("project_id", ProjectId, primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("in_use", Integer, nullable=False, default=0),
)

agents = Table(
    "network_agents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("agent_type", String(255), nullable=False),
    Column("binary", String(255), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("host", String(255), nullable=False),
    Column("admin_state_up", Boolean, nullable=False, default=True),
    Column("availability_zone", String(255), nullable=True),
    Column("description", String(255), nullable=True),
    Column("configurations", JSON, nullable=False, default=dict),
    Column("resources_synced", Boolean, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_timestamp", UTCDateTime, nullable=False),
    UniqueConstraint("agent_type", "host"),
)

# the network, router and subnets `networks: auto` made for a project
auto_allocated_topologies = Table(
    "network_auto_allocated_topologies",
    metadata,
    Column("project_id", ProjectId, primary_key=True),
    Column("network_id", Uuid, ForeignKey("networks.id", ondelete="CASCADE"),
           nullable=False),
    Column("router_id", Uuid, ForeignKey("network_routers.id", ondelete="SET NULL"),
           nullable=True),
)
