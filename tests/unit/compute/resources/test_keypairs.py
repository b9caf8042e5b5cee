"""Keypair fingerprints and key material checks."""

from __future__ import annotations

import base64
import hashlib

import pytest

from nubo.compute.service import keypairs
from nubo.core.errors import BadRequest


async def test_generated_key_fingerprint_is_md5_of_the_blob() -> None:
    private, public = await keypairs.generate()
    assert private.startswith("-----BEGIN RSA PRIVATE KEY-----")
    blob = base64.b64decode(public.split()[1])
    expected = ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())
    assert keypairs.fingerprint(public, "ssh") == expected


@pytest.mark.parametrize("material", [
    "", "ssh-rsa", "ssh-rsa not-base64!", "ssh-foo AAAA", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",
    "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----",
])
def test_bad_material(material: str) -> None:
    with pytest.raises(BadRequest):
        keypairs.fingerprint(material, "ssh")
    with pytest.raises(BadRequest):
        keypairs.fingerprint(material, "x509")
