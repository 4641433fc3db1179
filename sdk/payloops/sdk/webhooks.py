"""Verifying PayLoops webhooks on the receiving side.

Every delivery carries `PayLoops-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where each
v1 is HMAC-SHA256(secret, f"{t}.{raw body}") with one of the endpoint's valid secrets (two
while a rotated secret's grace period lasts). `verify` checks it against the raw bytes of the
request body, exactly as received (not a re-serialized JSON), and returns the event:

    from payloops.sdk import webhooks, SignatureVerificationError

    try:
        event = webhooks.verify(request_body, headers["PayLoops-Signature"], "whsec_…")
    except SignatureVerificationError:
        return 400
    if already_seen(event["id"]):   # deliveries are at least once
        return 200
    handle(event["type"], event["object"])
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from payloops.sdk._errors import SignatureVerificationError

SIGNATURE_HEADER = "PayLoops-Signature"
EVENT_ID_HEADER = "PayLoops-Event-Id"
DEFAULT_TOLERANCE = 300
_SCHEME = "v1"


def verify(
    payload: bytes | str,
    header: str | None,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """The event (a dict: id, type, create_time, livemode, object) if `header` is a valid
    signature of `payload` with `secret`, made at most `tolerance` seconds from `now` (default:
    the current time); raises SignatureVerificationError otherwise."""
    if not secret:
        raise SignatureVerificationError("no webhook signing secret given")
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    timestamp, signatures = _parse(header)
    signed = str(timestamp).encode("ascii") + b"." + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    # Every candidate is compared in constant time; any one may match (secret rotation).
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode("ascii"), candidate.encode("ascii"))
    if not matched:
        raise SignatureVerificationError(
            "no signature in the PayLoops-Signature header matches the payload with this "
            "secret (is it the raw request body, and this endpoint's secret?)"
        )
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureVerificationError(
            f"the signature's timestamp is {int(abs(current - timestamp))}s away from now, "
            f"more than the {tolerance}s tolerance (a replayed delivery, or a wrong clock)"
        )
    try:
        event = json.loads(body)
    except ValueError as error:
        raise SignatureVerificationError("the signed payload is not JSON") from error
    if not isinstance(event, dict):
        raise SignatureVerificationError("the signed payload is not a JSON object")
    return event


def _parse(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureVerificationError("the PayLoops-Signature header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureVerificationError(
                    "the PayLoops-Signature timestamp is not a number"
                ) from None
        elif key == _SCHEME and value and value.isascii():
            # (compare_digest takes ASCII only: anything else cannot match a hex digest.)
            signatures.append(value)
    if timestamp is None:
        raise SignatureVerificationError("the PayLoops-Signature header has no timestamp (t=)")
    if not signatures:
        raise SignatureVerificationError("the PayLoops-Signature header has no v1 signature")
    return timestamp, signatures
