"""Fernet key repository and token formatter."""

from __future__ import annotations

import base64
import os
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgpack
import pytest
from cryptography.fernet import Fernet

from nubo.core.errors import ConfigError, Unauthorized
from nubo.identity.fernet import (
    METHODS,
    ExpiredToken,
    InvalidToken,
    KeyRepository,
    ScopeKind,
    TokenFormatter,
    TokenPayload,
    encode_payload,
    new_audit_id,
)

NOW = datetime(2031, 5, 4, 12, 30, 15, 123456, tzinfo=UTC)


def make_payload(**overrides: Any) -> TokenPayload:
    fields: dict[str, Any] = {
        "user_id": uuid.uuid4().hex,
        "methods": ("password",),
        "expires_at": NOW + timedelta(hours=1),
        "issued_at": NOW,
        "audit_ids": (new_audit_id(),),
        "project_id": uuid.uuid4().hex,
    }
    fields.update(overrides)
    return TokenPayload(**fields)


@pytest.fixture
def repo(tmp_path: Path) -> KeyRepository:
    repository = KeyRepository(tmp_path / "fernet-keys", recheck_interval=0)
    repository.setup()
    return repository


@pytest.fixture
def formatter(repo: KeyRepository) -> TokenFormatter:
    return TokenFormatter(repo)


def key_files(repo: KeyRepository) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in repo.path.iterdir()}


# --- audit ids and payloads -----------------------------------------------------------


def test_new_audit_id_is_22_urlsafe_characters_and_unique() -> None:
    ids = {new_audit_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"project_id": uuid.uuid4().hex},
        {"project_id": "project-with-a-name-as-id"},
        {"domain_id": uuid.uuid4().hex},
        {"domain_id": "default"},
        {"system": "all"},
    ],
    ids=["unscoped", "project-uuid", "project-text", "domain-uuid", "domain-default", "system"],
)
def test_every_scope_kind_round_trips(formatter: TokenFormatter, scope: dict[str, str]) -> None:
    payload = make_payload(**{"project_id": None, **scope})
    assert formatter.validate(formatter.create(payload), now=NOW) == payload


@pytest.mark.parametrize(
    "user_id",
    [
        uuid.uuid4().hex,
        uuid.uuid4().hex.upper(),  # 32 hex digits, but would not survive bytes.hex()
        str(uuid.uuid4()),  # dashed form
        "f" * 31,
        "ldap-user-ÿ-名前",
        "0" * 32,
    ],
)
def test_user_id_in_any_form_round_trips_exactly(formatter: TokenFormatter, user_id: str) -> None:
    payload = make_payload(user_id=user_id)
    assert formatter.validate(formatter.create(payload), now=NOW).user_id == user_id


def test_trust_and_application_credential_ids_round_trip(formatter: TokenFormatter) -> None:
    trust = make_payload(trust_id=uuid.uuid4().hex, audit_ids=(new_audit_id(), new_audit_id()))
    app_cred = make_payload(methods=("application_credential",), app_cred_id="app-cred-1")
    for payload in (trust, app_cred):
        assert formatter.validate(formatter.create(payload), now=NOW) == payload


def test_uuid_ids_and_audit_ids_are_packed_as_bytes() -> None:
    audit_id = new_audit_id()
    compact = make_payload(user_id="ab" * 16, project_id="cd" * 16, audit_ids=(audit_id,))
    as_text = make_payload(user_id="AB" * 16, project_id="CD" * 16, audit_ids=("x" * 22,))
    fields = msgpack.unpackb(encode_payload(compact))
    assert fields[1] == bytes.fromhex("ab" * 16)
    assert fields[5] == [base64.urlsafe_b64decode(audit_id + "==")]
    assert fields[6] == bytes.fromhex("cd" * 16)
    text_fields = msgpack.unpackb(encode_payload(as_text))
    assert (text_fields[1], text_fields[5], text_fields[6]) == ("AB" * 16, ["x" * 22], "CD" * 16)
    assert len(encode_payload(compact)) <= len(encode_payload(as_text)) - 16 - 16 - 5


