"""The shared SQLAlchemy metadata and the column types every service uses.

Each service declares its tables in its own ``tables.py`` on this one
``metadata``; a service never imports another service's tables.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def new_id() -> str:
    """OpenStack ids: 32 lowercase hex digits (Keystone) or dashed UUIDs (the rest)."""
    return uuid.uuid4().hex


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Naive UTC datetimes in the database, with microseconds on every back end."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value


# an auto-increment key: BIGINT on PostgreSQL and MariaDB, INTEGER on SQLite (only an
# INTEGER PRIMARY KEY auto-increments there)
AutoId = BigInteger().with_variant(Integer, "sqlite")
# a UUID in its 36-character text form
Uuid = String(36)


def Id() -> String:
    return String(64)


def Name(length: int = 255) -> String:
    return String(length)


JsonDict = JSON
