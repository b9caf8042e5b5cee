"""Password hashing: every algorithm, hashes from elsewhere, re-hash decisions."""

from __future__ import annotations

import bcrypt
import pytest

from nubo.core.errors import ConfigError, ValidationError
from nubo.identity.passwords import ALGORITHMS, PasswordHasher

# Low work factors: the tests check behaviour, not strength.
CHEAP = {"argon2id": 1, "bcrypt": 4, "scrypt": 4, "pbkdf2_sha512": 1000}
PREFIX = {
    "argon2id": "$argon2id$v=19$m=19456,t=1,p=1$",
    "bcrypt": "$2b$04$",
    "scrypt": "$scrypt$ln=4,r=8,p=1$",
    "pbkdf2_sha512": "$pbkdf2-sha512$1000$",
}

# Hashes made by other implementations, with their passwords.
HASHCAT_BCRYPT_SHA256 = (  # hashcat's example for mode 30601 (passlib bcrypt_sha256 v2)
    "hashcat",
    "$bcrypt-sha256$v=2,t=2b,r=12$KSOjON/ciJR86a00N5q61.$AmWZucQuHk13FGkQWhgMeiFvBfm2GCy",
)
HASHCAT_PBKDF2_SHA512 = (  # hashcat's example for mode 20200 (passlib pbkdf2_sha512)
    "hashcat",
    "$pbkdf2-sha512$25000$LyWE0HrP2RsjZCxlDGFMKQ$1vC5Ohk2mCS9b6akqsEfgeb4l74SF8XjH.SljXf3dMLH"
    "dlY1GK9ojcCKts6/asR4aPqBmk74nCDddU3tvSCJvw",
)
PASSLIB_SCRYPT = (  # passlib's documentation example
    "password",
    "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
)
OPENWALL_BCRYPT = ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")


def cheap(algorithm: str) -> PasswordHasher:
    return PasswordHasher(algorithm, rounds=CHEAP[algorithm])


@pytest.fixture(params=ALGORITHMS)
def hasher(request: pytest.FixtureRequest) -> PasswordHasher:
    return cheap(request.param)


def test_default_is_argon2id_with_owasp_parameters() -> None:
    hashed = PasswordHasher().hash("secret")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_hash_names_its_algorithm_and_costs(hasher: PasswordHasher) -> None:
    assert hasher.hash("secret").startswith(PREFIX[hasher.algorithm])


def test_verify_accepts_the_password_and_nothing_else(hasher: PasswordHasher) -> None:
    hashed = hasher.hash("correct horse battery staple")
    assert hasher.verify("correct horse battery staple", hashed)
    for wrong in ("correct horse battery stapl", "Correct horse battery staple", "", " "):
        assert not hasher.verify(wrong, hashed)


