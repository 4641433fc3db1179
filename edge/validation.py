"""Input checks for the public API. Each returns field violations with stable reasons; the
services raise them together so a merchant sees every problem at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlparse

from core import money, url_characters
from core.card_numbers import looks_like_card_number
from core.errors import FieldViolation
from core.payment_method_tokens import TOKEN_RULE_TEXT, follows_token_rule
from payloops.v1 import customers_pb2, orders_pb2

MAX_DESCRIPTION = 1000
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
MAX_URL = 2048
MAX_EMAIL = 254
MAX_NAME = 200
# One @, something either side, no spaces or control characters: deliverability is the
# merchant's to check.
_EMAIL = re.compile(r"[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+")
CARD_NETWORKS = frozenset(
    {"visa", "mastercard", "amex", "rupay", "discover", "jcb", "unionpay", "diners"}
)
CARD_FUNDING = frozenset({"credit", "debit", "prepaid"})
# A BIN (IIN) is 6 digits, 8 on newer cards. Never more: nine or more digits are well on the
# way to a card number, which must not reach us. ASCII only (str.isdigit takes any script).
_BIN = re.compile(r"[0-9]{6,8}")


# Request headers the platform reads and logs or stores (Authorization is a key, never logged).
SCANNED_HEADERS = ("idempotency-key", "x-correlation-id")


def header_violations(metadata: Iterable[tuple[str, str | bytes]]) -> list[FieldViolation]:
    """A card number in a header we keep would reach logs and the database like any other.
    (Every field of the request message itself is checked by edge.request_checks.)"""
    return [
        FieldViolation(
            f"header:{key}",
            "CARD_NUMBER_NOT_ALLOWED",
            "looks like a card number; send a payment method token instead",
        )
        for key, value in metadata
        if key in SCANNED_HEADERS and isinstance(value, str) and looks_like_card_number(value)
    ]


def order_violations(order: orders_pb2.Order) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    currency = order.currency.upper()
    if not order.currency:
        found.append(FieldViolation("currency", "CURRENCY_REQUIRED", "is required"))
    elif not money.is_currency(currency):
        found.append(
            FieldViolation(
                "currency",
                "CURRENCY_UNKNOWN",
                f"{order.currency!r} is not an ISO 4217 currency code",
            )
        )
    if order.amount <= 0:
        found.append(
            FieldViolation(
                "amount", "AMOUNT_NOT_POSITIVE", "must be a positive number of minor units"
            )
        )
    elif money.is_currency(currency) and order.amount > money.max_amount(currency):
        found.append(
            FieldViolation(
                "amount",
                "AMOUNT_TOO_LARGE",
                f"must be at most {money.max_amount(currency)} for {currency}",
            )
        )
    if len(order.description) > MAX_DESCRIPTION:
        found.append(
            FieldViolation(
                "description",
                "DESCRIPTION_TOO_LONG",
                f"must be at most {MAX_DESCRIPTION} characters",
            )
        )
    found += metadata_violations(order.metadata)
    if url_characters.has_forbidden_characters(order.return_url):
        # Checked first: urlparse drops CR, LF and tab silently, and the sandbox's 3-D Secure
        # page puts this URL in a Location header.
        found.append(
            FieldViolation("return_url", "URL_CONTROL_CHARACTER", url_characters.DESCRIPTION)
        )
    elif order.return_url:
        parsed = urlparse(order.return_url)
        if (
            parsed.scheme not in ("http", "https")
            or not parsed.netloc
            or len(order.return_url) > MAX_URL
        ):
            found.append(
                FieldViolation(
                    "return_url", "RETURN_URL_INVALID", "must be an absolute http or https URL"
                )
            )
    return found


def payment_method_violations(method: orders_pb2.PaymentMethod) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if method.type.lower() != "card":
        found.append(
            FieldViolation(
                "payment_method.type", "PAYMENT_METHOD_TYPE_UNSUPPORTED", 'must be "card"'
            )
        )
    if not follows_token_rule(method.token):
        found.append(
            FieldViolation(
                "payment_method.token",
                "PAYMENT_METHOD_TOKEN_INVALID",
                f'must be a payment method token such as "pm_card_visa": {TOKEN_RULE_TEXT}',
            )
        )
    card = method.card
    if card.network and card.network.lower() not in CARD_NETWORKS:
        found.append(
            FieldViolation(
                "payment_method.card.network",
                "CARD_NETWORK_UNKNOWN",
                f"must be one of {', '.join(sorted(CARD_NETWORKS))}",
            )
        )
    if card.funding and card.funding.lower() not in CARD_FUNDING:
        found.append(
            FieldViolation(
                "payment_method.card.funding",
                "CARD_FUNDING_UNKNOWN",
                "must be credit, debit or prepaid",
            )
        )
    if card.country and not re.fullmatch(r"[A-Za-z]{2}", card.country):
        found.append(
            FieldViolation(
                "payment_method.card.country",
                "CARD_COUNTRY_INVALID",
                "must be an ISO 3166-1 alpha-2 code",
            )
        )
    if card.bin and not _BIN.fullmatch(card.bin):
        found.append(
            FieldViolation(
                "payment_method.card.bin",
                "CARD_BIN_INVALID",
                "must be the first 6 to 8 digits of the card number",
            )
        )
    return found


def metadata_violations(metadata: Mapping[str, str]) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if len(metadata) > MAX_METADATA_KEYS:
        found.append(
            FieldViolation(
                "metadata", "METADATA_TOO_MANY_KEYS", f"must have at most {MAX_METADATA_KEYS} keys"
            )
        )
    for key, value in metadata.items():
        if not key or len(key) > MAX_METADATA_KEY:
            found.append(
                FieldViolation(
                    f"metadata.{key}",
                    "METADATA_KEY_INVALID",
                    f"keys must be 1-{MAX_METADATA_KEY} characters",
                )
            )
        if len(value) > MAX_METADATA_VALUE:
            found.append(
                FieldViolation(
                    f"metadata.{key}",
                    "METADATA_VALUE_TOO_LONG",
                    f"values must be at most {MAX_METADATA_VALUE} characters",
                )
            )
    return found


def customer_violations(
    customer: customers_pb2.Customer, paths: Iterable[str]
) -> list[FieldViolation]:
    """The customer's fields named in `paths` (every one, for a new customer)."""
    wanted = set(paths)
    found: list[FieldViolation] = []
    for name, value, limit in (
        ("email", customer.email, MAX_EMAIL),
        ("name", customer.name, MAX_NAME),
        ("description", customer.description, MAX_DESCRIPTION),
    ):
        if name in wanted and len(value) > limit:
            found.append(
                FieldViolation(
                    name, f"{name.upper()}_TOO_LONG", f"must be at most {limit} characters"
                )
            )
    if "email" in wanted and customer.email and not _EMAIL.fullmatch(customer.email):
        found.append(FieldViolation("email", "EMAIL_INVALID", "must be an e-mail address"))
    if "metadata" in wanted:
        found += metadata_violations(customer.metadata)
    return found


