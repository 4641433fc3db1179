"""Razorpay webhooks: signature check over the raw body, then the event as PayLoops sees it.

Razorpay signs the exact body: `X-Razorpay-Signature` is the hex HMAC-SHA256 of it keyed with
the webhook secret (not the key secret). The SDK's `verify_webhook_signature` wants `str`, so
the body is decoded, never re-serialized. There is no timestamp: replays are PayLoops' to drop,
by `event_id` (the `X-Razorpay-Event-Id` header, which Razorpay keeps across its retries).
Nothing here calls Razorpay: the payload's entities are the state after the event.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import razorpay
from razorpay.errors import SignatureVerificationError

from payloops.processor.v1 import processor_pb2
from processors.kit.webhooks import lower_case, malformed, signature_invalid
from processors.razorpay.keys import NOTE_ATTEMPT_KEY
from processors.razorpay.mapping import notes_of, payment_message, refund_message

SIGNATURE_HEADER = "x-razorpay-signature"
EVENT_ID_HEADER = "x-razorpay-event-id"

_Kind = processor_pb2.ParseWebhookResponse

_verifier_lock = threading.Lock()
_verifier: razorpay.Client | None = None


def _utility() -> Any:
    # The utility needs no credentials and makes no request; one client serves every call.
    global _verifier
    with _verifier_lock:
        if _verifier is None:
            _verifier = razorpay.Client()
        return _verifier.utility


def verify(headers: dict[str, str], body: bytes, secret: str) -> str:
    """The body as text once its signature is valid; UNAUTHENTICATED otherwise."""
    signature = headers.get(SIGNATURE_HEADER, "").strip()
    if not secret or not signature:
        raise signature_invalid()
    try:
        text = body.decode("utf-8")
        _utility().verify_webhook_signature(text, signature, secret)
    except (UnicodeDecodeError, SignatureVerificationError, TypeError) as error:
        # TypeError: hmac.compare_digest refuses a non-ASCII signature.
        raise signature_invalid() from error
    return text


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any] | None:
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else None


def parse(
    request: processor_pb2.ParseWebhookRequest, redirect_url: Callable[[str], str]
) -> processor_pb2.ParseWebhookResponse:
    """The event, once verified; `redirect_url(payment_id)` is where a payment still waiting
    for authentication sends the customer."""
    headers = lower_case(request.headers)
    text = verify(headers, request.body, request.credentials.values.get("webhook_secret", ""))
    try:
        event = json.loads(text)
        event_type = str(event["event"])
        payload = event.get("payload") or {}
        if not isinstance(payload, dict):
            raise TypeError("payload")
    except (ValueError, TypeError, KeyError) as error:
        raise malformed("the webhook body is not a Razorpay event") from error
    # Razorpay always sends the id; a body digest keeps a malformed sender deduplicable.
    event_id = headers.get(EVENT_ID_HEADER) or (
        "sha256:" + hashlib.sha256(request.body).hexdigest()
    )
    response = processor_pb2.ParseWebhookResponse(event_id=event_id, event_type=event_type)
    if event_type.startswith("payment."):
        payment = _entity(payload, "payment")
        if payment is None:
            raise malformed(f"{event_type} without a payment")
        order = _entity(payload, "order") or {}
        # PayLoops' notes are on the payment and the order; the payment's win.
        merged = {**payment, "notes": {**notes_of(order), **notes_of(payment)}}
        response.kind = _Kind.KIND_PAYMENT
        response.payment.CopyFrom(
            payment_message(merged, redirect_url=redirect_url(str(payment.get("id", ""))))
        )
        if not response.payment.attempt_key:
            response.payment.attempt_key = notes_of(order).get(NOTE_ATTEMPT_KEY, "")
    elif event_type.startswith("refund."):
        refund = _entity(payload, "refund")
        if refund is None:
            raise malformed(f"{event_type} without a refund")
        response.kind = _Kind.KIND_REFUND
        response.refund.CopyFrom(refund_message(refund))
    return response
