"""Users' passwords: the policy a new password must meet, and argon2id hashing (argon2-cffi's
PasswordHasher, at its defaults, RFC 9106's low-memory choice). Hashing costs tens of
milliseconds of CPU on purpose, so it runs in a worker thread, never on the event loop."""

from __future__ import annotations

import asyncio
import functools
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import errors

# NIST SP 800-63B asks for at least 8; 12 makes a guessed password far less likely, and a
# passphrase meets it easily.
MIN_LENGTH = 12
# Bounds the work one request can ask of the hasher.
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")

_hasher = PasswordHasher()


@functools.cache
def _common() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text().splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def violations(password: str, field: str = "password") -> list[errors.FieldViolation]:
    """What is wrong with a new password (nothing: it may be used). The password itself is
    never part of the answer."""
    if len(password) < MIN_LENGTH:
        return [
            errors.FieldViolation(
                field, "PASSWORD_TOO_SHORT", f"must be at least {MIN_LENGTH} characters"
            )
        ]
    if len(password) > MAX_LENGTH:
        return [
            errors.FieldViolation(
                field, "PASSWORD_TOO_LONG", f"must be at most {MAX_LENGTH} characters"
            )
        ]
    if password.lower() in _common():
        return [
            errors.FieldViolation(
                field, "PASSWORD_TOO_COMMON", "is one of the most common passwords; choose another"
            )
        ]
    return []


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with weaker parameters than today's: replace it at the next sign-in."""
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash no password matches, checked when the e-mail is unknown: a sign-in then costs
    the same time as with a wrong password, so timing does not tell who has an account."""
    return _hasher.hash(secrets.token_urlsafe(32))
