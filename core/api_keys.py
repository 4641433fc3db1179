"""Issuing API keys: the key is returned once and only its hash is stored."""

from __future__ import annotations

from dataclasses import dataclass

from core import ids
from core.db import models

SECRET_KIND = "secret"
# Browsers' keys: they can only tokenize cards at the vault (every edge call refuses them).
PUBLISHABLE_KIND = "publishable"
KIND_PREFIXES = {SECRET_KIND: "sk", PUBLISHABLE_KIND: "pk"}
PUBLISHABLE_PREFIXES = ("pk_test_", "pk_live_")
# Long enough to tell keys apart in a list ("sk_test_" and four random characters), far too
# short to guess the rest.
PREFIX_LENGTH = 12


@dataclass(frozen=True)
class IssuedKey:
    row: models.ApiKey
    # The whole key, for the one answer that shows it.
    secret: str


def issue(
    merchant_id: str,
    livemode: bool,
    *,
    name: str = "",
    read_only: bool = False,
    kind: str = SECRET_KIND,
) -> IssuedKey:
    """A new key's row (not yet added to a session) and the key itself."""
    secret = ids.new_api_key(livemode=livemode, prefix=KIND_PREFIXES[kind])
    row = models.ApiKey(
        id=ids.new_id("key"),
        merchant_id=merchant_id,
        key_hash=ids.hash_api_key(secret),
        prefix=secret[:PREFIX_LENGTH],
        livemode=livemode,
        kind=kind,
        name=name,
        read_only=read_only,
    )
    return IssuedKey(row, secret)


def is_publishable(token: str) -> bool:
    return token.startswith(PUBLISHABLE_PREFIXES)