def test_hashes_are_salted(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("secret"), hasher.hash("secret")
    assert first != second
    assert hasher.verify("secret", first) and hasher.verify("secret", second)


@pytest.mark.parametrize("password", ["pässwörd", "密码是秘密", "🔑🔐🗝️", "пароль\u00a0!"])
def test_unicode_passwords(hasher: PasswordHasher, password: str) -> None:
    hashed = hasher.hash(password)
    assert hasher.verify(password, hashed)
    assert not hasher.verify(password[:-1], hashed)


def test_passwords_are_not_unicode_normalised(hasher: PasswordHasher) -> None:
    hashed = hasher.hash("caf\u00e9")  # é as one code point
    assert not hasher.verify("cafe\u0301", hashed)  # e + combining accent


def test_text_that_is_not_unicode_is_rejected(hasher: PasswordHasher) -> None:
    with pytest.raises(ValidationError):
        hasher.hash("bad \ud800 surrogate")
    assert not hasher.verify("bad \ud800 surrogate", hasher.hash("bad  surrogate"))


@pytest.mark.parametrize("made_with", ALGORITHMS)
@pytest.mark.parametrize("checked_with", ALGORITHMS)
def test_any_algorithm_verifies_any_hash(made_with: str, checked_with: str) -> None:
    hashed = cheap(made_with).hash("secret")
    checker = cheap(checked_with)
    assert checker.verify("secret", hashed)
    assert not checker.verify("Secret", hashed)
    assert checker.needs_rehash(hashed) is (made_with != checked_with)


@pytest.mark.parametrize(
    ("password", "hashed"),
    [HASHCAT_BCRYPT_SHA256, HASHCAT_PBKDF2_SHA512, PASSLIB_SCRYPT, OPENWALL_BCRYPT],
    ids=["bcrypt-sha256", "pbkdf2-sha512", "scrypt", "bcrypt-2a"],
)
def test_hashes_from_passlib_and_keystone_verify(password: str, hashed: str) -> None:
    assert PasswordHasher().verify(password, hashed)
    assert not PasswordHasher().verify(password + "x", hashed)


def test_bcrypt_keeps_plain_format_up_to_72_bytes() -> None:
    hasher = cheap("bcrypt")
    hashed = hasher.hash("é" * 36)  # 72 bytes
    assert hashed.startswith("$2b$04$")
    assert bcrypt.checkpw(("é" * 36).encode(), hashed.encode())


def test_bcrypt_long_passwords_are_prehashed_not_truncated() -> None:
    hasher = cheap("bcrypt")
    long_password = "a" * 72 + "the part bcrypt alone would drop"
    hashed = hasher.hash(long_password)
    assert hashed.startswith("$bcrypt-sha256$v=2,t=2b,r=4$")
    assert hasher.verify(long_password, hashed)
    assert not hasher.verify("a" * 72, hashed)
    assert not hasher.verify("a" * 72 + "something else entirely", hashed)
    assert not hasher.needs_rehash(hashed)


def test_legacy_bcrypt_hashes_check_the_first_72_bytes_as_keystone_did() -> None:
    long_password = "k" * 72 + "ignored by keystone"
    legacy = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode()
    assert cheap("bcrypt").verify(long_password, legacy)


def test_needs_rehash_when_costs_change(hasher: PasswordHasher) -> None:
    hashed = hasher.hash("secret")
    assert not hasher.needs_rehash(hashed)
    stronger = PasswordHasher(hasher.algorithm, rounds=CHEAP[hasher.algorithm] + 1)
    assert stronger.needs_rehash(hashed)
    assert stronger.verify("secret", hashed)


@pytest.mark.parametrize(
    ("algorithm", "current"),
    [
        ("bcrypt", "$2b$12$" + "a" * 53),
        ("bcrypt", HASHCAT_BCRYPT_SHA256[1]),
        ("scrypt", "$scrypt$ln=15,r=8,p=1$" + PASSLIB_SCRYPT[1].split("$", 3)[3]),
        ("pbkdf2_sha512", HASHCAT_PBKDF2_SHA512[1].replace("$25000$", "$600000$")),
    ],
)
def test_default_costs(algorithm: str, current: str) -> None:
    assert not PasswordHasher(algorithm).needs_rehash(current)


@pytest.mark.parametrize(
    ("algorithm", "old"),
    [
        ("bcrypt", OPENWALL_BCRYPT[1]),  # $2a$ ident and cost 5
        ("scrypt", PASSLIB_SCRYPT[1]),  # ln=16
        ("pbkdf2_sha512", HASHCAT_PBKDF2_SHA512[1]),  # 25000 rounds
        ("argon2id", "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$" + "A" * 43),
    ],
)
def test_needs_rehash_for_older_settings(algorithm: str, old: str) -> None:
    assert PasswordHasher(algorithm).needs_rehash(old)


@pytest.mark.parametrize(
    "hashed",
    [
        "",
        "plaintext",
        "$1$md5crypt$abc",
        "$argon2id$v=19$garbage",
        "$2b$12$short",
        "$bcrypt-sha256$v=1,t=2b,r=12$KSOjON/ciJR86a00N5q61.$AmWZucQuHk13FGkQWhgMeiFvBfm2GCy",
        "$bcrypt-sha256$v=2,t=2b$KSOjON/ciJR86a00N5q61.$AmWZucQuHk13FGkQWhgMeiFvBfm2GCy",
        "$scrypt$ln=x,r=8,p=1$c2FsdA$ZGlnZXN0",
        "$scrypt$ln=99999999,r=8,p=1$c2FsdA$ZGlnZXN0",
        "$scrypt$r=8,p=1$c2FsdA$ZGlnZXN0",
        "$pbkdf2-sha512$1000$!!!$!!!",
        "$pbkdf2-sha512$1000$c2FsdA",
    ],
)
def test_unreadable_hashes_never_verify_and_always_need_rehash(
    hasher: PasswordHasher, hashed: str
) -> None:
    assert not hasher.verify("secret", hashed)
    assert hasher.needs_rehash(hashed)


@pytest.mark.parametrize(
    ("algorithm", "rounds"),
    [
        ("md5", None),
        ("argon2", None),
        ("bcrypt", 3),
        ("bcrypt", 32),
        ("scrypt", 0),
        ("scrypt", 21),
        ("pbkdf2_sha512", 0),
        ("argon2id", 0),
    ],
)
def test_bad_configuration_is_refused(algorithm: str, rounds: int | None) -> None:
    with pytest.raises(ConfigError):
        PasswordHasher(algorithm, rounds=rounds)


async def test_async_variants_hash_and_verify(hasher: PasswordHasher) -> None:
    hashed = await hasher.hash_async("secret")
    assert hashed.startswith(PREFIX[hasher.algorithm])
    assert await hasher.verify_async("secret", hashed)
    assert not await hasher.verify_async("wrong", hashed)
