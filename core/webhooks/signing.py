"""Signing merchant webhooks: `PayLoops-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`.

Each v1 is HMAC-SHA256 over f"{t}.{body}" with one of the endpoint's valid secrets (the
current one, and the previous one while its rotation grace period lasts), so a receiver still
holding the old secret keeps verifying while it switches. The timestamp is inside the signed
text: a captured delivery cannot be replayed later with a fresh `t`. The SDK's
`payloops.sdk.webhooks.verify` is the receiving side.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SIGNATURE_HEADER = "PayLoops-Signature"
EVENT_ID_HEADER = "PayLoops-Event-Id"
ATTEMPT_HEADER = "PayLoops-Delivery-Attempt"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """`whsec_` + 32 random bytes, base64url without padding (256 bits)."""
    return SECRET_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of f"{timestamp}.{body}", keyed with the whole secret string."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets_: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header value: one v1 per secret, in the order given (current first)."""
    if not secrets_:
        raise ValueError("an endpoint always has a signing secret")
    return ",".join(
        [f"t={timestamp}", *(f"v1={signature(secret, timestamp, body)}" for secret in secrets_)]
    )
