"""ParseWebhook must verify the gateway's signature over the raw body before believing it:
PayLoops acts on what it returns, so an adapter that accepts a forged webhook lets anyone mark
an order paid."""

from __future__ import annotations

import json
import secrets
import time

import grpc

from cli.conformance.checks import Check
from cli.conformance.session import Session
from cli.conformance.verdicts import CheckFailed, refused

SIGNATURE_INVALID = "SIGNATURE_INVALID"


def forged_event() -> bytes:
    """A body shaped like a gateway event, so an adapter that parses before it verifies is
    caught too."""
    event_id = f"evt_{secrets.token_hex(12)}"
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "event": "payment.captured",
            "created": int(time.time()),
            "processor_reference": f"ch_{secrets.token_hex(12)}",
            "data": {"object": {}},
        }
    ).encode()


def junk_signatures() -> dict[str, str]:
    """The header names gateways sign with (Stripe, Razorpay, the sandbox, generic ones), each
    with a well-formed but wrong signature."""
    junk = secrets.token_hex(32)
    return {
        "content-type": "application/json",
        "stripe-signature": f"t={int(time.time())},v1={junk}",
        "x-razorpay-signature": junk,
        "x-sandbox-signature": junk,
        "x-webhook-signature": junk,
        "x-signature": junk,
    }


def signature_invalid(session: Session) -> str:
    body = forged_event()
    for what, headers in (
        ("ParseWebhook with wrong signatures", junk_signatures()),
        ("ParseWebhook without a signature", {"content-type": "application/json"}),
    ):
        failure = refused(
            session.client.parse_webhook(headers, body), what, [grpc.StatusCode.UNAUTHENTICATED]
        )
        if failure.reason != SIGNATURE_INVALID:
            raise CheckFailed(
                f"{what}: UNAUTHENTICATED with reason {failure.reason!r}, "
                f"expected {SIGNATURE_INVALID!r}"
            )
    return f"UNAUTHENTICATED {SIGNATURE_INVALID} for a wrong and a missing signature"


CHECKS = (
    Check(
        "webhook.signature-invalid",
        "ParseWebhook of a forged body with wrong or missing signatures is UNAUTHENTICATED "
        "with reason SIGNATURE_INVALID",
        signature_invalid,
    ),
)
