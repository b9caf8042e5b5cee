"""Password hashing: argon2id by default, bcrypt, scrypt and PBKDF2-SHA512 on request.

Every hash names its algorithm and parameters, so :meth:`PasswordHasher.verify`
checks any supported hash whatever the configured algorithm, and
:meth:`PasswordHasher.needs_rehash` tells the caller to re-hash at the next successful
login. The formats are passlib's, the ones Keystone stores, so a Keystone user table
can be imported as is:

- ``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<digest>`` (also ``$argon2i$``, ``$argon2d$``)
- ``$2b$12$<salt><digest>`` (also ``$2a$``, ``$2y$``)
- ``$bcrypt-sha256$v=2,t=2b,r=12$<salt>$<digest>``
- ``$scrypt$ln=15,r=8,p=1$<salt>$<digest>``
- ``$pbkdf2-sha512$600000$<salt>$<digest>``

Passwords are hashed as their UTF-8 bytes, without Unicode normalisation, as Keystone
does. bcrypt reads at most 72 bytes. Keystone cut longer passwords to 72 bytes, so a
plain bcrypt hash is checked against the first 72 bytes of the password. nubo never
cuts: for a password longer than 72 bytes, a new bcrypt hash is made in passlib's
``bcrypt-sha256`` form, whose input is the base64 HMAC-SHA256 of the password keyed
with the salt (keyed, so a leaked unsalted SHA-256 of the password is no use to an
attacker). Its prefix tells ``verify`` to pre-hash the same way.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
from typing import ClassVar, Protocol

import argon2
import bcrypt

from nubo.core.errors import ConfigError, ValidationError

ALGORITHMS: tuple[str, ...] = ("argon2id", "bcrypt", "scrypt", "pbkdf2_sha512")

_SALT_BYTES = 16
_BCRYPT_MAX_BYTES = 72
_BCRYPT_SHA256 = "$bcrypt-sha256$"
_SCRYPT_MAX_MEMORY = (1 << 31) - 1  # hashlib.scrypt's ceiling for maxmem


class _Scheme(Protocol):
    """One algorithm: ``rounds`` and the other costs are fixed when it is made."""

    name: ClassVar[str]
    prefixes: ClassVar[tuple[str, ...]]

    def hash(self, secret: bytes) -> str: ...

    def verify(self, secret: bytes, hashed: str) -> bool: ...

    def needs_rehash(self, hashed: str) -> bool: ...


class PasswordHasher:
    """Hashes new passwords with one algorithm and verifies hashes made with any.

    ``rounds`` is the algorithm's cost: argon2id's time cost (default 2), bcrypt's log2
    cost (default 12), scrypt's log2 of N (default 15) or PBKDF2's iteration count
    (default 600,000, OWASP's figure for PBKDF2-HMAC-SHA512 is lower; this errs safe).
    """

    def __init__(self, algorithm: str = "argon2id", *, rounds: int | None = None) -> None:
        self._scheme = _make_scheme(algorithm, rounds)

    @property
    def algorithm(self) -> str:
        return self._scheme.name

    def hash(self, password: str) -> str:
        """Return a new salted hash of ``password`` with the configured algorithm."""
        try:
            secret = password.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("The password is not valid Unicode text.") from None
        return self._scheme.hash(secret)

    def verify(self, password: str, hashed: str) -> bool:
        """Tell whether ``password`` matches ``hashed``, in time independent of the match.

        False, not an error, for a hash this module cannot read.
        """
        scheme = self._scheme_for(hashed)
        try:
            secret = password.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return scheme is not None and scheme.verify(secret, hashed)

    def needs_rehash(self, hashed: str) -> bool:
        """Tell whether ``hashed`` was made with another algorithm or other costs."""
        scheme = self._scheme_for(hashed)
        return scheme is not self._scheme or self._scheme.needs_rehash(hashed)

    async def hash_async(self, password: str) -> str:
        """:meth:`hash` in a worker thread: it takes tens of milliseconds of CPU."""
        return await asyncio.to_thread(self.hash, password)

    async def verify_async(self, password: str, hashed: str) -> bool:
        """:meth:`verify` in a worker thread: it takes tens of milliseconds of CPU."""
        return await asyncio.to_thread(self.verify, password, hashed)

    def _scheme_for(self, hashed: str) -> _Scheme | None:
        if hashed.startswith(self._scheme.prefixes):
            return self._scheme
        for scheme_type in _SCHEMES.values():
            if hashed.startswith(scheme_type.prefixes):
                return scheme_type(None)
        return None


class _Argon2id:
    """argon2id with OWASP's first recommended setting: m=19 MiB, t=2, p=1.

    Not argon2-cffi's default (RFC 9106's low-memory profile, m=64 MiB, t=3, p=4): an
    API server hashes for many logins at once, and 19 MiB each keeps that affordable.
    """

    name: ClassVar[str] = "argon2id"
    prefixes: ClassVar[tuple[str, ...]] = ("$argon2id$", "$argon2i$", "$argon2d$")

    def __init__(self, rounds: int | None) -> None:
        time_cost = 2 if rounds is None else rounds
        if time_cost < 1:
            raise ConfigError("argon2id rounds (time cost) must be at least 1")
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=19 * 1024, parallelism=1, type=argon2.Type.ID
        )

    def hash(self, secret: bytes) -> str:
        return self._hasher.hash(secret)

    def verify(self, secret: bytes, hashed: str) -> bool:
        try:
            return self._hasher.verify(hashed, secret)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(hashed)
        except argon2.exceptions.InvalidHashError:
            return True


class _Bcrypt:
    """bcrypt, and passlib's bcrypt-sha256 for passwords past bcrypt's 72 bytes."""

    name: ClassVar[str] = "bcrypt"
    prefixes: ClassVar[tuple[str, ...]] = ("$2a$", "$2b$", "$2y$", _BCRYPT_SHA256)

    def __init__(self, rounds: int | None) -> None:
        self._rounds = 12 if rounds is None else rounds
        if not 4 <= self._rounds <= 31:
            raise ConfigError("bcrypt rounds (log2 cost) must be between 4 and 31")

    def hash(self, secret: bytes) -> str:
        settings = bcrypt.gensalt(self._rounds)
        if len(secret) <= _BCRYPT_MAX_BYTES:
            return bcrypt.hashpw(secret, settings).decode("ascii")
        salt = settings[-22:]
        digest = bcrypt.hashpw(_hmac_prehash(salt, secret), settings)[-31:]
        return f"{_BCRYPT_SHA256}v=2,t=2b,r={self._rounds}${salt.decode()}${digest.decode()}"

    def verify(self, secret: bytes, hashed: str) -> bool:
        try:
            if not hashed.startswith(_BCRYPT_SHA256):
                return bcrypt.checkpw(secret[:_BCRYPT_MAX_BYTES], hashed.encode("ascii"))
            ident, rounds, salt, digest = _parse_bcrypt_sha256(hashed)
            settings = f"${ident}${rounds:02d}${salt}".encode("ascii")
            return bcrypt.checkpw(_hmac_prehash(salt.encode("ascii"), secret), settings + digest)
        except ValueError:
            return False

    def needs_rehash(self, hashed: str) -> bool:
        try:
            if hashed.startswith(_BCRYPT_SHA256):
                ident, rounds, _, _ = _parse_bcrypt_sha256(hashed)
            else:
                ident, rounds = hashed[1:3], int(hashed[4:6])
        except ValueError:
            return True
        return ident != "2b" or rounds != self._rounds


def _hmac_prehash(salt: bytes, secret: bytes) -> bytes:
    """passlib's bcrypt-sha256 v2 input: base64 of HMAC-SHA256(key=salt, msg=password)."""
    return base64.b64encode(hmac.digest(salt, secret, "sha256"))


