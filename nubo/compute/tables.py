"""Compute tables. Only ``nubo.compute`` reads or writes these.

One module shared by the compute engineers: each keeps its tables in its own
commented section below.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from nubo.core.db.base import AutoId, Id, Name, UTCDateTime, Uuid, metadata

# --- resources: flavors, keypairs, aggregates, quotas, server groups ----------------

flavors = Table(
    "flavors",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("flavorid", Name(255), nullable=False, unique=True),
    Column("name", Name(255), nullable=False, unique=True),
    Column("vcpus", Integer, nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("root_gb", Integer, nullable=False),
    Column("ephemeral_gb", Integer, nullable=False, default=0),
    Column("swap", Integer, nullable=False, default=0),
    Column("rxtx_factor", Float, nullable=False, default=1.0),
    Column("is_public", Boolean, nullable=False, default=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
)

flavor_extra_specs = Table(
    "flavor_extra_specs",
    metadata,
    Column("flavor_id", AutoId, ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True),
    Column("key", Name(255), primary_key=True),
    Column("value", Name(255), nullable=False),
)

flavor_projects = Table(
    "flavor_projects",
    metadata,
    Column("flavor_id", AutoId, ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", Id(), primary_key=True),
)

key_pairs = Table(
    "key_pairs",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("user_id", Id(), nullable=False),
    Column("name", Name(255), nullable=False),
    Column("fingerprint", Name(255), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("type", String(16), nullable=False, default="ssh"),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "name"),
)

aggregates = Table(
    "aggregates",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("name", Name(255), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
)

aggregate_hosts = Table(
    "aggregate_hosts",
    metadata,
    Column("aggregate_id", AutoId, ForeignKey("aggregates.id", ondelete="CASCADE"),
           primary_key=True),
    Column("host", Name(255), primary_key=True),
)

# availability_zone is the metadata key "availability_zone", as in Nova
aggregate_metadata = Table(
    "aggregate_metadata",
    metadata,
    Column("aggregate_id", AutoId, ForeignKey("aggregates.id", ondelete="CASCADE"),
           primary_key=True),
    Column("key", Name(255), primary_key=True),
    Column("value", Name(255), nullable=False),
)

# hard limits: per project, per (project, user), per quota class ("default")
quotas = Table(
    "quotas",
    metadata,
    Column("project_id", Id(), primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("hard_limit", Integer, nullable=False),
)

project_user_quotas = Table(
    "project_user_quotas",
    metadata,
    Column("project_id", Id(), primary_key=True),
    Column("user_id", Id(), primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("hard_limit", Integer, nullable=False),
)

quota_classes = Table(
    "quota_classes",
    metadata,
    Column("class_name", Name(255), primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("hard_limit", Integer, nullable=False),
)

# what is used; user_id "" is the project's total. Updated with compare-and-set on
# generation, so concurrent reservations never exceed a limit.
quota_usages = Table(
    "quota_usages",
    metadata,
    Column("project_id", Id(), primary_key=True),
    Column("user_id", Id(), primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("in_use", BigInteger, nullable=False, default=0),
    Column("generation", Integer, nullable=False, default=0),
)

server_groups = Table(
    "server_groups",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("name", Name(255), nullable=False),
    Column("project_id", Id(), nullable=False, index=True),
    Column("user_id", Id(), nullable=False),
    Column("policy", String(64), nullable=False),
    Column("rules", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
)

server_group_members = Table(
    "server_group_members",
    metadata,
    Column("group_id", AutoId, ForeignKey("server_groups.id", ondelete="CASCADE"),
           primary_key=True),
    Column("instance_uuid", Uuid, primary_key=True),
    Index("ix_server_group_members_instance", "instance_uuid"),
)

# --- end of resources ----------------------------------------------------------------


# --- core: services, compute nodes, instances and what hangs off them ----------------

services = Table(
    "compute_services",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("host", Name(255), nullable=False),
    Column("binary", Name(255), nullable=False),
    Column("topic", Name(255), nullable=True),
    Column("report_count", Integer, nullable=False, default=0),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("disabled_reason", String(255), nullable=True),
    Column("forced_down", Boolean, nullable=False, default=False),
    Column("last_seen_up", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False, default=66),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
    UniqueConstraint("host", "binary"),
)

compute_nodes = Table(
    "compute_nodes",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("service_id", AutoId, ForeignKey("compute_services.id", ondelete="CASCADE"),
           nullable=False),
    Column("host", Name(255), nullable=False),
    Column("hypervisor_hostname", Name(255), nullable=False, unique=True),
    Column("hypervisor_type", String(64), nullable=False),
    Column("hypervisor_version", Integer, nullable=False, default=1000),
    Column("host_ip", String(64), nullable=True),
    Column("vcpus", Integer, nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("local_gb", Integer, nullable=False),
    Column("cpu_info", Text, nullable=False, default="{}"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
)

instances = Table(
    "instances",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("project_id", Id(), nullable=False),
    Column("user_id", Id(), nullable=False),
    Column("display_name", Name(255), nullable=False),
    Column("display_description", Text, nullable=True),
    Column("hostname", Name(255), nullable=True),
    Column("host", Name(255), nullable=True),
    Column("node", Name(255), nullable=True),
    Column("launched_on", Name(255), nullable=True),
    Column("availability_zone", Name(255), nullable=True),
    Column("vm_state", String(32), nullable=False),
    Column("task_state", String(64), nullable=True),
    Column("power_state", Integer, nullable=False, default=0),
    Column("image_ref", String(64), nullable=True),
    # the flavor as it was at boot: Flavor's fields as a dict
    Column("flavor", JSON, nullable=False),
    Column("key_name", Name(255), nullable=True),
    Column("key_data", Text, nullable=True),
    Column("user_data", Text, nullable=True),
    Column("config_drive", String(255), nullable=True),
    Column("access_ip_v4", String(64), nullable=True),
    Column("access_ip_v6", String(64), nullable=True),
    Column("reservation_id", String(64), nullable=False),
    Column("launch_index", Integer, nullable=False, default=0),
    Column("locked", Boolean, nullable=False, default=False),
    Column("locked_by", String(16), nullable=True),
    Column("locked_reason", String(255), nullable=True),
    Column("progress", Integer, nullable=False, default=0),
    # whether the instance still holds its quota (released on NoValidHost and on delete)
    Column("quota_held", Boolean, nullable=False, default=True),
    # requests the agents need later: networks, block devices, security groups…
    Column("extra", JSON, nullable=False, default=dict),
    Column("launched_at", UTCDateTime, nullable=True),
    Column("terminated_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
    Index("ix_instances_project_deleted", "project_id", "deleted"),
    Index("ix_instances_host", "host"),
    Index("ix_instances_updated_at", "updated_at"),
)

instance_metadata = Table(
    "instance_metadata",
    metadata,
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           primary_key=True),
    Column("key", Name(255), primary_key=True),
    Column("value", String(255), nullable=False),
)

instance_system_metadata = Table(
    "instance_system_metadata",
    metadata,
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           primary_key=True),
    Column("key", Name(255), primary_key=True),
    Column("value", Text, nullable=True),
)

instance_tags = Table(
    "instance_tags",
    metadata,
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           primary_key=True),
    Column("tag", Name(80), primary_key=True),
)

instance_faults = Table(
    "instance_faults",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("code", Integer, nullable=False),
    Column("message", String(255), nullable=False),
    Column("details", Text, nullable=True),
    Column("host", Name(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

instance_actions = Table(
    "instance_actions",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("action", String(255), nullable=False),
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("request_id", String(255), nullable=False),
    Column("user_id", Id(), nullable=True),
    Column("project_id", Id(), nullable=True),
    Column("start_time", UTCDateTime, nullable=False),
    Column("finish_time", UTCDateTime, nullable=True),
    Column("message", String(255), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

instance_action_events = Table(
    "instance_action_events",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("action_id", AutoId, ForeignKey("instance_actions.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("event", String(255), nullable=False),
    Column("start_time", UTCDateTime, nullable=False),
    Column("finish_time", UTCDateTime, nullable=True),
    Column("result", String(255), nullable=True),
    Column("traceback", Text, nullable=True),
    Column("host", Name(255), nullable=True),
    Column("details", Text, nullable=True),
)

# resize / cold and live migration / evacuation records (written by the actions helper)
migrations = Table(
    "migrations",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("migration_type", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("source_compute", Name(255), nullable=True),
    Column("source_node", Name(255), nullable=True),
    Column("dest_compute", Name(255), nullable=True),
    Column("dest_node", Name(255), nullable=True),
    Column("dest_host", Name(255), nullable=True),
    Column("old_flavor", JSON, nullable=True),
    Column("new_flavor", JSON, nullable=True),
    Column("user_id", Id(), nullable=True),
    Column("project_id", Id(), nullable=True),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
)

# what the conductor needs to (re)schedule an instance: hints, az, group, failed hosts
request_specs = Table(
    "request_specs",
    metadata,
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           primary_key=True),
    Column("spec", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
)

# a periodic task's run on one host for one period (Nova's task_log): the instance
# usage audit writes one per host and audit period
task_log = Table(
    "task_log",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("task_name", Name(255), nullable=False),
    Column("state", String(255), nullable=False),
    Column("host", Name(255), nullable=False),
    Column("period_beginning", UTCDateTime, nullable=False),
    Column("period_ending", UTCDateTime, nullable=False),
    Column("message", String(255), nullable=False, default=""),
    Column("task_items", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
    UniqueConstraint("task_name", "host", "period_beginning", "period_ending"),
)

# --- end of core ---------------------------------------------------------------------


# --- networking: what compute knows of its servers' ports ------------------------------

# the ports a server uses, in attach order (Nova's virtual_interfaces): whether the
# user gave the port (then it is unbound, not deleted, when the server goes) and its
# device tag. Written before a user's port is taken, so a crash never makes compute
# delete a port that was not its own.
virtual_interfaces = Table(
    "virtual_interfaces",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           nullable=False),
    Column("port_id", Uuid, nullable=False),
    Column("preserve_on_delete", Boolean, nullable=False, default=False),
    Column("tag", Name(60), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("instance_uuid", "port_id"),
)

# the server's network info as last read from the networking service (Nova's
# instance_info_caches): one entry per port with its MAC, network, fixed and floating
# addresses (``nubo.compute.network_info``); ``addresses`` and the ``ip`` filters read
# it without asking networking
instance_info_caches = Table(
    "instance_info_caches",
    metadata,
    Column("instance_uuid", Uuid, ForeignKey("instances.uuid", ondelete="CASCADE"),
           primary_key=True),
    Column("network_info", JSON, nullable=False, default=list),
    Column("updated_at", UTCDateTime, nullable=False),
)

# --- end of networking ----------------------------------------------------------------
