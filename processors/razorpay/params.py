"""Processor requests checked and turned into what Razorpay is sent: keys and references,
the attempt's amount and capture mode, and the notes and payment fields of an order.

Everything here runs before a request goes to Razorpay, so every failure is INVALID_ARGUMENT
with nothing charged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payloops.processor.v1 import processor_pb2
from processors.kit.checks import positive, required
from processors.kit.errors import invalid
from processors.razorpay.currencies import razorpay_amount
from processors.razorpay.keys import (
    CAPTURE_AUTOMATIC,
    CAPTURE_MANUAL,
    KEY_MAX_CHARS,
    NOTE_ATTEMPT_KEY,
    NOTE_CAPTURE,
    NOTE_MAX_CHARS,
    NOTE_MERCHANT_ID,
    NOTE_ORDER_ID,
    NOTE_REFUND_KEY,
    NOTE_REFUND_REASON,
    NOTES_MAX_KEYS,
    PAYLOOPS_NOTES,
)

# Merchant metadata with these keys fills Razorpay's payment fields of the same meaning
# (real Razorpay requires email and contact for S2S payments; PayLoops has no such fields).
# They are not copied to notes.
PAYMENT_FIELDS_FROM_METADATA: Mapping[str, str] = {
    "email": "email",
    "contact": "contact",
    "ip": "ip",
    "user_agent": "user_agent",
    "referer": "referer",
    "razorpay_customer_id": "customer_id",
}
# Razorpay's saved-card tokens, and the sandbox-named test tokens (payment_methods.py) that the
# Razorpay fake implements.
TOKEN_PREFIXES = ("token_", "pm_card_")
_CVV = re.compile(r"[0-9]{3,4}")
# Four PayLoops notes on every order and payment, one kept free for a void.
_METADATA_NOTES = NOTES_MAX_KEYS - 5
_MAX_DESCRIPTION = 255


def key(value: str, name: str) -> str:
    """A PayLoops key, kept whole in a note, so it must fit in one."""
    required(value, name)
    if len(value) > KEY_MAX_CHARS:
        raise invalid(
            f"{name.upper()}_TOO_LONG", f"{name} may have at most {KEY_MAX_CHARS} characters"
        )
    return value


def reference(value: str, prefix: str, name: str = "processor_reference") -> str:
    required(value, name)
    if not value.startswith(prefix) or not value[len(prefix) :].isalnum():
        raise invalid(
            f"{name.upper()}_INVALID", f"{name} must be a Razorpay id starting with {prefix!r}"
        )
    return value


@dataclass(frozen=True)
class Attempt:
    """An Authorize as Razorpay will see it."""

    key: str
    amount: int  # what Razorpay is sent (minor units, checked against its rules)
    currency: str
    capture: str  # CAPTURE_AUTOMATIC | CAPTURE_MANUAL


def attempt(request: processor_pb2.AuthorizeRequest) -> Attempt:
    attempt_key = key(request.attempt_key, "attempt_key")
    positive(request.amount)
    currency = request.currency.upper()
    amount = razorpay_amount(request.amount, currency)
    payment_method(request.payment_method)
    capture = (
        CAPTURE_MANUAL
        if request.capture_method == processor_pb2.CAPTURE_METHOD_MANUAL
        else CAPTURE_AUTOMATIC
    )
    return Attempt(attempt_key, amount, currency, capture)


def payment_method(method: processor_pb2.PaymentMethod) -> dict[str, Any]:
    """The S2S payment's card fields: the saved-card `token`, or the card details as `card`
    (Razorpay's names; the expiry year in two digits). No message here quotes card data."""
    if method.type not in ("", "card"):
        raise invalid("PAYMENT_METHOD_NOT_SUPPORTED", "this adapter takes cards only")
    if not method.HasField("raw_card"):
        if not method.token:
            raise invalid("PAYMENT_METHOD_TOKEN_REQUIRED", "payment_method.token is required")
        return {"token": method.token}
    if method.token:
        raise invalid("PAYMENT_METHOD_AMBIGUOUS", "send a token or a raw card, not both")
    raw = method.raw_card
    if not raw.number.isascii() or not raw.number.isdigit() or not 12 <= len(raw.number) <= 19:
        raise invalid("CARD_NUMBER_INVALID", "raw_card.number must be 12 to 19 digits")
    if not 1 <= raw.exp_month <= 12 or not 2000 <= raw.exp_year <= 2099:
        raise invalid("CARD_EXPIRY_INVALID", "raw_card needs exp_month 1-12 and a 20xx exp_year")
    card = {
        "number": raw.number,
        "expiry_month": f"{raw.exp_month:02d}",
        "expiry_year": f"{raw.exp_year % 100:02d}",
    }
    if raw.cvc:  # gone after the payment's first authorization
        if not _CVV.fullmatch(raw.cvc):
            raise invalid("CARD_CVC_INVALID", "raw_card.cvc must be 3 or 4 digits")
        card["cvv"] = raw.cvc
    if raw.holder_name:
        card["name"] = raw.holder_name
    return {"card": card}


def attempt_notes(request: processor_pb2.AuthorizeRequest, capture: str) -> dict[str, str]:
    """The notes of the attempt's order and payment: the merchant's metadata that fits, and
    PayLoops' own (its keys win)."""
    return {
        **_merchant_notes(request.metadata),
        NOTE_ATTEMPT_KEY: request.attempt_key,
        NOTE_ORDER_ID: request.order_id[:NOTE_MAX_CHARS],
        NOTE_MERCHANT_ID: request.merchant_id[:NOTE_MAX_CHARS],
        NOTE_CAPTURE: capture,
    }


def payment_fields(request: processor_pb2.AuthorizeRequest) -> dict[str, str]:
    """The S2S payment's own fields: customer details from the metadata, the 3-D Secure
    return address, the description."""
    fields = {
        field: request.metadata[name]
        for name, field in PAYMENT_FIELDS_FROM_METADATA.items()
        if request.metadata.get(name)
    }
    if request.return_url:
        fields["callback_url"] = request.return_url
    if request.description:
        fields["description"] = request.description[:_MAX_DESCRIPTION]
    return fields


def refund_notes(refund_key: str, reason: str) -> dict[str, str]:
    notes = {NOTE_REFUND_KEY: refund_key}
    if reason:
        notes[NOTE_REFUND_REASON] = reason[:NOTE_MAX_CHARS]
    return notes


def _merchant_notes(metadata: Mapping[str, str]) -> dict[str, str]:
    notes: dict[str, str] = {}
    for name in sorted(metadata):
        if len(notes) == _METADATA_NOTES:
            break
        if name in PAYMENT_FIELDS_FROM_METADATA or name in PAYLOOPS_NOTES:
            continue
        notes[name[:NOTE_MAX_CHARS]] = metadata[name][:NOTE_MAX_CHARS]
    return notes
