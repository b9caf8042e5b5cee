"""What compute serves to the metadata proxy: the metadata of one of its
instances (``nubo.compute.metadata``), by instance id and path, as Nova's metadata
API answers Neutron's metadata agent, and the one thing a guest posts: its
password."""

from __future__ import annotations

import os

from nubo.compute import metadata
from nubo.compute.service import instances, server_password
from nubo.core.errors import Conflict, NotFound
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


async def post(rt: Runtime, instance_id: str, path: str, body: bytes) -> Reply:
    """The answer to ``POST <path>`` from instance ``instance_id``: only the
    password takes one (405 elsewhere), once (409 when one is set), of at most
    ``metadata.MAX_PASSWORD`` characters (400)."""
    if not metadata.password_post(path):
        return metadata.Reply(405, metadata.TEXT, b"Method Not Allowed")
    if len(body) > metadata.MAX_PASSWORD:
        return metadata.Reply(400, metadata.TEXT, b"Request is too large.")
    try:
        password = body.decode("ascii")
    except UnicodeDecodeError:
        return metadata.Reply(400, metadata.TEXT, b"The password is base64 text.")
    try:
        await server_password.set_from_guest(rt, instance_id, password)
    except NotFound:
        return metadata.NOT_FOUND
    except Conflict:
        return metadata.Reply(409, metadata.TEXT, b"Password already set.")
    return metadata.Reply(200, metadata.TEXT, b"")
