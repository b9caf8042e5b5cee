"""Fernet tokens as Keystone makes them: a key repository and a token formatter.

The key repository is a directory of key files named by integers (Keystone's layout,
so ``keystone-manage fernet_setup`` repositories work unchanged):

- ``0`` is the *staged* key: it decrypts but never encrypts, so that a rotation done on
  one node can be copied to the others before any of them encrypts with it;
- the highest number is the *primary* key, the only one that encrypts;
- every other number is a *secondary* key, kept to decrypt tokens issued before the
  last rotations.

Rotation (``nubo identity rotate-keys``) runs in another process than the API servers,
so :meth:`KeyRepository.keys` notices changes on disk by itself, looking at most once
per ``recheck_interval`` seconds.

A token is a Fernet token over a msgpack list. Its first element tags the scope kind,
the rest is laid out by ``_FIELDS``; trailing empty fields are left out. Ids that are
32 lowercase hex digits (``uuid4().hex``, as Keystone makes them) travel as 16 bytes,
audit ids as their 16 random bytes; anything else travels as text, so every id comes
back exactly as given. Unlike Keystone's, the payload carries ``issued_at`` to the
microsecond, so Keystone and nubo cannot read each other's tokens (only their keys).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import enum
import fcntl
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgpack
from cryptography import fernet

from nubo.core.errors import ConfigError, Unauthorized

# Bit i of a token's method mask stands for METHODS[i]. Never reorder: tokens in flight
# would change meaning.
METHODS: tuple[str, ...] = (
    "password",
    "token",
    "application_credential",
    "totp",
    "oauth1",
    "mapped",
    "external",
)

STAGED_KEY = 0
# Keystone warns past 255 characters; a nubo project-scoped token is about 190.
_MAX_TOKEN_LENGTH = 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_HEX = frozenset("0123456789abcdef")
# [scope kind, user_id, methods, expires_at, issued_at, audit_ids, scope, app_cred, trust]
_FIELDS = 9


class InvalidToken(Unauthorized):
    """The token is not one of ours: malformed, tampered with, or its key was dropped.

    The API edge renders this as 401 for ``X-Auth-Token`` and as 404 "Could not find
    token" for ``X-Subject-Token``, as Keystone does.
    """

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or "The request you have made requires authentication.", **details)


class ExpiredToken(InvalidToken):
    """The token was ours and intact, but its ``expires_at`` has passed."""

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or "The token has expired.", **details)


class ScopeKind(enum.IntEnum):
    """What a token is scoped to; the value is the tag that opens the payload.

    The numbers are Keystone's payload versions for the same scopes.
    """

    UNSCOPED = 0
    DOMAIN = 1
    PROJECT = 2
    SYSTEM = 8


def new_audit_id() -> str:
    """Return a fresh audit id: 16 random bytes as 22 characters of urlsafe base64."""
    return secrets.token_urlsafe(16)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class TokenPayload:
    """Everything a token carries. Times are aware UTC datetimes, kept to the microsecond.

    ``methods`` is a set in meaning: it is stored deduplicated in ``METHODS`` order,
    which is the order a decoded token has. At most one of ``project_id``,
    ``domain_id`` and ``system`` is set; none means unscoped. ``audit_ids`` holds the
    token's own audit id, then its parent's when it was made from another token.
    """

    user_id: str
    methods: tuple[str, ...]
    expires_at: datetime
    audit_ids: tuple[str, ...]
    issued_at: datetime = field(default_factory=_utcnow)
    project_id: str | None = None
    domain_id: str | None = None
    system: str | None = None
    app_cred_id: str | None = None
    trust_id: str | None = None

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ValueError("a token needs a user_id")
        if not 1 <= len(self.audit_ids) <= 2 or not all(self.audit_ids):
            raise ValueError("a token has one or two audit ids")
        scopes = [s for s in (self.project_id, self.domain_id, self.system) if s is not None]
        if len(scopes) > 1 or "" in scopes:
            raise ValueError("a token has at most one scope: project, domain or system")
        object.__setattr__(self, "methods", _canonical_methods(self.methods))
        object.__setattr__(self, "audit_ids", tuple(self.audit_ids))
        object.__setattr__(self, "expires_at", _as_utc("expires_at", self.expires_at))
        object.__setattr__(self, "issued_at", _as_utc("issued_at", self.issued_at))

    @property
    def scope_kind(self) -> ScopeKind:
        if self.project_id is not None:
            return ScopeKind.PROJECT
        if self.domain_id is not None:
            return ScopeKind.DOMAIN
        if self.system is not None:
            return ScopeKind.SYSTEM
        return ScopeKind.UNSCOPED

    @property
    def scope_id(self) -> str | None:
        return self.project_id or self.domain_id or self.system


def _canonical_methods(methods: tuple[str, ...]) -> tuple[str, ...]:
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown authentication methods: {sorted(unknown)}")
    if not methods:
        raise ValueError("a token needs at least one authentication method")
    return tuple(m for m in METHODS if m in methods)


def _as_utc(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


# --- payload encoding -----------------------------------------------------------------


def encode_payload(payload: TokenPayload) -> bytes:
    """Pack a payload into the msgpack list that a token encrypts."""
    fields: list[object] = [
        int(payload.scope_kind),
        _pack_id(payload.user_id),
        sum(1 << METHODS.index(m) for m in payload.methods),
        _to_micros(payload.expires_at),
        _to_micros(payload.issued_at),
        [_pack_audit_id(a) for a in payload.audit_ids],
        _pack_optional_id(payload.scope_id),
        _pack_optional_id(payload.app_cred_id),
        _pack_optional_id(payload.trust_id),
    ]
    while fields[-1] is None:
        fields.pop()
    packed: bytes = msgpack.packb(fields, use_bin_type=True)
    return packed


def decode_payload(data: bytes) -> TokenPayload:
    """Unpack :func:`encode_payload`'s output; raise ``ValueError`` or ``TypeError`` if bad."""
    fields = msgpack.unpackb(data, raw=False)
    if not isinstance(fields, list) or not 6 <= len(fields) <= _FIELDS:
        raise ValueError("not a nubo token payload")
    fields += [None] * (_FIELDS - len(fields))
    kind = ScopeKind(fields[0])
    scope = _unpack_optional_id(fields[6])
    if (kind is ScopeKind.UNSCOPED) != (scope is None):
        raise ValueError("scope does not match the payload's scope kind")
    return TokenPayload(
        user_id=_unpack_id(fields[1]),
        methods=_unpack_methods(fields[2]),
        expires_at=_from_micros(fields[3]),
        issued_at=_from_micros(fields[4]),
        audit_ids=tuple(_unpack_audit_id(a) for a in _as_list(fields[5])),
        project_id=scope if kind is ScopeKind.PROJECT else None,
        domain_id=scope if kind is ScopeKind.DOMAIN else None,
        system=scope if kind is ScopeKind.SYSTEM else None,
        app_cred_id=_unpack_optional_id(fields[7]),
        trust_id=_unpack_optional_id(fields[8]),
    )


