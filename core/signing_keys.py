"""The keys that sign the dashboard's access tokens: Ed25519 (EdDSA, RFC 8037).

Configured as PAYLOOPS_JWT_SIGNING_KEYS, comma-separated, each the base64url (no padding) of
a 32-byte Ed25519 seed (`payloops signing-key new` prints one). The first signs; every one
verifies and is published in the JWKS. Rotation: add the new key second everywhere, then move
it first, then drop the old one once the last token it signed has expired (10 minutes)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SEED_BYTES = 32
ALGORITHM = "EdDSA"


class SigningKeyInvalid(ValueError):
    """A configured key is not a base64url Ed25519 seed (the message never quotes it)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        try:
            seed = _b64url_decode(text.strip())
        except ValueError:
            raise SigningKeyInvalid("a signing key is not base64url") from None
        if len(seed) != SEED_BYTES:
            raise SigningKeyInvalid(f"a signing key must be {SEED_BYTES} bytes (base64url)")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @cached_property
    def x(self) -> str:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return _b64url(raw)

    @cached_property
    def kid(self) -> str:
        """The RFC 7638 thumbprint: SHA-256 of the public JWK's required members, in
        lexicographic order and without whitespace. It follows from the key itself, so every
        edge process names a key alike with nothing more to configure."""
        members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": self.x}, separators=(",", ":"))
        return _b64url(hashlib.sha256(members.encode()).digest())

    def jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": self.x,
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }


def parse_keys(keys: tuple[str, ...]) -> tuple[SigningKey, ...]:
    return tuple(SigningKey.parse(key) for key in keys)


def new_key() -> str:
    return _b64url(secrets.token_bytes(SEED_BYTES))
