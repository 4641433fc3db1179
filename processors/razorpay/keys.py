"""What PayLoops' keys become at Razorpay, which has no idempotency key for orders, payments
or captures.

Authorize: the attempt key names one Razorpay **order**. Its receipt (Razorpay allows 40
characters, unique per account by convention) is `plk1_` + the first 32 hex digits of the
SHA-256 of the attempt key: fixed length, no characters Razorpay could refuse, the same for
every retry, and 128 bits against collisions. The attempt key itself (often longer than 40)
is kept whole in the order's and the payment's `notes.payloops_attempt_key`, and a found order
must carry it. A retried Authorize looks the receipt up (`GET /v1/orders?receipt=`) and that
order's payments before creating anything, so it finds the first call's payment instead of
paying again. Razorpay itself then guards the rest: an order takes one successful payment
(a duplicate payment on a paid order is auto-refunded), and an authorization nobody captures
is released after the capture timeout.

Refund: the refund key goes to `X-Refund-Idempotency` (`plr1_` + 32 hex digits of its
SHA-256), to the refund's `receipt`, and whole to `notes.payloops_refund_key`, which the adapter
looks for in the payment's refunds before refunding.
"""

from __future__ import annotations

import hashlib

NOTE_ATTEMPT_KEY = "payloops_attempt_key"
NOTE_ORDER_ID = "payloops_order_id"
NOTE_MERCHANT_ID = "payloops_merchant_id"
NOTE_CAPTURE = "payloops_capture"  # "automatic" | "manual"
NOTE_VOID_KEY = "payloops_void_key"
NOTE_REFUND_KEY = "payloops_refund_key"
NOTE_REFUND_REASON = "payloops_refund_reason"
PAYLOOPS_NOTES = frozenset(
    {
        NOTE_ATTEMPT_KEY,
        NOTE_ORDER_ID,
        NOTE_MERCHANT_ID,
        NOTE_CAPTURE,
        NOTE_VOID_KEY,
        NOTE_REFUND_KEY,
        NOTE_REFUND_REASON,
    }
)

# Razorpay notes: at most 15 pairs, values at most 256 characters.
NOTES_MAX_KEYS = 15
NOTE_MAX_CHARS = 256
# Keys are kept whole in notes, so they must fit in one.
KEY_MAX_CHARS = NOTE_MAX_CHARS

CAPTURE_AUTOMATIC = "automatic"
CAPTURE_MANUAL = "manual"


def _digest(prefix: str, key: str) -> str:
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:32]


def order_receipt(attempt_key: str) -> str:
    """The receipt of the order that belongs to this attempt (37 characters)."""
    return _digest("plk1_", attempt_key)


def refund_idempotency_key(refund_key: str) -> str:
    """X-Refund-Idempotency and refund receipt for this refund key (37 characters)."""
    return _digest("plr1_", refund_key)
