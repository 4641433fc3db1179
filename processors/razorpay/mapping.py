"""Razorpay entities as Processor messages: payment status → Outcome, refund status → Status.

Payment (`status`, `captured`, and PayLoops' notes):
  created                     REQUIRES_ACTION: authentication pending at `next_action`
  authorized, manual order    AUTHORIZED
  authorized, automatic       PENDING: the adapter captures it when it next looks (gateway.py)
  captured                    SUCCEEDED (also once refunded: refunds are their own resources)
  refunded, captured=false    CANCELED: an authorization released without capture
  failed                      DECLINED, with the Decline from declines.py
  any but captured, voided    CANCELED: PayLoops voided it (notes.payloops_void_key); it will
                              never be captured by PayLoops and Razorpay releases it
Money taken always wins: a captured payment is SUCCEEDED even if a void was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payloops.processor.v1 import processor_pb2
from processors.razorpay.declines import decline_for
from processors.razorpay.keys import (
    CAPTURE_MANUAL,
    NOTE_ATTEMPT_KEY,
    NOTE_CAPTURE,
    NOTE_REFUND_KEY,
    NOTE_VOID_KEY,
)

Entity = Mapping[str, Any]

# The card entity's `network`, lower-cased, as PayLoops spells networks.
_NETWORKS: dict[str, str] = {
    "visa": "visa",
    "mastercard": "mastercard",
    "rupay": "rupay",
    "american express": "amex",
    "amex": "amex",
    "diners club": "diners",
    "diners": "diners",
    "jcb": "jcb",
    "union pay": "unionpay",
    "unionpay": "unionpay",
    "maestro": "maestro",
    "discover": "discover",
}
_REFUND_STATUSES: dict[str, processor_pb2.Refund.Status.ValueType] = {
    "pending": processor_pb2.Refund.STATUS_PENDING,
    "processed": processor_pb2.Refund.STATUS_SUCCEEDED,
    "failed": processor_pb2.Refund.STATUS_FAILED,
}


def notes_of(entity: Entity) -> dict[str, str]:
    notes = entity.get("notes")
    # Razorpay sends empty notes as [] (a PHP habit).
    return {str(k): str(v) for k, v in notes.items()} if isinstance(notes, dict) else {}


def is_captured(payment: Entity) -> bool:
    return bool(payment.get("captured")) or payment.get("status") == "captured"


def is_voided(payment: Entity) -> bool:
    return bool(notes_of(payment).get(NOTE_VOID_KEY))


def manual_capture(payment: Entity) -> bool:
    # Payments PayLoops did not create carry no note: treat their authorization as held for a
    # capture, the state that takes no money on its own.
    return notes_of(payment).get(NOTE_CAPTURE, CAPTURE_MANUAL) == CAPTURE_MANUAL


def outcome_of(payment: Entity) -> processor_pb2.Outcome.ValueType:
    status = payment.get("status")
    if is_captured(payment):
        return processor_pb2.OUTCOME_SUCCEEDED
    if status == "refunded" or is_voided(payment):
        return processor_pb2.OUTCOME_CANCELED
    match status:
        case "created":
            return processor_pb2.OUTCOME_REQUIRES_ACTION
        case "authorized":
            return (
                processor_pb2.OUTCOME_AUTHORIZED
                if manual_capture(payment)
                else processor_pb2.OUTCOME_PENDING
            )
        case "failed":
            return processor_pb2.OUTCOME_DECLINED
    return processor_pb2.OUTCOME_PENDING


def card_of(payment: Entity) -> processor_pb2.Card:
    card = payment.get("card")
    if not isinstance(card, dict):
        return processor_pb2.Card()
    network = str(card.get("network") or "").lower()
    international = card.get("international")
    return processor_pb2.Card(
        network=_NETWORKS.get(network, network.replace(" ", "")),
        funding=str(card.get("type") or ""),
        # Razorpay says only domestic or not; domestic means issued in India.
        country="IN" if international is False else "",
        last4=str(card.get("last4") or ""),
    )


def payment_message(payment: Entity, *, redirect_url: str = "") -> processor_pb2.Payment:
    outcome = outcome_of(payment)
    captured = is_captured(payment)
    amount = int(payment.get("amount") or 0)
    message = processor_pb2.Payment(
        attempt_key=notes_of(payment).get(NOTE_ATTEMPT_KEY, ""),
        processor_reference=str(payment.get("id", "")),
        outcome=outcome,
        amount=amount,
        currency=str(payment.get("currency", "")).upper(),
        amount_captured=amount if captured else 0,
        # An uncaptured payment's "refund" is Razorpay releasing the authorization.
        amount_refunded=int(payment.get("amount_refunded") or 0) if captured else 0,
        card=card_of(payment),
    )
    if outcome == processor_pb2.OUTCOME_DECLINED:
        message.decline.CopyFrom(decline_for(payment))
    if outcome == processor_pb2.OUTCOME_REQUIRES_ACTION:
        message.next_action.redirect_url = redirect_url
    return message


def refund_message(refund: Entity) -> processor_pb2.Refund:
    status = _REFUND_STATUSES.get(str(refund.get("status")), processor_pb2.Refund.STATUS_PENDING)
    return processor_pb2.Refund(
        refund_key=notes_of(refund).get(NOTE_REFUND_KEY, ""),
        processor_reference=str(refund.get("id", "")),
        payment_reference=str(refund.get("payment_id", "")),
        amount=int(refund.get("amount") or 0),
        currency=str(refund.get("currency", "")).upper(),
        status=status,
        failure_code="refund_failed" if status == processor_pb2.Refund.STATUS_FAILED else "",
    )
