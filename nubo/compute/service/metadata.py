"""What compute serves to the metadata proxy: the metadata of one of its
instances (``nubo.compute.metadata``), by instance id and path, as Nova's metadata
API answers Neutron's metadata agent."""

from __future__ import annotations

import os

from nubo.compute import metadata
from nubo.compute.service import instances
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime

Reply = metadata.Reply


async def answer(rt: Runtime, instance_id: str, path: str) -> Reply:
    """The answer to ``GET <path>`` from instance ``instance_id`` (404 when it is
    not a live instance)."""
    async with rt.db.read() as conn:
        try:
            instance = await instances.get(conn, instance_id)
        except NotFound:
            return metadata.NOT_FOUND
    return metadata.answer(instance, path, os.urandom(512))
