"""The platform's Temporal encryption (core.payload_codec: payloads, failures and headers) with a
key of the workflow tests' own: what their Temporal client writes with, and what a replay of
their histories needs. In a module of its own, so that the conftest and the tests share one key."""

from __future__ import annotations

from core.payload_codec import PayloadEncryption, new_key

ENCRYPTION = PayloadEncryption([new_key()])
