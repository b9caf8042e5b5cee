"""Image tables. Only ``nubo.image`` reads or writes these.

Custom properties and tags live as JSON on the image row: they are always read
with the image, and listing filters on them in the service (see ``listing.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from nubo.core.db.base import Id, Name, UTCDateTime, metadata

image = Table(
    "image",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Name(255), nullable=True),
    Column("status", String(30), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("protected", Boolean, nullable=False, default=False),
    Column("os_hidden", Boolean, nullable=False, default=False),
    Column("checksum", String(32), nullable=True),
    Column("os_hash_algo", String(64), nullable=True),
    Column("os_hash_value", String(128), nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("virtual_size", BigInteger, nullable=True),
    Column("min_disk", Integer, nullable=False, default=0),
    Column("min_ram", Integer, nullable=False, default=0),
    Column("disk_format", String(20), nullable=True),
    Column("container_format", String(20), nullable=True),
    Column("owner", Id(), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # bytes held in the staging area (interoperable import), counted by image_stage_total
    Column("staged_size", BigInteger, nullable=True),
    Column("properties", JSON, nullable=False, default=dict),
    Column("tags", JSON, nullable=False, default=list),
    Index("ix_image_owner", "owner"),
)

image_member = Table(
    "image_member",
    metadata,
    Column("image_id", String(36), ForeignKey("image.id", ondelete="CASCADE"),
           primary_key=True),
    Column("member_id", Name(255), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_image_member_member_id", "member_id"),
)

# Metadata definitions (metadefs): a catalogue of the properties, objects and tags
# images and other resources may carry, grouped in namespaces.
metadef_namespace = Table(
    "metadef_namespace",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("namespace", Name(80), nullable=False, unique=True),
    Column("display_name", Name(80), nullable=True),
    Column("description", Name(500), nullable=True),
    Column("visibility", String(16), nullable=False),
    Column("protected", Boolean, nullable=False, default=False),
    Column("owner", Id(), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per object, property, tag or resource-type association of a namespace;
# ``body`` holds the rest of its definition as the API shows it.
metadef_item = Table(
    "metadef_item",
    metadata,
    Column("namespace_id", String(36), ForeignKey("metadef_namespace.id", ondelete="CASCADE"),
           primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("name", Name(255), primary_key=True),
    Column("body", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


# tasks (Glance's tasks and task_info): an interoperable import's progress, shown
# under its image (``GET /v2/images/{id}/tasks``, 2.12) and to admins (``/v2/tasks``)
task = Table(
    "image_task",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(30), nullable=False),
    Column("status", String(30), nullable=False),
    Column("owner", Id(), nullable=True),
    # no foreign key: a task outlives its image, as in Glance
    Column("image_id", String(36), nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("user_id", Id(), nullable=True),
    Column("input", JSON, nullable=False),
    Column("result", JSON, nullable=True),
    Column("message", Text, nullable=False, default=""),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_image_task_image_id", "image_id"),
)