def test_audit_ids_that_are_not_canonical_base64_round_trip(formatter: TokenFormatter) -> None:
    # "AB" ends in bits that a 16-byte decode drops: it must travel as text.
    odd = ("A" * 21 + "B", "short")
    payload = make_payload(audit_ids=odd)
    assert formatter.validate(formatter.create(payload), now=NOW).audit_ids == odd


def test_methods_use_keystones_fixed_bit_order() -> None:
    for bit, method in enumerate(METHODS):
        fields = msgpack.unpackb(encode_payload(make_payload(methods=(method,))))
        assert fields[2] == 1 << bit
    assert METHODS[:3] == ("password", "token", "application_credential")


def test_methods_are_a_set_in_canonical_order(formatter: TokenFormatter) -> None:
    payload = make_payload(methods=("totp", "password", "totp"))
    assert payload.methods == ("password", "totp")
    decoded = formatter.validate(formatter.create(payload), now=NOW)
    assert decoded.methods == ("password", "totp")


def test_times_keep_microseconds_and_come_back_in_utc(formatter: TokenFormatter) -> None:
    plus_two = timezone(timedelta(hours=2))
    expires = datetime(2031, 5, 4, 15, 0, 0, 999999, tzinfo=plus_two)
    payload = make_payload(expires_at=expires, issued_at=NOW)
    decoded = formatter.validate(formatter.create(payload), now=NOW)
    assert decoded.expires_at == expires
    assert decoded.expires_at.tzinfo is UTC
    assert decoded.expires_at.microsecond == 999999
    assert decoded.issued_at == NOW


