"""Issuing API keys: the key is returned once and only its hash is stored."""

from __future__ import annotations

from dataclasses import dataclass

from core import ids
from core.db import models

SECRET_KIND = "secret"
# Long enough to tell keys apart in a list ("sk_test_" and four random characters), far too
# short to guess the rest.
PREFIX_LENGTH = 12


@dataclass(frozen=True)
class IssuedKey:
    row: models.ApiKey
    # The whole key, for the one answer that shows it.
    secret: str


def issue(
    merchant_id: str, livemode: bool, *, name: str = "", read_only: bool = False
) -> IssuedKey:
    """A new secret key's row (not yet added to a session) and the key itself."""
    secret = ids.new_api_key(livemode=livemode)
    row = models.ApiKey(
        id=ids.new_id("key"),
        merchant_id=merchant_id,
        key_hash=ids.hash_api_key(secret),
        prefix=secret[:PREFIX_LENGTH],
        livemode=livemode,
        kind=SECRET_KIND,
        name=name,
        read_only=read_only,
    )
    return IssuedKey(row, secret)