def _pack_id(value: str) -> bytes | str:
    if len(value) == 32 and _HEX.issuperset(value):
        return bytes.fromhex(value)
    return value


def _pack_optional_id(value: str | None) -> bytes | str | None:
    return None if value is None else _pack_id(value)


def _unpack_id(value: object) -> str:
    if isinstance(value, bytes) and len(value) == 16:
        return value.hex()
    if isinstance(value, str) and value:
        return value
    raise TypeError("an id is 16 bytes or a non-empty string")


def _unpack_optional_id(value: object) -> str | None:
    return None if value is None else _unpack_id(value)


def _pack_audit_id(value: str) -> bytes | str:
    """Audit ids from :func:`new_audit_id` shrink to their 16 bytes; others stay text."""
    if len(value) != 22:
        return value
    try:
        raw = base64.urlsafe_b64decode(value + "==")
    except (binascii.Error, ValueError):
        return value
    return raw if _unpack_audit_id(raw) == value else value


def _unpack_audit_id(value: object) -> str:
    if isinstance(value, bytes):
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")
    if isinstance(value, str):
        return value
    raise TypeError("an audit id is bytes or a string")


def _unpack_methods(value: object) -> tuple[str, ...]:
    mask = _as_int(value)
    if mask >> len(METHODS):
        raise ValueError("unknown method bits in token")
    return tuple(m for i, m in enumerate(METHODS) if mask & (1 << i))


def _to_micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _from_micros(value: object) -> datetime:
    return _EPOCH + _as_int(value) * _MICROSECOND


def _as_int(value: object) -> int:
    if type(value) is not int:
        raise TypeError("expected an integer")
    return value


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


# --- key repository -------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    """The keys as last read, and what the directory looked like when they were."""

    signature: tuple[object, ...]
    keys: tuple[bytes, ...]
    checked_at: float


