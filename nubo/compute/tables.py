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

from nubo.core.db.base import Id, Name, UTCDateTime, metadata

AutoId = BigInteger().with_variant(Integer, "sqlite")
Uuid = String(36)

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