def _parse_bcrypt_sha256(hashed: str) -> tuple[str, int, str, bytes]:
    """Split ``$bcrypt-sha256$v=2,t=2b,r=12$<salt>$<digest>``; ValueError if it is not that."""
    params, salt, digest = hashed[len(_BCRYPT_SHA256) :].split("$")
    options = _options(params)
    ident = options.get("t", "")
    if options.get("v") != "2" or ident not in ("2a", "2b"):
        raise ValueError("unsupported bcrypt-sha256 version")
    if len(salt) != 22 or len(digest) != 31:
        raise ValueError("malformed bcrypt-sha256 hash")
    return ident, _int_option(options, "r"), salt, digest.encode("ascii")


class _Scrypt:
    """scrypt with N=2**15, r=8, p=1 by default (32 MiB per hash)."""

    name: ClassVar[str] = "scrypt"
    prefixes: ClassVar[tuple[str, ...]] = ("$scrypt$",)
    _block_size = 8
    _parallelism = 1

    def __init__(self, rounds: int | None) -> None:
        self._log_n = 15 if rounds is None else rounds
        if not 1 <= self._log_n <= 20:
            raise ConfigError("scrypt rounds (log2 N) must be between 1 and 20")

    def hash(self, secret: bytes) -> str:
        salt = secrets.token_bytes(_SALT_BYTES)
        params = (self._log_n, self._block_size, self._parallelism)
        digest = _scrypt(secret, salt, params)
        return f"$scrypt$ln={params[0]},r={params[1]},p={params[2]}${_b64(salt)}${_b64(digest)}"

    def verify(self, secret: bytes, hashed: str) -> bool:
        try:
            params, salt, digest = _parse_scrypt(hashed)
            return hmac.compare_digest(_scrypt(secret, salt, params, len(digest)), digest)
        except ValueError:
            return False

    def needs_rehash(self, hashed: str) -> bool:
        try:
            params, _, _ = _parse_scrypt(hashed)
        except ValueError:
            return True
        return params != (self._log_n, self._block_size, self._parallelism)


