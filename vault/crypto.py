"""Envelope encryption of cards, and their fingerprints.

Each card record gets its own random 256-bit data key. The data key encrypts the card (number
and holder name) with AES-GCM, the record's id as associated data, so a ciphertext copied onto
another record does not open; the CVC is encrypted apart (its own nonce and associated data),
so it can be wiped without touching the card. The data key itself is stored only wrapped
(AES-GCM again) by a key-encryption key (KEK) from configuration, whose id is stored beside it:
the first configured KEK wraps, every configured KEK unwraps, so a new KEK can be put first
and the old records re-wrapped (`payloops vault rewrap`) while every token keeps working.

`cryptography`'s AESGCM: the audited OpenSSL primitive, authenticated, with no mode or padding
for us to get wrong."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32
_KEK_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class KeyConfigError(ValueError):
    """PAYLOOPS_VAULT_KEKS or PAYLOOPS_VAULT_FINGERPRINT_KEY is not usable (the message names
    what is wrong, never a key)."""


class CannotDecrypt(Exception):
    """A record does not open: its KEK is not configured, or it was tampered with."""


@dataclass(frozen=True, repr=False)
class Kek:
    id: str
    key: bytes


def new_kek(kek_id: str) -> str:
    """A new KEK in the form PAYLOOPS_VAULT_KEKS takes: `<id>:<32 random bytes, base64url>`."""
    return f"{kek_id}:{_b64(secrets.token_bytes(KEY_BYTES))}"


def new_fingerprint_key() -> str:
    return _b64(secrets.token_bytes(KEY_BYTES))


def parse_keks(value: str) -> tuple[Kek, ...]:
    """`id:key,id:key` (the first wraps). Refuses duplicates and keys of the wrong size."""
    keks = []
    for index, part in enumerate(p.strip() for p in value.split(",") if p.strip()):
        kek_id, _, encoded = part.partition(":")
        if not _KEK_ID.match(kek_id):
            raise KeyConfigError(f"KEK {index + 1}: the id must be 1-32 letters, digits, _ or -")
        keks.append(Kek(kek_id, _key_bytes(encoded, f"KEK {kek_id!r}")))
    if not keks:
        raise KeyConfigError("no KEK configured (id:base64url-key, comma-separated)")
    if len({kek.id for kek in keks}) != len(keks):
        raise KeyConfigError("two KEKs have the same id")
    return tuple(keks)


def parse_fingerprint_key(value: str) -> bytes:
    return _key_bytes(value.strip(), "the fingerprint key")


@dataclass(frozen=True)
class SealedCard:
    kek_id: str
    wrapped_key: bytes
    card: bytes
    cvc: bytes | None


@dataclass(frozen=True, repr=False)
class OpenedCard:
    number: str
    holder_name: str
    cvc: str  # "" when no CVC was held


class Envelope:
    def __init__(self, keks: tuple[Kek, ...]) -> None:
        self._keks = {kek.id: kek for kek in keks}
        self.current = keks[0]

    def seal(self, record_id: str, number: str, holder_name: str, cvc: str) -> SealedCard:
        data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        card = json.dumps({"number": number, "holder_name": holder_name}).encode()
        return SealedCard(
            kek_id=self.current.id,
            wrapped_key=self._wrap(record_id, self.current, data_key),
            card=_encrypt(data_key, card, _aad(record_id, "card")),
            cvc=_encrypt(data_key, cvc.encode(), _aad(record_id, "cvc")) if cvc else None,
        )

    def open(
        self, record_id: str, kek_id: str, wrapped_key: bytes, card: bytes, cvc: bytes | None
    ) -> OpenedCard:
        data_key = self._unwrap(record_id, kek_id, wrapped_key)
        fields = json.loads(_decrypt(data_key, card, _aad(record_id, "card")))
        opened_cvc = _decrypt(data_key, cvc, _aad(record_id, "cvc")).decode() if cvc else ""
        return OpenedCard(str(fields["number"]), str(fields["holder_name"]), opened_cvc)

    def rewrap(self, record_id: str, kek_id: str, wrapped_key: bytes) -> bytes:
        """The record's data key wrapped by the current KEK (the card's ciphertext stays)."""
        return self._wrap(record_id, self.current, self._unwrap(record_id, kek_id, wrapped_key))

    def _wrap(self, record_id: str, kek: Kek, data_key: bytes) -> bytes:
        return _encrypt(kek.key, data_key, _aad(record_id, f"key:{kek.id}"))

    def _unwrap(self, record_id: str, kek_id: str, wrapped_key: bytes) -> bytes:
        kek = self._keks.get(kek_id)
        if kek is None:
            raise CannotDecrypt(f"KEK {kek_id!r} is not configured")
        return _decrypt(kek.key, wrapped_key, _aad(record_id, f"key:{kek.id}"))


def fingerprint(key: bytes, merchant_id: str, number: str) -> str:
    """Keyed and per merchant: no one without the key can test a guess of the number against
    it, and one card's fingerprints at two merchants are unrelated."""
    mac = hmac.new(key, f"{merchant_id}\x00{number}".encode(), hashlib.sha256).digest()
    return _b64(mac[:16])


def _aad(record_id: str, part: str) -> bytes:
    return f"{record_id}|{part}".encode()


def _encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _decrypt(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag:
        raise CannotDecrypt("authentication failed") from None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _key_bytes(encoded: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{what} is not base64url") from None
    if len(raw) != KEY_BYTES:
        raise KeyConfigError(f"{what} must be {KEY_BYTES} bytes")
    return raw