class KeyRepository:
    """A directory of Fernet keys, written by ``setup``/``rotate`` and read by ``keys``."""

    def __init__(self, path: Path, *, recheck_interval: float = 1.0) -> None:
        self.path = Path(path)
        self._recheck_interval = recheck_interval
        self._snapshot: _Snapshot | None = None

    def setup(self) -> None:
        """Create the directory (0700) holding a staged key 0 and a primary key 1.

        Does nothing to a repository that already holds keys.
        """
        if not self.path.exists():
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.path.chmod(0o700)
        with _locked(self.path):
            if self._key_ids():
                return
            _write_key(self.path, 1)
            _write_key(self.path, STAGED_KEY)
        self._snapshot = None

    def rotate(self, max_active_keys: int = 3) -> int:
        """Promote the staged key to primary, stage a new key, drop the oldest keys.

        At most ``max_active_keys`` keys remain, the staged one included. Tokens
        encrypted with a dropped key stop validating. Returns the new primary's number.
        """
        if max_active_keys < 2:
            raise ConfigError("max_active_keys must be at least 2: a staged and a primary key")
        with _locked(self.path):
            ids = self._key_ids()
            if STAGED_KEY not in ids:
                raise ConfigError(f"no staged key {self.path / '0'}: set the repository up first")
            primary = max(ids) + 1
            os.rename(self.path / str(STAGED_KEY), self.path / str(primary))
            _write_key(self.path, STAGED_KEY)
            active = sorted((ids - {STAGED_KEY}) | {primary}, reverse=True)
            for old in active[max_active_keys - 1 :]:
                (self.path / str(old)).unlink(missing_ok=True)
            _fsync_dir(self.path)
        self._snapshot = None
        return primary

    def keys(self) -> tuple[bytes, ...]:
        """Return the keys primary first, then secondaries newest first, staged last.

        The same tuple object comes back until the directory changes, so callers can
        cache what they build from it by identity.
        """
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now - snapshot.checked_at < self._recheck_interval:
            return snapshot.keys
        signature, names = self._scan()
        if snapshot is None or signature != snapshot.signature:
            snapshot = _Snapshot(signature, self._read(names), now)
        else:
            snapshot = _Snapshot(signature, snapshot.keys, now)
        self._snapshot = snapshot
        return snapshot.keys

    def _key_ids(self) -> set[int]:
        return {int(name) for name in self._scan()[1]}

    def _scan(self) -> tuple[tuple[object, ...], list[str]]:
        """List the key files, with a signature that changes whenever any is replaced."""
        try:
            mtime = self.path.stat().st_mtime_ns
            with os.scandir(self.path) as entries:
                found = sorted((e.name, e.inode()) for e in entries if _is_key_name(e.name))
        except OSError as exc:
            raise ConfigError(f"cannot read the Fernet key repository {self.path}: {exc}") from exc
        return (mtime, *found), [name for name, _ in found]

    def _read(self, names: list[str]) -> tuple[bytes, ...]:
        keys: dict[int, bytes] = {}
        for name in names:
            key = _read_key(self.path / name)
            if key:
                keys[int(name)] = key
        if not keys:
            raise ConfigError(f"no Fernet keys in {self.path}: set the key repository up first")
        return tuple(keys[i] for i in sorted(keys, reverse=True))


def _is_key_name(name: str) -> bool:
    return name.isascii() and name.isdigit() and str(int(name)) == name


def _read_key(path: Path) -> bytes:
    """Return the key in ``path``; empty if the file vanished or is empty (Keystone skips those)."""
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        return b""
    if key:
        try:
            fernet.Fernet(key)
        except ValueError as exc:
            raise ConfigError(f"{path} does not hold a Fernet key") from exc
    return key


def _write_key(directory: Path, number: int) -> None:
    """Write a new key to ``directory/number`` atomically, readable by its owner only."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{number}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(fernet.Fernet.generate_key())
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, directory / str(number))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the repository, so two rotations never interleave."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        raise ConfigError(f"cannot open the Fernet key repository {directory}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --- tokens ---------------------------------------------------------------------------


class TokenFormatter:
    """Turns payloads into Fernet tokens and back, with the keys of one repository."""

    def __init__(self, repo: KeyRepository) -> None:
        self._repo = repo
        self._keys: tuple[bytes, ...] = ()
        self._crypto: fernet.MultiFernet | None = None

    def create(self, payload: TokenPayload) -> str:
        """Encrypt ``payload`` with the primary key; the Fernet timestamp is ``issued_at``."""
        return self.issue(payload)[0]

    def issue(self, payload: TokenPayload) -> tuple[str, TokenPayload]:
        """``create``, and the payload exactly as ``validate`` will read it from the
        token (times at the precision the token keeps)."""
        encoded = encode_payload(payload)
        issued = int(payload.issued_at.timestamp())
        token = self._multi_fernet().encrypt_at_time(encoded, issued)
        return token.rstrip(b"=").decode("ascii"), decode_payload(encoded)

    def keys(self) -> tuple[bytes, ...]:
        """The repository's keys: the same object until they change (a rotation)."""
        return self._repo.keys()

    def validate(self, token: str, *, now: datetime | None = None) -> TokenPayload:
        """Return the payload of a token made by ``create`` with a key still in the repository.

        Raises ``ExpiredToken`` from ``expires_at`` on, ``InvalidToken`` for anything else wrong.
        """
        payload = self._decrypt(token)
        if (now or _utcnow()) >= payload.expires_at:
            raise ExpiredToken()
        return payload

    def _decrypt(self, token: str) -> TokenPayload:
        if not token or len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
            raise InvalidToken()
        padded = token + "=" * (-len(token) % 4)
        try:
            data = self._multi_fernet().decrypt(padded.encode("ascii"))
        except fernet.InvalidToken:
            raise InvalidToken() from None
        try:
            return decode_payload(data)
        except (ValueError, TypeError, OverflowError, msgpack.UnpackException):
            raise InvalidToken() from None

    def _multi_fernet(self) -> fernet.MultiFernet:
        keys = self._repo.keys()
        if self._crypto is None or keys is not self._keys:
            self._crypto = fernet.MultiFernet([fernet.Fernet(k) for k in keys])
            self._keys = keys
        return self._crypto
