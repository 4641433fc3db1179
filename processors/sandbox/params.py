"""Processor requests checked and turned into what the ledger takes. Every failure here is
INVALID_ARGUMENT, before the ledger is touched."""

from __future__ import annotations

import re

from payloops.processor.v1 import processor_pb2
from processors.kit.checks import positive, required
from processors.kit.errors import invalid
from processors.sandbox.ledger import AuthorizeInput
from processors.sandbox.payment_methods import TEST_CARDS, TestCard

_CURRENCY = re.compile(r"[A-Z]{3}")


def authorize_input(request: processor_pb2.AuthorizeRequest) -> tuple[AuthorizeInput, TestCard]:
    required(request.attempt_key, "attempt_key")
    positive(request.amount)
    currency = request.currency.upper()
    if not _CURRENCY.fullmatch(currency):
        raise invalid("CURRENCY_INVALID", "currency must be an ISO 4217 code")
    method = request.payment_method
    card = TEST_CARDS.get(method.token)
    if method.type not in ("", "card") or card is None:
        raise invalid("UNKNOWN_PAYMENT_METHOD", f"unknown test payment method {method.token!r}")
    authorize = AuthorizeInput(
        attempt_key=request.attempt_key,
        order_id=request.order_id,
        merchant_id=request.merchant_id,
        amount=request.amount,
        currency=currency,
        manual_capture=request.capture_method == processor_pb2.CAPTURE_METHOD_MANUAL,
        return_url=request.return_url,
    )
    return authorize, card
