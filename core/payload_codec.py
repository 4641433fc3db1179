"""Temporal payloads encrypted before they leave the process: the Temporal server (and whoever
reads its database or its UI) sees ciphertext where a workflow's inputs, results, signals,
updates, activity arguments and failure messages would be (order ids, amounts, merchant
metadata, payment-method tokens).

Temporal's encryption pattern: a `PayloadCodec` that turns each payload, serialized whole, into
one AES-256-GCM ciphertext (`cryptography`'s AESGCM: authenticated, so a tampered payload fails
to decrypt instead of decoding into something else), marked `encoding: binary/encrypted` with
the id of its key in the payload's metadata.

Keys: PAYLOOPS_TEMPORAL_CODEC_KEYS, comma-separated `ID:KEY` entries, KEY the base64url of 32
random bytes (`payloops codec-key new` prints one). The first encrypts; every one decrypts, so a
key rotates without stopping anything (docs/architecture.md, "Temporal payload encryption").

Headers too (Temporal's HeaderCodecBehavior.CODEC): the ids the worker sends with each
activity (orchestrator.correlation) and the tracing context are as readable as any input, and
the SDK leaves headers in clear unless told. `PayloadEncryption` is the one way the platform
configures a client, a worker (through its client) or a replayer: converter and headers
together, so no one can have the one without the other.

A payload without the marker is passed through as it is: workflows started before payloads
were encrypted, and recorded histories, keep decoding.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.client import ClientConfig
from temporalio.common import HeaderCodecBehavior
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)
from temporalio.plugin import SimplePlugin
from temporalio.worker import ReplayerConfig

from core.config import TEMPORAL_CODEC_KEYS_VAR as KEYS_VAR

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class CodecKeysInvalid(ValueError):
    """PAYLOOPS_TEMPORAL_CODEC_KEYS is missing or malformed (the message never quotes a key)."""


class PayloadUndecryptable(Exception):
    """An encrypted payload that none of the configured keys opens."""


@dataclass(frozen=True)
class CodecKey:
    id: str
    cipher: AESGCM

    @classmethod
    def parse(cls, entry: str) -> CodecKey:
        key_id, colon, encoded = entry.strip().partition(":")
        if not colon or not _KEY_ID.fullmatch(key_id):
            raise CodecKeysInvalid(
                f"{KEYS_VAR}: each entry is ID:KEY, the id made of letters, digits, "
                "'_', '.' or '-' (at most 64)"
            )
        try:
            material = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise CodecKeysInvalid(f"{KEYS_VAR}: key {key_id} is not base64url") from None
        if len(material) != KEY_BYTES:
            raise CodecKeysInvalid(f"{KEYS_VAR}: key {key_id} must be {KEY_BYTES} bytes")
        return cls(key_id, AESGCM(material))


def parse_keys(entries: Sequence[str]) -> tuple[CodecKey, ...]:
    if not entries:
        raise CodecKeysInvalid(
            f"{KEYS_VAR} is not set: Temporal payloads are encrypted with a key of this "
            "installation (`payloops dev` makes one in its state dir)"
        )
    keys = tuple(CodecKey.parse(entry) for entry in entries)
    ids = [key.id for key in keys]
    if len(set(ids)) != len(ids):
        # A payload names its key by id: two keys under one id could not both decrypt.
        raise CodecKeysInvalid(f"{KEYS_VAR}: two keys have the same id")
    return keys


def new_key() -> str:
    """An entry for PAYLOOPS_TEMPORAL_CODEC_KEYS: a random id and a random 256-bit key."""
    material = base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=8 * KEY_BYTES))
    return f"k{secrets.token_hex(4)}:{material.rstrip(b'=').decode()}"


class EncryptionCodec(PayloadCodec):
    """Encrypts with the first key; decrypts with the key the payload names."""

    def __init__(self, keys: Sequence[CodecKey]) -> None:
        if not keys:
            raise CodecKeysInvalid(f"{KEYS_VAR} is not set")
        self._current = keys[0]
        self._by_id = {key.id: key for key in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        key = self._current
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated too: a payload relabelled with another id fails.
        sealed = key.cipher.encrypt(nonce, payload.SerializeToString(), key.id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key.id.encode()},
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption, or a recorded history: plain already
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        key = self._by_id.get(key_id)
        if key is None:
            raise PayloadUndecryptable(
                f"a Temporal payload is encrypted with key {key_id!r}, which is not in "
                f"{KEYS_VAR} (a key was dropped while a payload it encrypted was still "
                "needed?)"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(key.cipher.decrypt(nonce, sealed, key.id.encode()))
        except InvalidTag:
            raise PayloadUndecryptable(
                f"a Temporal payload does not decrypt with key {key_id!r}"
            ) from None


def data_converter(entries: Sequence[str]) -> DataConverter:
    """The converter of every Temporal client and worker of the platform. Failure messages
    and stack traces go into an encoded attribute too: a decline's or a refusal's message may
    name an amount or an order."""
    return DataConverter(
        payload_codec=EncryptionCodec(parse_keys(entries)),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


class PayloadEncryption(SimplePlugin):
    """For `Client.connect(plugins=...)`, `Replayer(plugins=...)` and the test environments:
    payloads, failures and headers through the codec of `entries` (PAYLOOPS_TEMPORAL_CODEC_KEYS).
    A worker takes its client's."""

    def __init__(self, entries: Sequence[str]) -> None:
        super().__init__("payloops.PayloadEncryption", data_converter=data_converter(entries))

    def configure_client(self, config: ClientConfig) -> ClientConfig:
        config = super().configure_client(config)
        config["header_codec_behavior"] = HeaderCodecBehavior.CODEC
        return config

    def configure_replayer(self, config: ReplayerConfig) -> ReplayerConfig:
        config = super().configure_replayer(config)
        config["header_codec_behavior"] = HeaderCodecBehavior.CODEC
        return config
