"""Finding an attempt's orders and payments, and a payment's refunds, at Razorpay: how a
retried Authorize finds the first call's payment, and how GetPayment and GetRefund answer by
PayLoops' keys (Razorpay has no idempotency key to search by; keys.py says what it has).

Every read is one SDK call through `client.call`; nothing here moves money.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import razorpay

from processors.kit.errors import not_found
from processors.razorpay.client import call
from processors.razorpay.errors import GatewayAnswer, Step
from processors.razorpay.keys import NOTE_ATTEMPT_KEY, NOTE_REFUND_KEY, order_receipt
from processors.razorpay.mapping import is_captured, notes_of

Entity = dict[str, Any]

# A refund key embeds the attempt key when PayLoops' orchestrator builds it
# ("{attempt_key}:refund[:n]"); this many ":"-prefixes are tried to find its payment.
_MAX_KEY_PREFIXES = 6
# How far along a payment is (money taken first, a released authorization after a live one);
# the furthest speaks for an attempt with several payments.
_PROGRESS = {"authorized": 4, "created": 3, "refunded": 2, "failed": 1}
_CAPTURED = 5
_PAGE = 100


def orders_for(client: razorpay.Client, attempt_key: str) -> list[Entity]:
    """The attempt's orders (normally one), oldest first."""
    receipt = order_receipt(attempt_key)
    found = call(Step.READ, lambda: client.order.all({"receipt": receipt, "count": _PAGE}))
    orders = [
        o
        for o in _items(found)
        if o.get("receipt") == receipt and notes_of(o).get(NOTE_ATTEMPT_KEY) == attempt_key
    ]
    return sorted(orders, key=lambda o: (int(o.get("created_at") or 0), str(o.get("id"))))


def payments_of(client: razorpay.Client, orders: list[Entity]) -> list[Entity]:
    payments: list[Entity] = []
    for order in orders:
        payments += _order_payments(client, str(order["id"]))
    return payments


def _order_payments(client: razorpay.Client, order_id: str) -> list[Entity]:
    return _items(call(Step.READ, lambda: client.order.payments(order_id, {})))


def furthest(payments: list[Entity]) -> Entity:
    """The payment that speaks for an attempt: money taken first, then the newest."""

    def progress(payment: Entity) -> int:
        return _CAPTURED if is_captured(payment) else _PROGRESS.get(str(payment.get("status")), 0)

    return max(
        payments, key=lambda p: (progress(p), int(p.get("created_at") or 0), str(p.get("id")))
    )


def fetch_payment(client: razorpay.Client, payment_id: str) -> Entity:
    return call(Step.READ, lambda: client.payment.fetch(payment_id, {"expand[]": "card"}))


def payment_or_not_found(client: razorpay.Client, payment_id: str) -> Entity:
    try:
        return fetch_payment(client, payment_id)
    except GatewayAnswer as answer:
        if answer.says_missing:
            raise not_found(
                "PAYMENT_NOT_FOUND", f"Razorpay has no payment {payment_id}"
            ) from answer
        raise


def refund_with_key(client: razorpay.Client, payment_id: str, refund_key: str) -> Entity | None:
    refunds = call(
        Step.READ, lambda: client.payment.fetch_multiple_refund(payment_id, {"count": _PAGE})
    )
    for refund in _items(refunds):
        if notes_of(refund).get(NOTE_REFUND_KEY) == refund_key:
            return refund
    return None


def refund_by_reference(client: razorpay.Client, reference: str) -> Entity:
    try:
        return call(Step.READ, lambda: client.refund.fetch(reference, {}))
    except GatewayAnswer as answer:
        if answer.says_missing:
            raise not_found("REFUND_NOT_FOUND", f"Razorpay has no refund {reference}") from answer
        raise


def payments_for_key_prefixes(client: razorpay.Client, key: str) -> list[str]:
    """The payments of the attempt whose key `key` starts with ("{attempt_key}:…"), nearest
    prefix first."""
    parts = key.split(":")
    for end in range(len(parts) - 1, max(0, len(parts) - 1 - _MAX_KEY_PREFIXES), -1):
        payments = payments_of(client, orders_for(client, ":".join(parts[:end])))
        if payments:
            return [str(p["id"]) for p in payments]
    return []


def _items(collection: Mapping[str, Any]) -> list[Entity]:
    items = collection.get("items")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
