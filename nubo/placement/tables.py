"""Placement tables. Only ``nubo.placement`` reads or writes these.

Resource classes and traits are stored by name: the standard ones live in code
(``nubo.placement.standards``), custom ones (``CUSTOM_*``) in their tables.
Every change to a provider's inventory, traits, aggregates or allocations bumps
``resource_provider.generation`` with a compare-and-set, which is what keeps
concurrent claims from overcommitting.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from nubo.core.db.base import AutoId, UTCDateTime, Uuid, metadata

ClassName = String(255)

resource_provider = Table(
    "resource_provider",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("generation", Integer, nullable=False, default=0),
    Column("parent_provider_uuid", Uuid, nullable=True, index=True),
    Column("root_provider_uuid", Uuid, nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

inventory = Table(
    "placement_inventory",
    metadata,
    Column("provider_id", AutoId, ForeignKey("resource_provider.id", ondelete="CASCADE"),
           primary_key=True),
    Column("resource_class", ClassName, primary_key=True),
    Column("total", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, default=0),
    Column("min_unit", Integer, nullable=False, default=1),
    Column("max_unit", Integer, nullable=False),
    Column("step_size", Integer, nullable=False, default=1),
    Column("allocation_ratio", Float, nullable=False, default=1.0),
)

custom_resource_class = Table(
    "placement_resource_class",
    metadata,
    Column("name", ClassName, primary_key=True),
)

custom_trait = Table(
    "placement_trait",
    metadata,
    Column("name", ClassName, primary_key=True),
)

provider_trait = Table(
    "placement_provider_trait",
    metadata,
    Column("provider_id", AutoId, ForeignKey("resource_provider.id", ondelete="CASCADE"),
           primary_key=True),
    Column("trait", ClassName, primary_key=True),
)

provider_aggregate = Table(
    "placement_provider_aggregate",
    metadata,
    Column("provider_id", AutoId, ForeignKey("resource_provider.id", ondelete="CASCADE"),
           primary_key=True),
    Column("aggregate", Uuid, primary_key=True),
)

consumer = Table(
    "placement_consumer",
    metadata,
    Column("uuid", Uuid, primary_key=True),
    Column("project_id", String(255), nullable=False, index=True),
    Column("user_id", String(255), nullable=False),
    Column("consumer_type", String(255), nullable=True),
    Column("generation", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

allocation = Table(
    "placement_allocation",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("provider_id", AutoId, ForeignKey("resource_provider.id"), nullable=False),
    Column("consumer_uuid", Uuid, ForeignKey("placement_consumer.uuid", ondelete="CASCADE"),
           nullable=False),
    Column("resource_class", ClassName, nullable=False),
    Column("used", Integer, nullable=False),
    UniqueConstraint("consumer_uuid", "provider_id", "resource_class"),
    Index("ix_placement_allocation_provider_class", "provider_id", "resource_class"),
)