# The longest thing a search can match: a processor reference.
MAX_QUERY = 255
MAX_FAILURE_CODE = 64


def list_orders_violations(request: orders_pb2.ListOrdersRequest) -> list[FieldViolation]:
    """ListOrders' filters that cannot mean anything: an amount bound without the currency it
    is counted in, a range that is empty by construction, a value past what is ever stored."""
    found: list[FieldViolation] = []
    if request.metadata_value and not request.metadata_key:
        found.append(
            FieldViolation("metadata_value", "METADATA_KEY_REQUIRED", "give metadata_key with it")
        )
    for name, bound in (("amount_min", request.amount_min), ("amount_max", request.amount_max)):
        if bound < 0:
            found.append(FieldViolation(name, "AMOUNT_NEGATIVE", "must not be negative"))
        elif bound and not request.currency:
            found.append(
                FieldViolation(
                    name,
                    "CURRENCY_REQUIRED_FOR_AMOUNT",
                    "amounts are in minor units of one currency: give currency with it",
                )
            )
    if 0 < request.amount_max < request.amount_min:
        found.append(
            FieldViolation("amount_max", "AMOUNT_RANGE_EMPTY", "must not be less than amount_min")
        )
    for name, value, limit in (
        ("failure_code", request.failure_code, MAX_FAILURE_CODE),
        ("query", request.query, MAX_QUERY),
    ):
        if len(value) > limit:
            found.append(
                FieldViolation(
                    name, f"{name.upper()}_TOO_LONG", f"must be at most {limit} characters"
                )
            )
    return found
