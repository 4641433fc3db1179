"""Stripe objects (PaymentIntent, Charge, Refund, as JSON-shaped dicts) to Processor messages.

The same functions read API responses (`to_dict()` of the SDK's objects) and webhook bodies,
so a payment looks the same however PayLoops learns about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from payloops.processor.v1 import processor_pb2 as pb
from processors.stripe.currencies import AmountError, StripeCurrency, stripe_currency
from processors.stripe.declines import decline_from_error

# Metadata PayLoops writes on Stripe objects. The "payloops_" prefix is reserved: merchant
# metadata may not use it, so nobody can make a PaymentIntent look like another attempt's.
RESERVED_PREFIX = "payloops_"
ATTEMPT_KEY = "payloops_attempt_key"
ORDER_ID = "payloops_order_id"
MERCHANT_ID = "payloops_merchant_id"
REFUND_KEY = "payloops_refund_key"
REFUND_REASON = "payloops_reason"

_OUTCOMES: dict[str, pb.Outcome.ValueType] = {
    "succeeded": pb.OUTCOME_SUCCEEDED,
    "requires_capture": pb.OUTCOME_AUTHORIZED,
    "requires_action": pb.OUTCOME_REQUIRES_ACTION,
    "processing": pb.OUTCOME_PENDING,
    "canceled": pb.OUTCOME_CANCELED,
}
_REFUND_STATUSES: dict[str, pb.Refund.Status.ValueType] = {
    "pending": pb.Refund.STATUS_PENDING,
    "requires_action": pb.Refund.STATUS_PENDING,
    "succeeded": pb.Refund.STATUS_SUCCEEDED,
    "failed": pb.Refund.STATUS_FAILED,
    "canceled": pb.Refund.STATUS_FAILED,
}


def as_dict(obj: stripe.StripeObject) -> dict[str, Any]:
    return obj.to_dict()


class _Units:
    """Stripe units back to ISO minor units; a currency the table cannot place (which Stripe
    then must have accepted) is passed through unconverted rather than failing a lookup."""

    def __init__(self, code: str) -> None:
        self.code = code.upper()
        self._currency: StripeCurrency | None
        try:
            self._currency = stripe_currency(code)
        except AmountError:
            self._currency = None

    def __call__(self, amount: Any) -> int:
        value = int(amount or 0)
        return self._currency.from_stripe(value) if self._currency else value


def payment_from_intent(intent: Mapping[str, Any]) -> pb.Payment:
    """A PaymentIntent as the contract's Payment. `latest_charge` expanded gives the card and
    the captured/refunded amounts; a bare id (webhooks) leaves them at what the intent says."""
    units = _Units(str(intent.get("currency") or ""))
    status = str(intent.get("status") or "")
    metadata = intent.get("metadata") or {}
    payment = pb.Payment(
        attempt_key=str(metadata.get(ATTEMPT_KEY, "")),
        processor_reference=str(intent.get("id") or ""),
        # requires_payment_method without an error, requires_confirmation: nothing final
        # happened. PENDING keeps PayLoops asking (and voiding it in the end), never charging
        # elsewhere on a guess.
        outcome=_OUTCOMES.get(status, pb.OUTCOME_PENDING),
        amount=units(intent.get("amount")),
        currency=units.code,
        amount_captured=units(intent.get("amount_received")),
    )
    error = intent.get("last_payment_error")
    if status == "requires_payment_method" and error:
        payment.outcome = pb.OUTCOME_DECLINED
        payment.decline.CopyFrom(decline_from_error(error))
    if status == "requires_action":
        next_action = intent.get("next_action") or {}
        redirect = next_action.get("redirect_to_url") or {}
        # Without a return_url Stripe offers only `use_stripe_sdk` (Stripe.js); the payment
        # then waits with no URL, and PayLoops voids it when the challenge times out.
        if redirect.get("url"):
            payment.next_action.redirect_url = str(redirect["url"])
    charge = intent.get("latest_charge")
    if isinstance(charge, Mapping):
        _apply_charge(payment, charge, units)
    return payment


def _apply_charge(payment: pb.Payment, charge: Mapping[str, Any], units: _Units) -> None:
    if charge.get("captured"):
        captured = int(charge.get("amount_captured") or 0)
        # Capturing less than authorized "refunds" the rest at Stripe, and the charge counts
        # it in amount_refunded. That money was never taken: it is not a refund.
        released = int(charge.get("amount") or 0) - captured
        payment.amount_captured = units(captured)
        payment.amount_refunded = units(max(0, int(charge.get("amount_refunded") or 0) - released))
    details = (charge.get("payment_method_details") or {}).get("card") or {}
    if details:
        payment.card.CopyFrom(
            pb.Card(
                network=str(details.get("brand") or ""),
                funding=str(details.get("funding") or ""),
                country=str(details.get("country") or ""),
                last4=str(details.get("last4") or ""),
            )
        )
    # Stripe gives the network's id on the charge once the network authorized it (a declined
    # charge has none).
    payment.network_transaction_id = str(details.get("network_transaction_id") or "")


def refund_from_stripe(refund: Mapping[str, Any]) -> pb.Refund:
    units = _Units(str(refund.get("currency") or ""))
    payment_intent = refund.get("payment_intent")
    if isinstance(payment_intent, Mapping):
        payment_intent = payment_intent.get("id")
    return pb.Refund(
        refund_key=str((refund.get("metadata") or {}).get(REFUND_KEY, "")),
        processor_reference=str(refund.get("id") or ""),
        payment_reference=str(payment_intent or ""),
        amount=units(refund.get("amount")),
        currency=units.code,
        status=_REFUND_STATUSES.get(str(refund.get("status") or ""), pb.Refund.STATUS_PENDING),
        failure_code=str(refund.get("failure_reason") or ""),
    )


def payment_from_charge(charge: Mapping[str, Any]) -> pb.Payment:
    """The payment a Charge belongs to, from the charge alone (webhooks about charges). Stripe
    copies the PaymentIntent's metadata onto its charges, attempt key included."""
    units = _Units(str(charge.get("currency") or ""))
    payment_intent = charge.get("payment_intent")
    if isinstance(payment_intent, Mapping):
        payment_intent = payment_intent.get("id")
    payment = pb.Payment(
        attempt_key=str((charge.get("metadata") or {}).get(ATTEMPT_KEY, "")),
        processor_reference=str(payment_intent or ""),
        # A refunded charge was captured; an uncaptured one that Stripe calls refunded was
        # released.
        outcome=pb.OUTCOME_SUCCEEDED if charge.get("captured") else pb.OUTCOME_CANCELED,
        amount=units(charge.get("amount")),
        currency=units.code,
    )
    _apply_charge(payment, charge, units)
    return payment