def _scrypt(secret: bytes, salt: bytes, params: tuple[int, int, int], length: int = 32) -> bytes:
    log_n, r, p = params
    memory = _scrypt_memory(log_n, r, p)
    if memory > _SCRYPT_MAX_MEMORY:
        raise ValueError("scrypt parameters need too much memory")
    return hashlib.scrypt(secret, salt=salt, n=1 << log_n, r=r, p=p, maxmem=memory, dklen=length)


def _scrypt_memory(log_n: int, r: int, p: int) -> int:
    """What OpenSSL reserves for scrypt (128·r·(N + p + 2) bytes), with some headroom."""
    return 128 * r * ((1 << log_n) + p + 2) + (1 << 20)


def _parse_scrypt(hashed: str) -> tuple[tuple[int, int, int], bytes, bytes]:
    """Split ``$scrypt$ln=15,r=8,p=1$<salt>$<digest>``; ValueError if it is not that."""
    _, ident, params, salt, digest = hashed.split("$")
    options = _options(params)
    log_n, r, p = (_int_option(options, name) for name in ("ln", "r", "p"))
    if ident != "scrypt" or min(log_n, r, p) < 1 or log_n > 63:
        raise ValueError("malformed scrypt hash")
    return (log_n, r, p), _unb64(salt), _unb64(digest)


class _Pbkdf2Sha512:
    """PBKDF2-HMAC-SHA512 with 600,000 iterations by default."""

    name: ClassVar[str] = "pbkdf2_sha512"
    prefixes: ClassVar[tuple[str, ...]] = ("$pbkdf2-sha512$",)

    def __init__(self, rounds: int | None) -> None:
        self._rounds = 600_000 if rounds is None else rounds
        if self._rounds < 1:
            raise ConfigError("pbkdf2_sha512 rounds must be at least 1")

    def hash(self, secret: bytes) -> str:
        salt = secrets.token_bytes(_SALT_BYTES)
        digest = hashlib.pbkdf2_hmac("sha512", secret, salt, self._rounds)
        return f"$pbkdf2-sha512${self._rounds}${_ab64(salt)}${_ab64(digest)}"

    def verify(self, secret: bytes, hashed: str) -> bool:
        try:
            rounds, salt, digest = _parse_pbkdf2(hashed)
        except ValueError:
            return False
        candidate = hashlib.pbkdf2_hmac("sha512", secret, salt, rounds, len(digest))
        return hmac.compare_digest(candidate, digest)

    def needs_rehash(self, hashed: str) -> bool:
        try:
            rounds, _, _ = _parse_pbkdf2(hashed)
        except ValueError:
            return True
        return rounds != self._rounds


def _parse_pbkdf2(hashed: str) -> tuple[int, bytes, bytes]:
    """Split ``$pbkdf2-sha512$<rounds>$<salt>$<digest>``; ValueError if it is not that."""
    _, ident, rounds, salt, digest = hashed.split("$")
    if ident != "pbkdf2-sha512" or int(rounds) < 1 or len(_unb64(digest)) != 64:
        raise ValueError("malformed pbkdf2-sha512 hash")
    return int(rounds), _unb64(salt), _unb64(digest)


def _options(params: str) -> dict[str, str]:
    """Read passlib's ``a=1,b=2`` parameter list."""
    return dict(item.partition("=")[::2] for item in params.split(","))


def _int_option(options: dict[str, str], name: str) -> int:
    if name not in options:
        raise ValueError(f"hash lacks its {name} parameter")
    return int(options[name])


def _b64(data: bytes) -> str:
    """Unpadded base64, as passlib writes scrypt salts and digests."""
    return base64.b64encode(data).rstrip(b"=").decode("ascii")


def _ab64(data: bytes) -> str:
    """passlib's "adapted base64": unpadded, with ``.`` in place of ``+``."""
    return _b64(data).replace("+", ".")


def _unb64(text: str) -> bytes:
    """Read either of the above; ValueError if it is neither."""
    padded = text.replace(".", "+") + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except binascii.Error as exc:
        raise ValueError("malformed base64") from exc


_SCHEMES: dict[str, type[_Argon2id | _Bcrypt | _Scrypt | _Pbkdf2Sha512]] = {
    scheme.name: scheme for scheme in (_Argon2id, _Bcrypt, _Scrypt, _Pbkdf2Sha512)
}


def _make_scheme(algorithm: str, rounds: int | None) -> _Scheme:
    try:
        scheme_type = _SCHEMES[algorithm]
    except KeyError:
        raise ConfigError(
            f"unknown password hash algorithm {algorithm!r}: choose one of {', '.join(ALGORITHMS)}"
        ) from None
    return scheme_type(rounds)
