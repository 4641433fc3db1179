"""The sandbox's webhooks. It sends none yet, but ParseWebhook verifies them the way a real
adapter must, so the conformance kit and the edge can exercise it:

  * header `x-sandbox-signature` = lower-case hex HMAC-SHA256 of the raw body, keyed with the
    credentials value `webhook_secret` (see `sign_webhook`); anything else, including a missing
    secret, is UNAUTHENTICATED reason SIGNATURE_INVALID;
  * body = JSON `{"id": "evt_…", "type": "payment.<anything>" | "refund.<anything>",
    "processor_reference": "ch_…" | "re_…"}`; the response carries the object's current state.
    Other types are acknowledged as KIND_UNSPECIFIED.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

from payloops.processor.v1 import processor_pb2
from processors.kit.webhooks import lower_case, malformed, signature_invalid
from processors.sandbox.ledger import Ledger, PaymentRecord
from processors.sandbox.mapping import refund_message

SIGNATURE_HEADER = "x-sandbox-signature"

_Kind = processor_pb2.ParseWebhookResponse


def sign_webhook(secret: str, body: bytes) -> str:
    """The `x-sandbox-signature` header value for a webhook body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def parse(
    request: processor_pb2.ParseWebhookRequest,
    ledger: Ledger,
    payment_message: Callable[[PaymentRecord], processor_pb2.Payment],
) -> processor_pb2.ParseWebhookResponse:
    secret = request.credentials.values.get("webhook_secret", "")
    given = lower_case(request.headers).get(SIGNATURE_HEADER, "").strip().lower()
    if not secret or not hmac.compare_digest(given, sign_webhook(secret, request.body)):
        raise signature_invalid()
    try:
        event = json.loads(request.body)
        event_id, event_type = str(event["id"]), str(event["type"])
        reference = str(event.get("processor_reference", ""))
    except (ValueError, TypeError, KeyError):
        raise malformed("webhook body is not a sandbox event") from None
    response = processor_pb2.ParseWebhookResponse(event_id=event_id, event_type=event_type)
    if event_type.startswith("payment."):
        response.kind = _Kind.KIND_PAYMENT
        response.payment.CopyFrom(payment_message(ledger.payment_by_reference(reference)))
    elif event_type.startswith("refund."):
        response.kind = _Kind.KIND_REFUND
        response.refund.CopyFrom(refund_message(ledger.refund_by_reference(reference)))
    return response