@pytest.mark.parametrize(
    "overrides",
    [
        {"domain_id": "default"},  # a project too: two scopes
        {"methods": ("kerberos",)},
        {"methods": ()},
        {"audit_ids": ()},
        {"audit_ids": ("a", "b", "c")},
        {"expires_at": datetime(2031, 1, 1)},  # naive
        {"user_id": ""},
    ],
)
def test_payload_rejects_what_a_token_cannot_carry(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        make_payload(**overrides)


def test_scope_kind_follows_the_scope() -> None:
    assert make_payload().scope_kind is ScopeKind.PROJECT
    assert make_payload(project_id=None).scope_kind is ScopeKind.UNSCOPED
    assert make_payload(project_id=None, domain_id="d").scope_kind is ScopeKind.DOMAIN
    assert make_payload(project_id=None, system="all").scope_kind is ScopeKind.SYSTEM


# --- tokens ---------------------------------------------------------------------------


def test_project_scoped_password_token_is_short_and_unpadded(formatter: TokenFormatter) -> None:
    token = formatter.create(make_payload())
    assert len(token) < 255
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert len(token) % 4 != 0  # padding really was stripped


def test_fernet_timestamp_is_the_issue_time(formatter: TokenFormatter, repo: KeyRepository) -> None:
    token = formatter.create(make_payload())
    padded = (token + "=" * (-len(token) % 4)).encode()
    assert Fernet(repo.keys()[0]).extract_timestamp(padded) == int(NOW.timestamp())


def test_tampered_token_is_rejected(formatter: TokenFormatter) -> None:
    token = formatter.create(make_payload())
    for position in (5, len(token) // 2, len(token) - 10):
        flipped = "B" if token[position] != "B" else "C"
        tampered = token[:position] + flipped + token[position + 1 :]
        with pytest.raises(InvalidToken):
            formatter.validate(tampered, now=NOW)


@pytest.mark.parametrize("token", ["", "not-a-token", "gAAAAA", "é" * 100, "A" * 5000])
def test_garbage_is_rejected(formatter: TokenFormatter, token: str) -> None:
    with pytest.raises(InvalidToken):
        formatter.validate(token, now=NOW)


def test_token_from_another_repository_is_rejected(
    formatter: TokenFormatter, tmp_path: Path
) -> None:
    other = KeyRepository(tmp_path / "other")
    other.setup()
    token = TokenFormatter(other).create(make_payload())
    with pytest.raises(InvalidToken) as caught:
        formatter.validate(token, now=NOW)
    assert isinstance(caught.value, Unauthorized)
    assert caught.value.status == 401


def test_fernet_token_with_a_foreign_payload_is_rejected(
    formatter: TokenFormatter, repo: KeyRepository
) -> None:
    for data in (b"junk", msgpack.packb([2, "u"]), msgpack.packb([99, "u", 1, 0, 0, [b"x"]])):
        token = Fernet(repo.keys()[0]).encrypt(data).decode().rstrip("=")
        with pytest.raises(InvalidToken):
            formatter.validate(token, now=NOW)


def test_expired_token_is_rejected_from_its_expiry_on(formatter: TokenFormatter) -> None:
    payload = make_payload()
    token = formatter.create(payload)
    just_before = payload.expires_at - timedelta(microseconds=1)
    assert formatter.validate(token, now=just_before) == payload
    for now in (payload.expires_at, payload.expires_at + timedelta(days=1)):
        with pytest.raises(ExpiredToken) as caught:
            formatter.validate(token, now=now)
        assert isinstance(caught.value, InvalidToken)
        assert "expired" in caught.value.message


def test_expiry_is_checked_against_the_clock_by_default(formatter: TokenFormatter) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    with pytest.raises(ExpiredToken):
        formatter.validate(formatter.create(make_payload(expires_at=past, issued_at=past)))
    future = datetime.now(UTC) + timedelta(hours=1)
    token = formatter.create(make_payload(expires_at=future))
    assert formatter.validate(token).expires_at == future


# --- key repository -------------------------------------------------------------------


def test_setup_creates_private_staged_and_primary_keys(tmp_path: Path) -> None:
    repo = KeyRepository(tmp_path / "a" / "keys")
    repo.setup()
    assert sorted(key_files(repo)) == ["0", "1"]
    assert repo.path.stat().st_mode & 0o777 == 0o700
    for name in ("0", "1"):
        assert (repo.path / name).stat().st_mode & 0o777 == 0o600
        Fernet(key_files(repo)[name])  # a valid key
    assert key_files(repo)["0"] != key_files(repo)["1"]


def test_setup_is_idempotent(repo: KeyRepository) -> None:
    before = key_files(repo)
    repo.setup()
    assert key_files(repo) == before


def test_keys_are_primary_first_and_staged_last(repo: KeyRepository) -> None:
    repo.rotate()
    files = key_files(repo)
    assert sorted(files) == ["0", "1", "2"]
    assert repo.keys() == (files["2"], files["1"], files["0"])


def test_rotate_promotes_the_staged_key_and_stages_a_new_one(repo: KeyRepository) -> None:
    before = key_files(repo)
    assert repo.rotate() == 2
    after = key_files(repo)
    assert after["2"] == before["0"]
    assert after["1"] == before["1"]
    assert after["0"] not in before.values()
    assert (repo.path / "0").stat().st_mode & 0o777 == 0o600


def test_rotate_keeps_at_most_max_active_keys(repo: KeyRepository) -> None:
    for _ in range(5):
        repo.rotate(max_active_keys=3)
    assert sorted(key_files(repo), key=int) == ["0", "5", "6"]
    repo.rotate(max_active_keys=2)
    assert sorted(key_files(repo), key=int) == ["0", "7"]


def test_rotate_refuses_fewer_than_two_keys(repo: KeyRepository) -> None:
    with pytest.raises(ConfigError):
        repo.rotate(max_active_keys=1)
    assert sorted(key_files(repo)) == ["0", "1"]


def test_rotate_without_a_staged_key_is_a_config_error(repo: KeyRepository) -> None:
    (repo.path / "0").unlink()
    with pytest.raises(ConfigError):
        repo.rotate()


def test_tokens_survive_rotation_until_their_key_is_dropped(
    repo: KeyRepository, formatter: TokenFormatter
) -> None:
    old = make_payload()
    token = formatter.create(old)  # encrypted with key 1
    repo.rotate(max_active_keys=3)  # keys 0, 1, 2
    assert formatter.validate(token, now=NOW) == old
    repo.rotate(max_active_keys=3)  # keys 0, 2, 3: key 1 is gone
    with pytest.raises(InvalidToken):
        formatter.validate(token, now=NOW)


def test_new_tokens_use_the_new_primary_key(repo: KeyRepository, formatter: TokenFormatter) -> None:
    repo.rotate()
    token = formatter.create(make_payload())
    padded = (token + "=" * (-len(token) % 4)).encode()
    Fernet(key_files(repo)["2"]).decrypt(padded)  # raises if another key was used


def test_staged_key_decrypts(repo: KeyRepository, formatter: TokenFormatter) -> None:
    # Another node already rotated: its primary is still our staged key.
    payload = make_payload()
    token = Fernet(key_files(repo)["0"]).encrypt(encode_payload(payload)).decode().rstrip("=")
    assert formatter.validate(token, now=NOW) == payload


def test_second_instance_picks_up_rotation_by_another(repo: KeyRepository) -> None:
    api = TokenFormatter(KeyRepository(repo.path, recheck_interval=0))
    cli = KeyRepository(repo.path)
    early = make_payload()
    early_token = api.create(early)
    cli.rotate(max_active_keys=2)  # keys 0, 2: key 1 dropped
    with pytest.raises(InvalidToken):
        api.validate(early_token, now=NOW)
    token = api.create(make_payload())
    padded = (token + "=" * (-len(token) % 4)).encode()
    Fernet(key_files(repo)["2"]).decrypt(padded)


def test_a_key_file_replaced_by_rename_is_picked_up(repo: KeyRepository) -> None:
    reader = KeyRepository(repo.path, recheck_interval=0)
    before = reader.keys()
    mtime = repo.path.stat().st_mtime_ns
    replacement = Fernet.generate_key()
    (repo.path / "new").write_bytes(replacement)
    os.replace(repo.path / "new", repo.path / "1")
    os.utime(repo.path, ns=(mtime, mtime))  # as on a file system with coarse mtimes
    assert reader.keys() == (replacement, before[1])


def test_keys_are_not_reread_while_the_directory_is_unchanged(repo: KeyRepository) -> None:
    reader = KeyRepository(repo.path, recheck_interval=0)
    assert reader.keys() is reader.keys()


def test_keys_are_cached_between_checks(repo: KeyRepository) -> None:
    reader = KeyRepository(repo.path, recheck_interval=3600)
    formatter = TokenFormatter(reader)
    token = formatter.create(make_payload())
    for name in ("0", "1"):
        (repo.path / name).unlink()
    assert formatter.validate(token, now=NOW).user_id  # still served from memory


def test_files_that_are_not_keys_are_ignored(repo: KeyRepository) -> None:
    expected = repo.keys()
    for name in (".0.abc.tmp", "README", "01", "2.bak", "-3"):
        (repo.path / name).write_bytes(b"not a key")
    (repo.path / "7").write_bytes(b"")  # empty files are skipped, as Keystone does
    assert KeyRepository(repo.path).keys() == expected


def test_a_corrupt_key_file_is_a_config_error(repo: KeyRepository) -> None:
    (repo.path / "5").write_bytes(b"too short")
    with pytest.raises(ConfigError):
        KeyRepository(repo.path).keys()


def test_an_empty_or_missing_repository_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(ConfigError):
            KeyRepository(path).keys()
