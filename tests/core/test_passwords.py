"""The password policy and hashing: argon2id, never the password in an answer."""

from __future__ import annotations

import asyncio

from core import passwords


def test_the_policy_refuses_short_long_and_common_passwords() -> None:
    assert passwords.violations("correct horse battery staple") == []
    for password, reason in (
        ("x" * (passwords.MIN_LENGTH - 1), "PASSWORD_TOO_SHORT"),
        ("x" * (passwords.MAX_LENGTH + 1), "PASSWORD_TOO_LONG"),
        ("1Qaz2Wsx3Edc", "PASSWORD_TOO_COMMON"),
    ):
        [violation] = passwords.violations(password)
        assert violation.reason == reason, password
        assert password not in violation.description


def test_the_common_list_has_thousands_of_lower_cased_entries() -> None:
    common = passwords._common()
    assert len(common) > 5000
    assert all(entry == entry.lower() for entry in common)


def test_hashes_are_argon2id_and_verify_only_the_password() -> None:
    async def run() -> None:
        hashed = await passwords.hash_password("correct horse battery staple")
        assert hashed.startswith("$argon2id$")
        assert await passwords.verify(hashed, "correct horse battery staple")
        assert not await passwords.verify(hashed, "correct horse battery stapler")
        assert not await passwords.verify("not a hash", "anything")
        assert not await passwords.verify(passwords.dummy_hash(), "")

    asyncio.run(run())
