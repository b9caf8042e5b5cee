"""Keypairs: public keys a user registers to be injected into servers, per user."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from nubo.compute import tables as t
from nubo.compute.service import quotas
from nubo.core.db.base import utcnow
from nubo.core.errors import BadRequest, Conflict, Forbidden, NotFound
from nubo.core.runtime import Runtime

K = t.key_pairs
SSH_TYPES = ("ssh-rsa", "ssh-ed25519", "ssh-dss", "ecdsa-sha2-nistp256",
             "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")


@dataclass(frozen=True)
class Keypair:
    name: str
    user_id: str
    public_key: str
    type: str
    fingerprint: str
    id: int = 0
    created_at: Any = None


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def ssh_fingerprint(public_key: str) -> str:
    """Nova's fingerprint of an OpenSSH public key: MD5 of the key blob, colon hex.
    The key is parsed fully, so malformed material is refused."""
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    parts = public_key.strip().split()
    if len(parts) < 2 or parts[0] not in SSH_TYPES:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (binascii.Error, ValueError, TypeError):
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    return _colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate: str) -> str:
    """SHA-1 of the certificate's DER bytes, colon hex (as Nova computes it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    der = cert.public_bytes(serialization.Encoding.DER)
    return _colon_hex(hashlib.sha1(der, usedforsecurity=False).digest())


def fingerprint(public_key: str, key_type: str) -> str:
    return x509_fingerprint(public_key) if key_type == "x509" else ssh_fingerprint(public_key)


def _generate_rsa() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} Generated-by-Nova"


def _generate_x509(subject: str) -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject[:64] or "nubo")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


async def generate(key_type: str = "ssh", subject: str = "") -> tuple[str, str]:
    """A new key pair: (private key PEM, OpenSSH public key or x509 certificate PEM)."""
    if key_type == "x509":
        return await asyncio.to_thread(_generate_x509, subject)
    return await asyncio.to_thread(_generate_rsa)


def _keypair(row: Any) -> Keypair:
    return Keypair(name=row.name, user_id=row.user_id, public_key=row.public_key,
                   type=row.type, fingerprint=row.fingerprint, id=row.id,
                   created_at=row.created_at)


async def get_keypair(rt: Runtime, user_id: str, name: str) -> Keypair:
    async with rt.db.read() as conn:
        row = (await conn.execute(select(K).where(K.c.user_id == user_id,
                                                  K.c.name == name))).first()
    if row is None:
        raise NotFound(f"Keypair {name} not found for user {user_id}")
    return _keypair(row)


async def list_keypairs(rt: Runtime, user_id: str, *, limit: int | None = None,
                        marker: str | None = None) -> list[Keypair]:
    stmt = select(K).where(K.c.user_id == user_id).order_by(K.c.name.asc())
    async with rt.db.read() as conn:
        if marker is not None:
            if not (await conn.execute(select(K.c.id).where(
                    K.c.user_id == user_id, K.c.name == marker))).first():
                raise BadRequest(f"Marker {marker} could not be found.")
            stmt = stmt.where(K.c.name > marker)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_keypair(r) for r in await conn.execute(stmt)]


async def create_keypair(rt: Runtime, *, project_id: str, user_id: str, name: str,
                         public_key: str, key_type: str) -> Keypair:
    """Store an imported (already validated) public key, within the key_pairs quota."""
    fp = fingerprint(public_key, key_type)
    await quotas.ensure_usage_rows(rt, "", user_id, ("key_pairs",))
    try:
        async with rt.db.transaction() as tx:
            # keypairs are counted per user: one creation at a time per user
            await quotas.serialize(tx, "", user_id, "key_pairs")
            limits = await quotas.project_limits(tx.conn, rt, project_id, user_id)
            count = (await tx.execute(select(func.count()).select_from(K).where(
                K.c.user_id == user_id))).scalar_one()
            if quotas.exceeds(limits["key_pairs"], count, 1):
                raise Forbidden("Quota exceeded, too many key pairs.")
            if (await tx.execute(select(K.c.id).where(K.c.user_id == user_id,
                                                      K.c.name == name))).first():
                raise Conflict(f"Key pair '{name}' already exists.")
            await tx.execute(insert(K).values(user_id=user_id, name=name, public_key=public_key,
                                              type=key_type, fingerprint=fp,
                                              created_at=utcnow()))
    except IntegrityError:
        raise Conflict(f"Key pair '{name}' already exists.") from None
    return await get_keypair(rt, user_id, name)


async def delete_keypair(rt: Runtime, user_id: str, name: str) -> None:
    async with rt.db.transaction() as tx:
        result = await tx.execute(delete(K).where(K.c.user_id == user_id, K.c.name == name))
        if result.rowcount == 0:
            raise NotFound(f"Keypair {name} not found for user {user_id}")
