"""Input checks for the public API. Each returns field violations with stable reasons; the
services raise them together so a merchant sees every problem at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlparse

from core import money, url_characters
from core.errors import FieldViolation
from payloops.v1 import orders_pb2

MAX_DESCRIPTION = 1000
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
MAX_URL = 2048
CARD_NETWORKS = frozenset(
    {"visa", "mastercard", "amex", "rupay", "discover", "jcb", "unionpay", "diners"}
)
CARD_FUNDING = frozenset({"credit", "debit", "prepaid"})
_TOKEN = re.compile(r"^pm_[A-Za-z0-9_]{1,96}$")
# A BIN (IIN) is 6 digits, 8 on newer cards. Never more: nine or more digits are well on the
# way to a card number, which must not reach us. ASCII only (str.isdigit takes any script).
_BIN = re.compile(r"[0-9]{6,8}")
# A card number as people write it: 13 to 19 digits in one run, or in groups of 4 to 6
# separated by single spaces or dashes ("4242 4242 4242 4242", "3782-822463-10005"). It starts
# with a digit cards start with (2-6 for the networks PayLoops routes, 81/82 for RuPay): epoch
# timestamps in ms or ns, which start with 1, would otherwise pass the Luhn check one time in
# ten. A run must not continue a longer digit group on either side; a grouped one must also
# not be glued to letters or dash-joined to them, or the digit groups inside UUIDs (the usual
# idempotency keys) would match now and then ("cfac5110-1489-4464-8396-…").
_CARD_START = r"(?:[2-6]\d|8[12])"
_CARD_RUN = re.compile(
    rf"(?<!\d)(?<!\d[ -]){_CARD_START}\d{{11,17}}(?!\d|[ -]\d)"
    rf"|(?<![A-Za-z0-9])(?<![A-Za-z0-9]-)(?<!\d ){_CARD_START}\d{{2,4}}(?:[ -]\d{{4,6}}){{2,4}}"
    r"(?![A-Za-z0-9]|-[A-Za-z0-9]| \d)"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """True if the text holds a Luhn-valid run of 13-19 digits: a raw PAN must never be stored
    or logged, wherever in the request it hides."""
    for match in _CARD_RUN.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def _card_numbers(fields: Iterable[tuple[str, str]]) -> Iterator[FieldViolation]:
    for field, text in fields:
        if looks_like_card_number(text):
            yield FieldViolation(
                field,
                "CARD_NUMBER_NOT_ALLOWED",
                "looks like a card number; send a payment method token instead",
            )


# Request headers the platform reads and logs or stores (Authorization is a key, never logged).
SCANNED_HEADERS = ("idempotency-key", "x-correlation-id")


def header_violations(metadata: Iterable[tuple[str, str | bytes]]) -> list[FieldViolation]:
    """A card number in a header we keep would reach logs and the database like any other."""
    return list(
        _card_numbers(
            (f"header:{key}", value)
            for key, value in metadata
            if key in SCANNED_HEADERS and isinstance(value, str)
        )
    )


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
    if len(order.metadata) > MAX_METADATA_KEYS:
        found.append(
            FieldViolation(
                "metadata", "METADATA_TOO_MANY_KEYS", f"must have at most {MAX_METADATA_KEYS} keys"
            )
        )
    for key, value in order.metadata.items():
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
    found += _card_numbers(
        [("description", order.description), ("return_url", order.return_url)]
        + [(f"metadata.{k}", k) for k in order.metadata]
        + [(f"metadata.{k}", v) for k, v in order.metadata.items()]
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
    if not _TOKEN.match(method.token):
        found.append(
            FieldViolation(
                "payment_method.token",
                "PAYMENT_METHOD_TOKEN_INVALID",
                'must be a payment method token such as "pm_card_visa"',
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
    # A BIN is too short to be taken for a card number; a whole one sent as `bin` is both.
    found += _card_numbers(
        [
            ("payment_method.token", method.token),
            ("payment_method.type", method.type),
            ("payment_method.card.bin", card.bin),
        ]
    )
    return found
