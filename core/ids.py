"""Opaque, prefixed identifiers, secret API keys and refresh tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


# What an order id can look like: `new_id("ord")`, within its column's 32 characters. A filter
# given anything else is a mistake worth saying (an id cut short, the wrong object's id).
ORDER_ID = re.compile(r"ord_[A-Za-z0-9]{1,28}")


def new_id(prefix: str) -> str:
    """`ord_…`, `mer_…`: 20 random base62 characters, about 119 bits."""
    return f"{prefix}_{_random(20)}"


def derived_id(prefix: str, source: str) -> str:
    """An id that follows from `source` (such as a merchant's idempotency key): the same
    request retried names the same object."""
    digest = hashlib.sha256(source.encode()).digest()
    return f"{prefix}_" + "".join(_ALPHABET[byte % len(_ALPHABET)] for byte in digest[:20])


def new_api_key(livemode: bool = False, prefix: str = "sk") -> str:
    """`sk_test_…` (a secret key) or, with prefix "pk", `pk_live_…` (a publishable one)."""
    return f"{prefix}_{'live' if livemode else 'test'}_{_random(32)}"


def hash_api_key(api_key: str) -> str:
    """Keys carry 190 random bits, so a plain SHA-256 is enough: no brute force can invert it."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_refresh_token() -> str:
    """`rt_…`: 43 base62 characters, about 256 bits."""
    return f"rt_{_random(43)}"


def hash_token(token: str) -> str:
    """A refresh token's stored form: as for API keys, its randomness makes SHA-256 enough."""
    return hashlib.sha256(token.encode()).hexdigest()
