"""Processor requests checked and turned into Stripe request parameters.

Everything here runs before a byte goes to Stripe, so every failure is INVALID_ARGUMENT with
nothing charged. The parameters are built deterministically (sorted metadata, fixed order):
Stripe replays a request only when the same idempotency key comes with the same parameters,
and PayLoops' retries must get the replay, not an idempotency error.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from payloops.processor.v1 import processor_pb2 as pb
from processors.kit.checks import positive, required
from processors.kit.errors import invalid
from processors.stripe.currencies import AmountError, StripeCurrency, stripe_currency
from processors.stripe.mapping import (
    ATTEMPT_KEY,
    MERCHANT_ID,
    ORDER_ID,
    REFUND_KEY,
    REFUND_REASON,
    RESERVED_PREFIX,
)

# Stripe: idempotency keys up to 255 characters, metadata values up to 500, keys up to 40, at
# most 50 keys. PayLoops keeps 12 keys free for its own (attempt, order, merchant) and for
# refund tags (lookup.refund_tag), so that refunds can always be found by key.
MAX_KEY = 255
MAX_METADATA_KEYS = 38
_MAX_METADATA_KEY = 40
_MAX_METADATA_VALUE = 500
_MAX_DESCRIPTION = 1000
_KEY = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: safe in a header
# Stripe PaymentMethod ids, including its magic test ones ("pm_card_visa").
TOKEN_PREFIXES = ("pm_",)
_TOKEN = re.compile(r"pm_[A-Za-z0-9_]+")
_CVC = re.compile(r"[0-9]{3,4}")
# Card networks' transaction ids are short alphanumerics (Visa 15 digits, Mastercard 9-13
# characters); other gateways' ids reach here too, so only their shape is checked.
_MAX_NETWORK_TRANSACTION_ID = 100
EXPAND = ["latest_charge"]
# Stripe's `reason` is an enum; PayLoops' is free text, kept in metadata, and passed as the
# enum as well when it is one.
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


def key(value: str, field: str) -> str:
    required(value, field)
    if len(value) > MAX_KEY or not _KEY.fullmatch(value):
        raise invalid(
            f"{field.upper()}_INVALID",
            f"{field} must be 1-{MAX_KEY} printable ASCII characters without spaces",
        )
    return value


def reference(value: str, prefix: str, field: str = "processor_reference") -> str:
    required(value, field)
    if not value.startswith(prefix) or not _KEY.fullmatch(value):
        raise invalid(
            f"{field.upper()}_INVALID", f"{field} must be a Stripe id starting with {prefix!r}"
        )
    return value


def to_stripe(currency: StripeCurrency, amount: int) -> int:
    try:
        return currency.to_stripe(amount)
    except AmountError as error:
        raise invalid(error.reason, str(error)) from None


def currency_of(code: str) -> StripeCurrency:
    try:
        return stripe_currency(code)
    except AmountError as error:
        raise invalid(error.reason, str(error)) from None


def _metadata(request: pb.AuthorizeRequest) -> dict[str, str]:
    merchant = dict(sorted(request.metadata.items()))
    if len(merchant) > MAX_METADATA_KEYS:
        raise invalid(
            "METADATA_TOO_LARGE", f"at most {MAX_METADATA_KEYS} metadata keys can go to Stripe"
        )
    for name, value in merchant.items():
        if name.startswith(RESERVED_PREFIX):
            raise invalid(
                "METADATA_KEY_RESERVED",
                f"metadata keys starting with {RESERVED_PREFIX!r} are PayLoops' own",
            )
        if not name or len(name) > _MAX_METADATA_KEY or len(value) > _MAX_METADATA_VALUE:
            raise invalid(
                "METADATA_INVALID",
                f"Stripe takes metadata keys of 1-{_MAX_METADATA_KEY} characters and "
                f"values of up to {_MAX_METADATA_VALUE}",
            )
    ours = {
        ATTEMPT_KEY: request.attempt_key,
        ORDER_ID: request.order_id,
        MERCHANT_ID: request.merchant_id,
    }
    return {**merchant, **{k: v for k, v in ours.items() if v}}


def create_intent(request: pb.AuthorizeRequest) -> tuple[StripeCurrency, dict[str, Any]]:
    """PaymentIntent create-and-confirm parameters for an Authorize."""
    key(request.attempt_key, "attempt_key")
    positive(request.amount)
    currency = currency_of(request.currency)
    method = request.payment_method
    if method.type not in ("", "card"):
        raise invalid("PAYMENT_METHOD_UNSUPPORTED", "the Stripe adapter takes cards only")
    if len(request.description) > _MAX_DESCRIPTION:
        raise invalid("DESCRIPTION_TOO_LONG", f"at most {_MAX_DESCRIPTION} characters")
    params: dict[str, Any] = {
        "amount": to_stripe(currency, request.amount),
        "currency": currency.wire_code,
        "capture_method": (
            "manual" if request.capture_method == pb.CAPTURE_METHOD_MANUAL else "automatic"
        ),
        "confirm": True,
        **_payment_method(method),
        **_initiator(request),
        "metadata": _metadata(request),
        "expand": EXPAND,
    }
    if request.return_url:
        url = urlsplit(request.return_url)
        if url.scheme not in ("https", "http") or not url.netloc:
            raise invalid("RETURN_URL_INVALID", "return_url must be an absolute http(s) URL")
        params["return_url"] = request.return_url
    else:
        # Stripe's default (dashboard payment methods, redirects allowed) refuses a server-side
        # confirm without a return_url; cards alone need none.
        params["payment_method_types"] = ["card"]
    if request.description:
        params["description"] = request.description
    return currency, params


def _initiator(request: pb.AuthorizeRequest) -> dict[str, Any]:
    """A merchant-initiated payment is `off_session` (Stripe then never asks for 3-D Secure: a
    card that needs it declines with `authentication_required`), with the network transaction
    id of the card's first customer-present payment as the MIT exemption's reference."""
    if request.initiator != pb.INITIATOR_MERCHANT:
        return {}  # the contract's id belongs to merchant-initiated payments only
    network_id = request.network_transaction_id
    params: dict[str, Any] = {"off_session": True}
    if network_id:
        if len(network_id) > _MAX_NETWORK_TRANSACTION_ID or not _KEY.fullmatch(network_id):
            raise invalid(
                "NETWORK_TRANSACTION_ID_INVALID",
                f"network_transaction_id must be 1-{_MAX_NETWORK_TRANSACTION_ID} printable "
                "ASCII characters without spaces",
            )
        params["payment_method_options"] = {
            "card": {"mit_exemption": {"network_transaction_id": network_id}}
        }
    return params


def _payment_method(method: pb.PaymentMethod) -> dict[str, Any]:
    """A Stripe PaymentMethod id as `payment_method`, or raw card data as
    `payment_method_data` (Stripe makes the PaymentMethod as it confirms). No message here
    ever quotes card data."""
    if not method.HasField("raw_card"):
        if not _TOKEN.fullmatch(method.token):
            raise invalid(
                "PAYMENT_METHOD_INVALID",
                "payment_method.token must be a Stripe PaymentMethod id (pm_...)",
            )
        return {"payment_method": method.token}
    if method.token:
        raise invalid("PAYMENT_METHOD_AMBIGUOUS", "send a token or a raw card, not both")
    raw = method.raw_card
    if not raw.number.isascii() or not raw.number.isdigit() or not 12 <= len(raw.number) <= 19:
        raise invalid("CARD_NUMBER_INVALID", "raw_card.number must be 12 to 19 digits")
    if not 1 <= raw.exp_month <= 12 or not 1000 <= raw.exp_year <= 9999:
        raise invalid("CARD_EXPIRY_INVALID", "raw_card needs exp_month 1-12 and a 4-digit exp_year")
    card: dict[str, Any] = {
        "number": raw.number,
        "exp_month": raw.exp_month,
        "exp_year": raw.exp_year,
    }
    if raw.cvc:  # gone after the payment's first authorization
        if not _CVC.fullmatch(raw.cvc):
            raise invalid("CARD_CVC_INVALID", "raw_card.cvc must be 3 or 4 digits")
        card["cvc"] = raw.cvc
    data: dict[str, Any] = {"type": "card", "card": card}
    if raw.holder_name:
        data["billing_details"] = {"name": raw.holder_name}
    return {"payment_method_data": data}


def create_refund(
    refund_key: str, payment_reference: str, amount_stripe: int, reason: str
) -> dict[str, Any]:
    params: dict[str, Any] = {"payment_intent": payment_reference}
    if amount_stripe:
        params["amount"] = amount_stripe  # none: Stripe refunds what remains
    if reason in REFUND_REASONS:
        params["reason"] = reason
    metadata = {REFUND_KEY: refund_key}
    if reason:
        metadata[REFUND_REASON] = reason[:_MAX_METADATA_VALUE]
    params["metadata"] = metadata
    return params


def secret_key(credentials: pb.Credentials) -> str:
    """The secret key to call Stripe with. A call without one, or with a key of the wrong mode,
    is INVALID_ARGUMENT: the request is malformed and Stripe was never asked, while
    UNAUTHENTICATED is kept for keys Stripe itself rejected (processor.proto)."""
    value = credentials.values.get("secret_key", "")
    if not value:
        raise invalid("CREDENTIALS_MISSING", 'credentials.values["secret_key"] is required')
    live = value.startswith(("sk_live_", "rk_live_"))
    test = value.startswith(("sk_test_", "rk_test_"))
    if (credentials.livemode and test) or (not credentials.livemode and live):
        raise invalid(
            "CREDENTIALS_MODE_MISMATCH",
            "the secret key's mode (test/live) differs from the payment's",
        )
    return value
