"""Tables of the core machinery: the outbox."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from nubo.core.db.base import AutoId, UTCDateTime, metadata

# Messages written in the same transaction as the state change they announce;
# the relay publishes them on the bus and deletes them (at-least-once).
outbox = Table(
    "outbox",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
