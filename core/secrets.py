"""Encryption at rest for processor credentials: Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package) with a list of keys, so keys can be rotated: the first encrypts, every
one decrypts. Keys come from PAYLOOPS_SECRETS_KEYS (comma-separated); `payloops dev` makes one
in its state dir."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretsNotConfigured(Exception):
    """No encryption key: credentials can be neither stored nor read."""


class SecretBox:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    def seal(self, values: dict[str, str]) -> bytes:
        return self._box().encrypt(json.dumps(values, sort_keys=True).encode())

    def open(self, sealed: bytes) -> dict[str, str]:
        try:
            values: dict[str, str] = json.loads(self._box().decrypt(sealed))
        except InvalidToken as error:
            # Never say more: the message may end up in a log.
            raise SecretsNotConfigured(
                "stored credentials cannot be decrypted with the configured keys"
            ) from error
        return values

    def _box(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretsNotConfigured("PAYLOOPS_SECRETS_KEYS is not set")
        return self._fernet


def new_key() -> str:
    return Fernet.generate_key().decode()
