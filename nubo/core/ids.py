"""Random (version 4) UUIDs as ``uuid.uuid4`` makes them, from kernel randomness read
4 KiB at a time instead of one system call per id: hot paths make several ids per
request (the resource's, the request's, each message's, the audit event's)."""

from __future__ import annotations

import os
import threading
import uuid

_CHUNK = 4096
_local = threading.local()


def _fresh() -> None:
    """Forget buffered bytes (a forked child must not hand out its parent's ids)."""
    global _local
    _local = threading.local()


os.register_at_fork(after_in_child=_fresh)


def uuid4() -> uuid.UUID:
    buffered: bytes = getattr(_local, "buffered", b"")
    at: int = getattr(_local, "at", 0)
    if at + 16 > len(buffered):
        buffered, at = os.urandom(_CHUNK), 0
        _local.buffered = buffered
    _local.at = at + 16
    return uuid.UUID(bytes=buffered[at:at + 16], version=4)


def new_uuid() -> str:
    """``str(uuid4())``."""
    return str(uuid4())
