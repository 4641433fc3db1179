"""Processor requests checked and turned into what the ledger takes. Every failure here is
INVALID_ARGUMENT, before the ledger is touched."""

from __future__ import annotations

import datetime
import re

from payloops.processor.v1 import processor_pb2
from processors.kit.checks import positive, required
from processors.kit.errors import invalid
from processors.sandbox.ledger import AuthorizeInput
from processors.sandbox.payment_methods import TEST_CARD_NUMBERS, TEST_CARDS, TestCard

_CURRENCY = re.compile(r"[A-Z]{3}")
# Empty is fine: the CVC is only there for a payment's first authorization.
_CVC = re.compile(r"[0-9]{3,4}")


def authorize_input(request: processor_pb2.AuthorizeRequest) -> tuple[AuthorizeInput, TestCard]:
    required(request.attempt_key, "attempt_key")
    positive(request.amount)
    currency = request.currency.upper()
    if not _CURRENCY.fullmatch(currency):
        raise invalid("CURRENCY_INVALID", "currency must be an ISO 4217 code")
    card = _test_card(request.payment_method)
    authorize = AuthorizeInput(
        attempt_key=request.attempt_key,
        order_id=request.order_id,
        merchant_id=request.merchant_id,
        amount=request.amount,
        currency=currency,
        manual_capture=request.capture_method == processor_pb2.CAPTURE_METHOD_MANUAL,
        return_url=request.return_url,
        initiator=(
            "merchant" if request.initiator == processor_pb2.INITIATOR_MERCHANT else "customer"
        ),
        previous_network_transaction_id=request.network_transaction_id,
    )
    return authorize, card


def _test_card(method: processor_pb2.PaymentMethod) -> TestCard:
    """The test card a token or a raw test card number stands for."""
    if method.type not in ("", "card"):
        raise invalid("PAYMENT_METHOD_TYPE_UNSUPPORTED", "the sandbox takes cards only")
    if method.HasField("raw_card"):
        if method.token:
            raise invalid("PAYMENT_METHOD_AMBIGUOUS", "send a token or a raw card, not both")
        return TEST_CARDS[_raw_test_card(method.raw_card)]
    card = TEST_CARDS.get(method.token)
    if card is None:
        raise invalid("UNKNOWN_PAYMENT_METHOD", f"unknown test payment method {method.token!r}")
    return card


def _raw_test_card(raw: processor_pb2.RawCard) -> str:
    """The token a raw test card behaves as. No message ever quotes the number."""
    token = TEST_CARD_NUMBERS.get(raw.number)
    if token is None:
        raise invalid("UNKNOWN_TEST_CARD", "not one of the sandbox's test card numbers")
    if not 1 <= raw.exp_month <= 12:
        raise invalid("CARD_EXPIRY_INVALID", "exp_month must be 1 to 12")
    today = datetime.datetime.now(datetime.UTC).date()
    if (raw.exp_year, raw.exp_month) < (today.year, today.month):
        raise invalid("CARD_EXPIRED", "the card's expiry date has passed")
    if raw.cvc and not _CVC.fullmatch(raw.cvc):
        raise invalid("CARD_CVC_INVALID", "cvc must be 3 or 4 digits")
    return token
