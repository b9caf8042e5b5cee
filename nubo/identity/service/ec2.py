"""``/v3/users/{user_id}/credentials/OS-EC2``: EC2-style access/secret key pairs.

They are ``ec2`` credentials (``nubo.identity.service.credentials``) seen the EC2
way: addressed by their access key, whose sha256 is the credential's id, and shown
as ``{access, secret, user_id, tenant_id, trust_id}``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.identity.service import credentials, resource, users

EC2 = "ec2"


def to_ec2(cred: dict[str, Any]) -> dict[str, Any]:
    blob = json.loads(cred["blob"])
    return {"user_id": cred["user_id"], "tenant_id": cred["project_id"],
            "access": blob.get("access"), "secret": blob.get("secret"),
            "trust_id": blob.get("trust_id")}


async def create_ec2_credential(rt: Runtime, user_id: str, project_id: Any,
                                trust_id: str | None) -> dict[str, Any]:
    await users.get_user(rt, user_id)
    if not isinstance(project_id, str):
        raise NotFound(f"Could not find project: {project_id}.")
    await resource.get_project(rt, project_id)
    blob = {"access": uuid.uuid4().hex, "secret": uuid.uuid4().hex, "trust_id": trust_id}
    cred = await credentials.create_credential(rt, {
        "user_id": user_id, "project_id": project_id, "type": EC2, "blob": json.dumps(blob)})
    return to_ec2(cred)


async def list_ec2_credentials(rt: Runtime, user_id: str) -> list[dict[str, Any]]:
    await users.get_user(rt, user_id)
    found = await credentials.list_credentials(rt, {"user_id": user_id, "type": EC2})
    return [to_ec2(c) for c in found]


async def get_ec2_credential(rt: Runtime, access: str) -> dict[str, Any]:
    """The stored credential behind an access key (NotFound if it is not an EC2 one)."""
    try:
        cred = await credentials.get_credential(rt, credentials.ec2_id(access))
    except NotFound:
        raise NotFound(f"Could not find credential: {access}.") from None
    if cred["type"] != EC2:
        raise NotFound(f"Could not find credential: {access}.")
    return cred


async def delete_ec2_credential(rt: Runtime, access: str) -> None:
    await get_ec2_credential(rt, access)
    await credentials.delete_credential(rt, credentials.ec2_id(access))
