"""``/v3/credentials``: opaque secrets a user keeps with identity (EC2 key pairs,
TOTP seeds, anything typed), their blobs encrypted at rest.

Blobs are encrypted with Fernet keys from their own key repository,
``<state_dir>/credential-keys`` (Keystone's ``credential`` repository), kept apart
from the token keys so that the two rotate independently. ``key_hash`` records the
primary key a blob was encrypted with (sha1, as Keystone does), so a rotation can
find the blobs still to re-encrypt (``nubo identity migrate-credentials``) before the
next ``nubo identity rotate-credential-keys``. An ``ec2`` credential's id is the sha256 of its
access key, which is how the EC2 token API finds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography import fernet
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.core.config import Settings
from nubo.core.db.base import new_id
from nubo.core.db.engine import Database
from nubo.core.errors import Conflict, NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.fernet import KeyRepository

STATE_KEY = "identity.credential_keys"
EC2_SCOPE_KEYS = ("trust_id", "app_cred_id", "access_token_id", "access_id")


# ---------------------------------------------------------------- encryption


def key_repository(settings: Settings) -> KeyRepository:
    return KeyRepository(settings.state_path / "credential-keys")


def _repository(rt: Runtime) -> KeyRepository:
    repo = rt.state.get(STATE_KEY)
    if repo is None:
        repo = key_repository(rt.settings)
        repo.setup()
        rt.state[STATE_KEY] = repo
    assert isinstance(repo, KeyRepository)
    return repo


def _encrypt(keys: tuple[bytes, ...], blob: str) -> tuple[str, str]:
    token = fernet.MultiFernet([fernet.Fernet(k) for k in keys]).encrypt(blob.encode())
    return token.decode(), key_hash(keys)


def key_hash(keys: tuple[bytes, ...]) -> str:
    """The sha1 of the primary key, as Keystone records it beside each blob."""
    return hashlib.sha1(keys[0]).hexdigest()


def _decrypt(keys: tuple[bytes, ...], encrypted: str) -> str:
    try:
        return fernet.MultiFernet([fernet.Fernet(k) for k in keys]).decrypt(
            encrypted.encode()).decode()
    except fernet.InvalidToken:
        raise NotFound("The credential's blob cannot be decrypted with the current keys.") from None


def encrypt(rt: Runtime, blob: str) -> tuple[str, str]:
    """The encrypted blob and the sha1 of the primary key that encrypted it."""
    return _encrypt(_repository(rt).keys(), blob)


def decrypt(rt: Runtime, encrypted: str) -> str:
    return _decrypt(_repository(rt).keys(), encrypted)


# ---------------------------------------------------------------- key rotation (operator CLI)


async def count_off_primary(db: Database, repo: KeyRepository) -> int:
    """How many blobs are not encrypted with the primary key."""
    primary = key_hash(repo.keys())
    async with db.read() as conn:
        rows = await conn.execute(select(t.credential.c.id).where(
            t.credential.c.key_hash != primary))
        return len(list(rows))


async def migrate_to_primary(db: Database, repo: KeyRepository) -> int:
    """Re-encrypt every blob that is not under the primary key (Keystone's
    ``credential_migrate``); returns how many were rewritten."""
    keys = repo.keys()
    primary = key_hash(keys)
    async with db.transaction() as tx:
        rows = list(await tx.execute(select(t.credential.c.id, t.credential.c.encrypted_blob)
                                     .where(t.credential.c.key_hash != primary)))
        for row in rows:
            blob, hashed = _encrypt(keys, _decrypt(keys, row.encrypted_blob))
            await tx.execute(update(t.credential).where(t.credential.c.id == row.id)
                             .values(encrypted_blob=blob, key_hash=hashed))
    return len(rows)


async def rotate_keys(db: Database, repo: KeyRepository, max_active_keys: int) -> int:
    """Promote the staged key (Keystone's ``credential_rotate``). Refused while any
    blob is still under an older key: a rotation could drop that key for good."""
    repo.setup()
    behind = await count_off_primary(db, repo)
    if behind:
        raise Conflict(f"{behind} credential(s) are not encrypted with the primary key; "
                       f"run `nubo identity migrate-credentials` first.")
    return repo.rotate(max_active_keys)


# ---------------------------------------------------------------- validation


def _string(body: Mapping[str, Any], key: str) -> None:
    if key in body and not isinstance(body[key], str):
        raise ValidationError(f"Invalid input for field '{key}': {body[key]!r} is not of type "
                              f"'string'.")


def _check(body: Mapping[str, Any], creating: bool) -> None:
    if creating:
        for key in ("blob", "type", "user_id"):
            if key not in body:
                raise ValidationError(f"'{key}' is a required property.")
        if body["type"] == "ec2" and "project_id" not in body:
            raise ValidationError("'project_id' is a required property: an ec2 credential "
                                  "requires project_id.")
    elif not body:
        raise ValidationError("The credential update needs at least one property.")
    for key in ("blob", "type", "user_id"):
        _string(body, key)
    if "project_id" in body and not isinstance(body["project_id"], (str, type(None))):
        raise ValidationError(f"Invalid input for field 'project_id': {body['project_id']!r} "
                              f"is not of type 'string'.")


def ec2_blob(blob: str) -> dict[str, Any]:
    try:
        parsed = json.loads(blob)
    except ValueError:
        raise ValidationError("Invalid blob in credential") from None
    if not parsed or not isinstance(parsed, dict):
        raise ValidationError("Invalid input for field 'blob': an ec2 credential's blob is a "
                              "JSON object.")
    if parsed.get("access") is None:
        raise ValidationError("Invalid input for field 'access': an ec2 credential's blob "
                              "needs an access key.")
    return parsed


def ec2_id(access: Any) -> str:
    return hashlib.sha256(str(access).encode()).hexdigest()


# ---------------------------------------------------------------- operations


def _render(rt: Runtime, row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], user_id=row["user_id"], project_id=row["project_id"],
               type=row["type"], blob=decrypt(rt, row["encrypted_blob"]))
    return out


async def _row(conn: Any, credential_id: str) -> Mapping[Any, Any]:
    found = (await conn.execute(select(t.credential).where(
        t.credential.c.id == credential_id))).first()
    if found is None:
        raise NotFound(f"Could not find credential: {credential_id}.")
    row: Mapping[Any, Any] = found._mapping
    return row


async def get_credential(rt: Runtime, credential_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return _render(rt, await _row(conn, credential_id))


async def list_credentials(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q = select(t.credential)
    for key in ("user_id", "type"):
        if key in filters:
            q = q.where(t.credential.c[key] == filters[key])
    async with rt.db.read() as conn:
        rows = [r._mapping for r in await conn.execute(q.order_by(t.credential.c.id))]
    return [_render(rt, r) for r in rows]


def _extra(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items()
            if k not in ("id", "user_id", "project_id", "type", "blob", "links")}


async def create_credential(rt: Runtime, body: Mapping[str, Any],
                            scope: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """``scope``: the trust or application credential the caller's token came from;
    an ec2 blob remembers it, so EC2 tokens get the same limits."""
    _check(body, True)
    blob = body["blob"]
    cred_id = body.get("id") if isinstance(body.get("id"), str) else None
    if body["type"] == "ec2":
        parsed = ec2_blob(blob)
        for key, value in (scope or {}).items():
            if value:
                parsed[key] = value
        blob = json.dumps(parsed)
        cred_id = ec2_id(parsed["access"])
    encrypted, key_hash = encrypt(rt, blob)
    row = {"id": cred_id or new_id(), "user_id": body["user_id"],
           "project_id": body.get("project_id"), "type": body["type"],
           "encrypted_blob": encrypted, "key_hash": key_hash, "extra": _extra(body)}
    async with rt.db.transaction() as tx:
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(t.credential).values(**row))
        except IntegrityError:
            raise Conflict(f"Conflict occurred attempting to store credential - Duplicate ID, "
                           f"{row['id']}.") from None
    return _render(rt, row)


async def update_credential(rt: Runtime, credential_id: str, body: Mapping[str, Any]
                            ) -> dict[str, Any]:
    _check(body, False)
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, credential_id)
        current = _render(rt, row)
        new_type = body.get("type", row["type"])
        values: dict[str, Any] = {k: body[k] for k in ("user_id", "project_id", "type")
                                  if k in body}
        if new_type == "ec2":
            if (body.get("project_id", row["project_id"])) is None:
                raise ValidationError("Invalid input for field 'project_id': an ec2 credential "
                                      "requires project_id.")
            new_blob = ec2_blob(body.get("blob", current["blob"]))
            old_blob = ec2_blob(current["blob"]) if row["type"] == "ec2" else {}
            for key in EC2_SCOPE_KEYS:
                if old_blob.get(key) != new_blob.get(key):
                    raise ValidationError(f"{key} can not be updated for credential")
        if "blob" in body:
            values["encrypted_blob"], values["key_hash"] = encrypt(rt, body["blob"])
        extra = _extra(body)
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            await tx.execute(update(t.credential).where(t.credential.c.id == credential_id)
                             .values(**values))
        new = await _row(tx.conn, credential_id)
    return _render(rt, new)


async def delete_credential(rt: Runtime, credential_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _row(tx.conn, credential_id)
        await tx.execute(delete(t.credential).where(t.credential.c.id == credential_id))
