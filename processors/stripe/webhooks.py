"""ParseWebhook: a Stripe webhook, verified over its exact bytes, as a PayLoops event.

Verification is Stripe's own (`stripe.WebhookSignature.verify_header`): header
`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(webhook_secret, f"{t}.{body}")>`, any of several
v1 signatures may match (secret rotation), and the timestamp must be within TOLERANCE of now, so
a captured webhook cannot be replayed later. Anything else is UNAUTHENTICATED,
SIGNATURE_INVALID.

Normalization goes by the kind of object the event carries, not by a list of event types, so a
new event type about a known object is understood:
* a PaymentIntent (`payment_intent.*`): KIND_PAYMENT, the intent as Payment, attempt key from
  its metadata. Events carry `latest_charge` as an id, so the card is unknown and the refunded
  amount reads 0; PayLoops treats events as a nudge and reads the payment with GetPayment;
* a Refund (`refund.*`, `charge.refund.updated`): KIND_REFUND;
* a Charge in `charge.refunded`: KIND_REFUND with the newest refund when the charge embeds its
  refunds (older API versions), otherwise KIND_PAYMENT with the payment's new refunded total
  (current API versions no longer embed them; `refund.created` carries the refund itself);
* anything else: KIND_UNSPECIFIED, acknowledged and ignored.
Verifying and normalizing never calls Stripe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import stripe

from payloops.processor.v1 import processor_pb2 as pb
from processors.kit.errors import ProcessorError
from processors.kit.webhooks import lower_case, malformed, signature_invalid
from processors.stripe.mapping import (
    payment_from_charge,
    payment_from_intent,
    refund_from_stripe,
)

SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_S = 300  # Stripe's default; its retries are re-signed, so they stay within it


def _signature_invalid(why: str) -> ProcessorError:
    return signature_invalid(f"Stripe webhook signature invalid: {why}")


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> dict[str, Any]:
    """The event, once its signature is proven; raises SIGNATURE_INVALID otherwise."""
    if not secret:
        raise _signature_invalid("no webhook_secret in the credentials")
    header = lower_case(headers).get(SIGNATURE_HEADER)
    if not header:
        raise _signature_invalid("no Stripe-Signature header")
    try:
        payload = body.decode("utf-8")
        stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_S)
    except UnicodeDecodeError:
        raise _signature_invalid("the body is not UTF-8") from None
    except stripe.SignatureVerificationError as error:
        # Stripe's message says which check failed (tolerance, no match); never the secret.
        raise _signature_invalid(str(error.user_message or "no match")) from None
    try:
        event = json.loads(payload)
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            raise ValueError("not an event envelope")
        return event
    except ValueError:
        raise malformed("the signed body is not a Stripe event") from None


def normalize(event: Mapping[str, Any]) -> pb.ParseWebhookResponse:
    event_type = str(event.get("type") or "")
    response = pb.ParseWebhookResponse(event_id=str(event.get("id") or ""), event_type=event_type)
    obj = event["data"].get("object")
    if not isinstance(obj, Mapping):
        return response
    match obj.get("object"):
        case "payment_intent":
            response.kind = pb.ParseWebhookResponse.KIND_PAYMENT
            response.payment.CopyFrom(payment_from_intent(obj))
        case "refund":
            response.kind = pb.ParseWebhookResponse.KIND_REFUND
            response.refund.CopyFrom(refund_from_stripe(obj))
        case "charge" if event_type == "charge.refunded":
            refunds = (obj.get("refunds") or {}).get("data") or []
            if refunds:
                newest = max(refunds, key=lambda r: int(r.get("created") or 0))
                response.kind = pb.ParseWebhookResponse.KIND_REFUND
                response.refund.CopyFrom(refund_from_stripe(newest))
            else:
                response.kind = pb.ParseWebhookResponse.KIND_PAYMENT
                response.payment.CopyFrom(payment_from_charge(obj))
    return response
