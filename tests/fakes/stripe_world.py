"""The state and rules behind the fake Stripe API (stripe_api.py serves it over HTTP).

PaymentIntents, their Charges and Refunds, per account, with Stripe's state rules, its magic test
PaymentMethods and its currency rules (docs/gateways.md, Stripe; kept here independently of the
adapter's tables so the two can disagree and a test notices), a subset of the search query
language, and the events a change emits.

Every method takes and returns JSON-shaped dicts, raises StripeHTTPError for an error response,
and runs under one lock (the HTTP server is threaded).
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

API_VERSION = "2026-10-28.endive"
DOC_URL = "https://docs.stripe.com/error-codes/"


class StripeHTTPError(Exception):
    """An error response. `stored`: Stripe keeps it under the idempotency key (the endpoint
    ran); parameter validation failures are not stored (docs.stripe.com/idempotency)."""

    def __init__(self, status: int, error: dict[str, Any], *, stored: bool = False) -> None:
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error
        self.stored = stored


def invalid_request(
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    status: int = 400,
    stored: bool = False,
) -> StripeHTTPError:
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = DOC_URL + code.replace("_", "-")
    if param:
        error["param"] = param
    return StripeHTTPError(status, error, stored=stored)


def _unexpected_state(intent: Intent, action: str, allowed: Iterable[str]) -> StripeHTTPError:
    return invalid_request(
        f"This PaymentIntent's {action} could not be performed because it has a status of "
        f"{intent.status}. Only a PaymentIntent with one of the following statuses may be "
        f"used: {', '.join(allowed)}.",
        code="payment_intent_unexpected_state",
        stored=True,
    )


_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


# -- currencies (docs.stripe.com/currencies, 2026-11) -----------------------------------------

ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
SUPPORTED = (
    ZERO_DECIMAL
    | THREE_DECIMAL
    | frozenset(
        {
            "usd",
            "eur",
            "gbp",
            "aud",
            "cad",
            "chf",
            "dkk",
            "nok",
            "sek",
            "nzd",
            "sgd",
            "hkd",
            "mxn",
            "brl",
            "inr",
            "isk",
            "huf",
            "twd",
            "czk",
            "pln",
            "ron",
            "bgn",
            "aed",
            "myr",
            "thb",
            "zar",
            "ils",
            "try",
            "php",
            "idr",
            "egp",
            "ngn",
            "kes",
            "pkr",
            "lkr",
            "cop",
            "pen",
            "ars",
            "uah",
        }
    )
)
# Minimum charge amounts in Stripe units.
MINIMUMS = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "aud": 50,
    "cad": 50,
    "chf": 50,
    "nzd": 50,
    "sgd": 50,
    "brl": 50,
    "inr": 50,
    "dkk": 250,
    "nok": 300,
    "sek": 300,
    "hkd": 400,
    "mxn": 1000,
    "jpy": 50,
    "czk": 1500,
    "huf": 17500,
}
MAXIMUM = 99_999_999


def _check_amount(amount: int, currency: str, param: str = "amount") -> None:
    if currency in THREE_DECIMAL and amount % 10:
        raise invalid_request(
            f"Amounts in {currency} must be multiples of 10: the last digit of a three-decimal "
            "currency amount has to be 0.",
            param=param,
            code="invalid_charge_amount",
        )
    if currency == "isk" and amount % 100:
        raise invalid_request(
            "ISK amounts must be divisible by 100 (ISK has no minor unit in practice).",
            param=param,
            code="invalid_charge_amount_no_decimal_compatible",
        )
    if amount < MINIMUMS.get(currency, 1):
        raise invalid_request(
            f"Amount must be at least {MINIMUMS.get(currency, 1)} {currency} (minor units).",
            param=param,
            code="amount_too_small",
        )
    if amount > MAXIMUM:
        raise invalid_request(
            "Amount must be no more than 99999999 (minor units).",
            param=param,
            code="amount_too_large",
        )


# -- magic test PaymentMethods ----------------------------------------------------------------


class Behaviour(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    CHALLENGE = "challenge"  # 3DS, then succeeds
    CHALLENGE_THEN_DECLINE = "challenge_then_decline"


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"


@dataclass(frozen=True)
class Magic:
    behaviour: Behaviour
    card: Card
    code: str = ""  # error code of the decline
    decline_code: str = ""
    message: str = ""
    refund: str = ""  # "pending": refunds stay pending; "fail": refunds fail later


_VISA = Card("visa", "4242")
_DECLINED = "Your card was declined."


def _decline(
    code: str, decline_code: str = "", message: str = _DECLINED, last4: str = "0002"
) -> Magic:
    return Magic(Behaviour.DECLINE, Card("visa", last4), code, decline_code, message)


MAGIC: dict[str, Magic] = {
    "pm_card_visa": Magic(Behaviour.SUCCEED, _VISA),
    "pm_card_visa_debit": Magic(Behaviour.SUCCEED, Card("visa", "5556", "debit")),
    "pm_card_mastercard": Magic(Behaviour.SUCCEED, Card("mastercard", "4444")),
    "pm_card_mastercard_debit": Magic(Behaviour.SUCCEED, Card("mastercard", "8210", "debit")),
    "pm_card_mastercard_prepaid": Magic(Behaviour.SUCCEED, Card("mastercard", "5100", "prepaid")),
    "pm_card_amex": Magic(Behaviour.SUCCEED, Card("amex", "8431")),
    "pm_card_discover": Magic(Behaviour.SUCCEED, Card("discover", "1117")),
    "pm_card_diners": Magic(Behaviour.SUCCEED, Card("diners", "0004")),
    "pm_card_jcb": Magic(Behaviour.SUCCEED, Card("jcb", "0000", country="JP")),
    "pm_card_unionpay": Magic(Behaviour.SUCCEED, Card("unionpay", "0005", country="CN")),
    "pm_card_in": Magic(Behaviour.SUCCEED, Card("visa", "0003", country="IN")),
    "pm_card_jp": Magic(Behaviour.SUCCEED, Card("visa", "0003", country="JP")),
    "pm_card_threeDSecureOptional": Magic(Behaviour.SUCCEED, Card("visa", "3055")),
    "pm_card_pendingRefund": Magic(Behaviour.SUCCEED, Card("visa", "7726"), refund="pending"),
    "pm_card_refundFail": Magic(Behaviour.SUCCEED, Card("visa", "5126"), refund="fail"),
    "pm_card_threeDSecure2Required": Magic(Behaviour.CHALLENGE, Card("visa", "3220")),
    "pm_card_threeDSecureRequired": Magic(Behaviour.CHALLENGE, Card("visa", "3063")),
    "pm_card_authenticationRequired": Magic(Behaviour.CHALLENGE, Card("visa", "3184")),
    "pm_card_threeDSecureRequiredChargeDeclined": Magic(
        Behaviour.CHALLENGE_THEN_DECLINE,
        Card("visa", "1629"),
        "card_declined",
        "generic_decline",
        _DECLINED,
    ),
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds": Magic(
        Behaviour.CHALLENGE_THEN_DECLINE,
        Card("visa", "9235"),
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}
for _prefix in ("pm_card_visa_", "pm_card_"):  # both spellings are in use
    MAGIC |= {
        _prefix + "chargeDeclined": _decline("card_declined", "generic_decline"),
        _prefix + "chargeDeclinedInsufficientFunds": _decline(
            "card_declined", "insufficient_funds", "Your card has insufficient funds.", "9995"
        ),
        _prefix + "chargeDeclinedLostCard": _decline("card_declined", "lost_card", last4="9987"),
        _prefix + "chargeDeclinedStolenCard": _decline(
            "card_declined", "stolen_card", last4="9979"
        ),
        _prefix + "chargeDeclinedFraudulent": _decline("card_declined", "fraudulent", last4="0019"),
        _prefix + "chargeDeclinedVelocityLimitExceeded": _decline(
            "card_declined", "card_velocity_exceeded", last4="6975"
        ),
    }
MAGIC |= {
    "pm_card_chargeDeclinedExpiredCard": _decline(
        "expired_card", "", "Your card has expired.", "0069"
    ),
    "pm_card_chargeDeclinedIncorrectCvc": _decline(
        "incorrect_cvc", "", "Your card's security code is incorrect.", "0127"
    ),
    "pm_card_chargeDeclinedProcessingError": _decline(
        "processing_error",
        "",
        "An error occurred while processing your card. Try again in a little bit.",
        "0119",
    ),
}

# Stripe's test card numbers (docs.stripe.com/testing), as `payment_method_data[card]` takes
# them, and the magic PaymentMethod each behaves as. Anything else is an incorrect number.
RAW_CARDS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "378282246310005": "pm_card_amex",
    "371449635398431": "pm_card_amex",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000000000000119": "pm_card_chargeDeclinedProcessingError",
    "4000000000003220": "pm_card_threeDSecure2Required",
    "4000008400001629": "pm_card_threeDSecureRequiredChargeDeclined",
}
_CARD_FIELDS = frozenset({"number", "exp_month", "exp_year", "cvc"})


def _raw_card(data: Any) -> str:
    """The magic PaymentMethod a `payment_method_data` card behaves as, checked as Stripe
    checks it. No error quotes the number."""
    if not isinstance(data, dict) or data.get("type") != "card":
        raise invalid_request(
            "payment_method_data[type] must be card here.", param="payment_method_data[type]"
        )
    _only(data, ("type", "card", "billing_details"))
    card = data.get("card")
    if not isinstance(card, dict) or not {"number", "exp_month", "exp_year"} <= set(card):
        raise invalid_request(
            "Missing required param: payment_method_data[card].",
            param="payment_method_data[card]",
            code="parameter_missing",
        )
    _only(card, _CARD_FIELDS)
    magic = RAW_CARDS.get(str(card["number"]))
    if magic is None:
        raise invalid_request(
            "Your card number is incorrect.",
            param="payment_method_data[card][number]",
            code="incorrect_number",
        )
    month = _int(card, "exp_month", required=True)
    year = _int(card, "exp_year", required=True)
    if month is None or not 1 <= month <= 12 or year is None or year < 2000:
        raise invalid_request(
            "Your card's expiration date is invalid.",
            param="payment_method_data[card][exp_month]",
            code="invalid_expiry_month",
        )
    cvc = card.get("cvc")
    if cvc is not None and not re.fullmatch(r"[0-9]{3,4}", str(cvc)):
        raise invalid_request(
            "Your card's security code is invalid.",
            param="payment_method_data[card][cvc]",
            code="invalid_cvc",
        )
    billing = data.get("billing_details", {})
    if not isinstance(billing, dict):
        raise invalid_request("Invalid hash", param="payment_method_data[billing_details]")
    _only(billing, ("name",))
    return magic


# -- objects -----------------------------------------------------------------------------------


@dataclass
class Charge:
    id: str
    intent_id: str
    amount: int
    currency: str
    card: Card
    metadata: dict[str, str]
    created: int
    status: str = "succeeded"  # succeeded | failed
    captured: bool = False
    amount_captured: int = 0
    amount_refunded: int = 0  # includes what a partial capture released, like Stripe's
    released: int = 0
    failure_code: str | None = None
    failure_message: str | None = None
    # Given by the network when it authorized the charge (a declined one has none).
    network_transaction_id: str | None = None

    def refundable(self) -> int:
        return self.amount_captured - (self.amount_refunded - self.released)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "captured": self.captured,
            "created": self.created,
            "currency": self.currency,
            "failure_code": self.failure_code,
            "failure_message": self.failure_message,
            "livemode": False,
            "metadata": dict(self.metadata),
            "paid": self.status == "succeeded",
            "payment_intent": self.intent_id,
            "refunded": self.captured and self.refundable() == 0,
            "status": self.status,
            "outcome": {"type": "authorized" if self.status == "succeeded" else "issuer_declined"},
            "payment_method_details": {
                "type": "card",
                "card": {
                    "brand": self.card.brand,
                    "last4": self.card.last4,
                    "funding": self.card.funding,
                    "country": self.card.country,
                    "exp_month": 12,
                    "exp_year": 2034,
                    "network_transaction_id": self.network_transaction_id,
                },
            },
        }


@dataclass
class Intent:
    id: str
    account: str
    seq: int
    created: int
    amount: int
    currency: str
    capture_method: str
    metadata: dict[str, str]
    payment_method: str | None
    return_url: str | None
    description: str | None
    payment_method_types: list[str]
    automatic_payment_methods: dict[str, Any] | None
    status: str = "requires_payment_method"
    amount_capturable: int = 0
    amount_received: int = 0
    last_payment_error: dict[str, Any] | None = None
    next_action: dict[str, Any] | None = None
    charge_id: str | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    # How it was confirmed: off-session (merchant-initiated), and the network transaction id
    # of the card's first customer-present payment that came along as the MIT exemption's.
    off_session: bool = False
    mit_network_transaction_id: str | None = None
    # (monotonic time, metadata) versions, for a search index that lags behind.
    metadata_versions: list[tuple[float, dict[str, str]]] = field(default_factory=list)
    created_monotonic: float = field(default_factory=time.monotonic)

    @property
    def client_secret(self) -> str:
        return f"{self.id}_secret_{self.id[3:15]}"


@dataclass
class Refund:
    id: str
    account: str
    seq: int
    created: int
    intent_id: str
    charge_id: str
    amount: int
    currency: str
    status: str
    reason: str | None
    metadata: dict[str, str]
    failure_reason: str | None = None
    settles_to: str | None = None  # what settle_refunds() makes of it

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "charge": self.charge_id,
            "created": self.created,
            "currency": self.currency,
            "metadata": dict(self.metadata),
            "payment_intent": self.intent_id,
            "reason": self.reason,
            "status": self.status,
            "failure_reason": self.failure_reason,
        }


# -- forms ---------------------------------------------------------------------------------------


def _int(form: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    value = form.get(name)
    if value is None:
        if required:
            raise invalid_request(
                f"Missing required param: {name}.", param=name, code="parameter_missing"
            )
        return None
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise invalid_request(
            "Invalid integer: " + str(value), param=name, code="parameter_invalid_integer"
        )
    return int(value)


def _bool(form: Mapping[str, Any], name: str) -> bool:
    value = form.get(name, "false")
    if value not in ("true", "false"):
        raise invalid_request(
            f"Invalid boolean: {value}", param=name, code="parameter_invalid_boolean"
        )
    return bool(value == "true")


def _metadata(form: Mapping[str, Any]) -> dict[str, str]:
    metadata = form.get("metadata", {})
    if metadata == "":
        return {}
    if not isinstance(metadata, dict):
        raise invalid_request("Invalid metadata: must be a hash", param="metadata")
    for key, value in metadata.items():
        if not isinstance(value, str) or len(key) > 40 or len(value) > 500:
            raise invalid_request(
                "Metadata keys must be at most 40 characters and values at most 500 characters.",
                param=f"metadata[{key}]",
            )
    return dict(metadata)


def _merge_metadata(current: dict[str, str], update: Mapping[str, str]) -> dict[str, str]:
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)  # Stripe: an empty value unsets the key
        else:
            merged[key] = value
    if len(merged) > 50:
        raise invalid_request("You can specify up to 50 keys in metadata.", param="metadata")
    return merged


def _only(form: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Stripe rejects parameters it does not know: so does the fake, catching typos."""
    allowed = set(allowed)
    for name in form:
        if name not in allowed:
            raise invalid_request(f"Received unknown parameter: {name}", param=name)


_CHALLENGES = (Behaviour.CHALLENGE, Behaviour.CHALLENGE_THEN_DECLINE)


def _off_session(form: Mapping[str, Any], confirm: bool) -> bool:
    """Stripe takes true/false, or the kind of off-session use, and only with confirm=true."""
    value = form.get("off_session")
    if value is None:
        return False
    if value not in ("true", "false", "one_off", "recurring"):
        raise invalid_request(f"Invalid off_session: {value}", param="off_session")
    if not confirm:
        raise invalid_request(
            "You may only specify off_session when confirm=true.", param="off_session"
        )
    return value != "false"


def _mit_exemption(form: Mapping[str, Any], off_session: bool) -> str | None:
    """payment_method_options[card][mit_exemption][network_transaction_id]: the only option
    the fake knows, refused in any other shape, and only on an off-session payment."""
    options = form.get("payment_method_options")
    if options is None:
        return None
    param = "payment_method_options"
    if not isinstance(options, dict):
        raise invalid_request("Invalid hash", param=param)
    _only(options, ("card",))
    card = options.get("card")
    if not isinstance(card, dict):
        raise invalid_request("Invalid hash", param=f"{param}[card]")
    _only(card, ("mit_exemption",))
    exemption = card.get("mit_exemption")
    if not isinstance(exemption, dict):
        raise invalid_request("Invalid hash", param=f"{param}[card][mit_exemption]")
    _only(exemption, ("network_transaction_id",))
    network_id = exemption.get("network_transaction_id")
    field = f"{param}[card][mit_exemption][network_transaction_id]"
    if not isinstance(network_id, str) or not network_id:
        raise invalid_request(
            f"Missing required param: {field}.", param=field, code="parameter_missing"
        )
    if not off_session:
        raise invalid_request(
            "An MIT exemption can only be used for an off-session payment.", param=field
        )
    return network_id


def _expand(form: Mapping[str, Any], prefix: str = "") -> bool:
    """Whether latest_charge is to be expanded; anything else is refused."""
    wanted = form.get("expand") or []
    if not isinstance(wanted, list):
        raise invalid_request("Invalid array", param="expand")
    for item in wanted:
        if item != prefix + "latest_charge":
            raise invalid_request(f"This property cannot be expanded ({item}).", param="expand")
    return bool(wanted)


# -- search ----------------------------------------------------------------------------------------

_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?(?P<field>metadata\[(?P<q>['"])(?P<mkey>(?:\\.|(?!(?P=q)).)*)(?P=q)\]"""
    r"""|[a-z_]+)\s*(?P<op>:|>=|<=|>|<)\s*(?:(?P<vq>['"])(?P<val>(?:\\.|(?!(?P=vq)).)*)(?P=vq)"""
    r"""|(?P<num>-?\d+))\s*"""
)
_CONNECTIVE = re.compile(r"\s*(AND|OR)\s+")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@dataclass(frozen=True)
class _Clause:
    negated: bool
    field: str
    metadata_key: str | None
    op: str
    value: str


def parse_query(query: str) -> tuple[str, list[_Clause]]:
    """Stripe's search query language, the part PaymentIntent lookups use: `field:'value'`,
    `metadata['key']:'value'`, numeric comparisons, `-` negation, joined by AND or OR (not
    both)."""
    clauses: list[_Clause] = []
    connectives: set[str] = set()
    position = 0
    while True:
        match = _CLAUSE.match(query, position)
        if match is None:
            raise invalid_request(
                f"Invalid search query at position {position}: {query!r}", param="query"
            )
        value = match["num"] if match["num"] is not None else _unescape(match["val"])
        metadata_key = _unescape(match["mkey"]) if match["mkey"] is not None else None
        name = "metadata" if metadata_key is not None else match["field"]
        clauses.append(_Clause(bool(match["neg"]), name, metadata_key, match["op"], value))
        position = match.end()
        if position == len(query):
            break
        connective = _CONNECTIVE.match(query, position)
        if connective is None:
            raise invalid_request(
                f"Invalid search query at position {position}: {query!r}", param="query"
            )
        connectives.add(connective[1])
        position = connective.end()
    if len(connectives) > 1:
        raise invalid_request("Search queries cannot mix AND and OR.", param="query")
    return (connectives.pop() if connectives else "AND"), clauses


_SEARCH_FIELDS = {"metadata", "status", "currency", "amount", "created"}


# -- the world ------------------------------------------------------------------------------------

EventSink = Callable[[str, dict[str, Any]], None]


class StripeWorld:
    def __init__(self, emit: EventSink, page_base: Callable[[], str]) -> None:
        self._lock = threading.RLock()
        self._emit = emit
        self._page_base = page_base
        self._seq = 0
        self.intents: dict[str, Intent] = {}
        self.charges: dict[str, Charge] = {}
        self.refunds: dict[str, Refund] = {}
        self.search_lag_s = 0.0
        # PaymentMethods made from raw card data, and the magic one each behaves as. The
        # number itself is never kept.
        self.card_methods: dict[str, str] = {}

    def magic(self, payment_method: str | None) -> Magic:
        name = payment_method or "pm_card_visa"
        return MAGIC[self.card_methods.get(name, name)]

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # -- serialization ----------------------------------------------------------------

    def intent_json(self, intent: Intent, expand: bool = False) -> dict[str, Any]:
        charge: Any = intent.charge_id
        if expand and intent.charge_id:
            charge = self.charges[intent.charge_id].to_json()
        return {
            "id": intent.id,
            "object": "payment_intent",
            "amount": intent.amount,
            "amount_capturable": intent.amount_capturable,
            "amount_received": intent.amount_received,
            "automatic_payment_methods": intent.automatic_payment_methods,
            "canceled_at": intent.canceled_at,
            "cancellation_reason": intent.cancellation_reason,
            "capture_method": intent.capture_method,
            "client_secret": intent.client_secret,
            "confirmation_method": "automatic",
            "created": intent.created,
            "currency": intent.currency,
            "description": intent.description,
            "last_payment_error": intent.last_payment_error,
            "latest_charge": charge,
            "livemode": False,
            "metadata": dict(intent.metadata),
            "next_action": intent.next_action,
            "payment_method": intent.payment_method,
            "payment_method_types": list(intent.payment_method_types),
            "status": intent.status,
        }

    def _event(self, kind: str, intent: Intent) -> None:
        self._emit(kind, self.intent_json(intent))

    def _intent(self, account: str, intent_id: str) -> Intent:
        intent = self.intents.get(intent_id)
        if intent is None or intent.account != account:
            raise invalid_request(
                f"No such payment_intent: '{intent_id}'",
                param="intent",
                code="resource_missing",
                status=404,
            )
        return intent

    # -- PaymentIntents -----------------------------------------------------------------

    def create_intent(self, account: str, form: Mapping[str, Any]) -> dict[str, Any]:
        _only(
            form,
            (
                "amount",
                "currency",
                "capture_method",
                "confirm",
                "payment_method",
                "payment_method_data",
                "return_url",
                "metadata",
                "description",
                "payment_method_types",
                "automatic_payment_methods",
                "expand",
                "off_session",
                "payment_method_options",
            ),
        )
        with self._lock:
            amount = _int(form, "amount", required=True)
            assert amount is not None
            currency = form.get("currency")
            if not currency:
                raise invalid_request(
                    "Missing required param: currency.", param="currency", code="parameter_missing"
                )
            if currency not in SUPPORTED:
                raise invalid_request(f"Invalid currency: {currency}.", param="currency")
            _check_amount(amount, currency)
            capture_method = form.get("capture_method", "automatic_async")
            if capture_method not in ("automatic", "automatic_async", "manual"):
                raise invalid_request(
                    f"Invalid capture_method: {capture_method}", param="capture_method"
                )
            types = form.get("payment_method_types") or []
            apm = form.get("automatic_payment_methods")
            expand = _expand(form)
            confirm = _bool(form, "confirm")
            off_session = _off_session(form, confirm)
            mit_network_transaction_id = _mit_exemption(form, off_session)
            payment_method = form.get("payment_method")
            if "payment_method_data" in form:
                if payment_method is not None:
                    raise invalid_request(
                        "You cannot pass both payment_method and payment_method_data.",
                        param="payment_method_data",
                    )
                payment_method = new_id("pm")
                self.card_methods[payment_method] = _raw_card(form["payment_method_data"])
            elif payment_method is not None and payment_method not in MAGIC:
                raise invalid_request(
                    f"No such PaymentMethod: '{payment_method}'",
                    param="payment_method",
                    code="resource_missing",
                )
            if confirm and not payment_method:
                raise invalid_request(
                    "You must provide a payment_method to confirm.",
                    param="payment_method",
                    code="parameter_missing",
                )
            redirects_off = isinstance(apm, dict) and apm.get("allow_redirects") == "never"
            if confirm and not form.get("return_url") and not types and not redirects_off:
                raise invalid_request(
                    "This PaymentIntent is configured to accept payment methods enabled in "
                    "your Dashboard, some of which may require a full page redirect to "
                    "succeed. If you want to accept redirect-based payment methods, set "
                    "`return_url` when confirming this PaymentIntent; otherwise set "
                    "`automatic_payment_methods[enabled]` to `true` and "
                    "`automatic_payment_methods[allow_redirects]` to `never`."
                )
            intent = Intent(
                id=new_id("pi"),
                account=account,
                seq=self._next(),
                created=int(time.time()),
                amount=amount,
                currency=currency,
                capture_method=capture_method,
                metadata=_merge_metadata({}, _metadata(form)),
                payment_method=payment_method,
                return_url=form.get("return_url"),
                description=form.get("description"),
                payment_method_types=list(types) or ["card"],
                automatic_payment_methods=_automatic_methods(types, apm),
                off_session=off_session,
                mit_network_transaction_id=mit_network_transaction_id,
            )
            intent.status = "requires_confirmation" if payment_method else "requires_payment_method"
            intent.metadata_versions.append((time.monotonic(), dict(intent.metadata)))
            self.intents[intent.id] = intent
            self._event("payment_intent.created", intent)
            if confirm:
                self._confirm(intent)
            return self.intent_json(intent, expand)

    def _confirm(self, intent: Intent) -> None:
        assert intent.payment_method is not None
        magic = self.magic(intent.payment_method)
        intent.last_payment_error = None
        if intent.off_session and magic.behaviour in _CHALLENGES:
            # Nobody is there to authenticate: Stripe declines instead of asking.
            magic = Magic(
                Behaviour.DECLINE,
                magic.card,
                "authentication_required",
                "authentication_required",
                "Your card was declined. This transaction requires authentication.",
            )
        match magic.behaviour:
            case Behaviour.SUCCEED:
                self._authorize(intent, magic)
            case Behaviour.DECLINE:
                self._decline(intent, magic)
                raise self._card_error(intent)
            case Behaviour.CHALLENGE | Behaviour.CHALLENGE_THEN_DECLINE:
                intent.status = "requires_action"
                if intent.return_url:
                    intent.next_action = {
                        "type": "redirect_to_url",
                        "redirect_to_url": {
                            "url": f"{self._page_base()}/_fake/3ds/{intent.id}",
                            "return_url": intent.return_url,
                        },
                    }
                else:
                    intent.next_action = {
                        "type": "use_stripe_sdk",
                        "use_stripe_sdk": {
                            "type": "three_d_secure_redirect",
                            "stripe_js": f"{self._page_base()}/_fake/3ds/{intent.id}",
                        },
                    }
                self._event("payment_intent.requires_action", intent)

    def _new_charge(self, intent: Intent, magic: Magic, status: str) -> Charge:
        charge = Charge(
            id=new_id("ch"),
            intent_id=intent.id,
            amount=intent.amount,
            currency=intent.currency,
            card=magic.card,
            metadata=dict(intent.metadata),
            created=int(time.time()),
            status=status,
        )
        self.charges[charge.id] = charge
        intent.charge_id = charge.id
        return charge

    def _authorize(self, intent: Intent, magic: Magic) -> None:
        charge = self._new_charge(intent, magic, "succeeded")
        charge.network_transaction_id = "".join(secrets.choice(string.digits) for _ in range(15))
        intent.next_action = None
        if intent.capture_method == "manual":
            intent.status = "requires_capture"
            intent.amount_capturable = intent.amount
            self._emit("charge.succeeded", charge.to_json())
            self._event("payment_intent.amount_capturable_updated", intent)
        else:
            charge.captured = True
            charge.amount_captured = intent.amount
            intent.status = "succeeded"
            intent.amount_received = intent.amount
            self._emit("charge.succeeded", charge.to_json())
            self._event("payment_intent.succeeded", intent)

    def _decline(self, intent: Intent, magic: Magic) -> None:
        charge = self._new_charge(intent, magic, "failed")
        charge.failure_code = magic.code
        charge.failure_message = magic.message
        error: dict[str, Any] = {
            "type": "card_error",
            "code": magic.code,
            "message": magic.message,
            "charge": charge.id,
            "doc_url": DOC_URL + magic.code.replace("_", "-"),
            "payment_method": {
                "id": intent.payment_method,
                "object": "payment_method",
                "type": "card",
            },
        }
        if magic.decline_code:
            error["decline_code"] = magic.decline_code
        intent.status = "requires_payment_method"
        intent.next_action = None
        intent.last_payment_error = error
        self._emit("charge.failed", charge.to_json())
        self._event("payment_intent.payment_failed", intent)

    def _card_error(self, intent: Intent) -> StripeHTTPError:
        assert intent.last_payment_error is not None
        error = dict(intent.last_payment_error)
        error["payment_intent"] = self.intent_json(intent)
        return StripeHTTPError(402, error, stored=True)

    def retrieve_intent(
        self, account: str, intent_id: str, form: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(form, ("expand",))
        with self._lock:
            return self.intent_json(self._intent(account, intent_id), _expand(form))

    def update_intent(
        self, account: str, intent_id: str, form: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(form, ("metadata", "description", "expand"))
        with self._lock:
            intent = self._intent(account, intent_id)
            expand = _expand(form)
            if "metadata" in form:
                intent.metadata = _merge_metadata(intent.metadata, _metadata(form))
                intent.metadata_versions.append((time.monotonic(), dict(intent.metadata)))
            if "description" in form:
                intent.description = form["description"] or None
            return self.intent_json(intent, expand)

    def confirm_intent(
        self, account: str, intent_id: str, form: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(form, ("payment_method", "return_url", "expand"))
        with self._lock:
            intent = self._intent(account, intent_id)
            allowed = ("requires_payment_method", "requires_confirmation")
            if intent.status not in allowed:
                raise _unexpected_state(intent, "confirmation", allowed)
            expand = _expand(form)
            if form.get("payment_method"):
                if form["payment_method"] not in MAGIC:
                    raise invalid_request(
                        f"No such PaymentMethod: '{form['payment_method']}'",
                        param="payment_method",
                        code="resource_missing",
                    )
                intent.payment_method = form["payment_method"]
            if form.get("return_url"):
                intent.return_url = form["return_url"]
            if not intent.payment_method:
                raise invalid_request(
                    "You must provide a payment_method to confirm.",
                    param="payment_method",
                    code="parameter_missing",
                )
            self._confirm(intent)
            return self.intent_json(intent, expand)

    def capture_intent(
        self, account: str, intent_id: str, form: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(form, ("amount_to_capture", "metadata", "expand"))
        with self._lock:
            intent = self._intent(account, intent_id)
            expand = _expand(form)
            if intent.status != "requires_capture":
                raise _unexpected_state(intent, "capture", ("requires_capture",))
            amount = _int(form, "amount_to_capture")
            amount = intent.amount_capturable if amount is None else amount
            if amount <= 0 or amount > intent.amount_capturable:
                raise invalid_request(
                    f"The amount_to_capture ({amount}) must be positive and at most the "
                    f"amount_capturable ({intent.amount_capturable}).",
                    param="amount_to_capture",
                    code="amount_too_large",
                    stored=True,
                )
            charge = self.charges[intent.charge_id or ""]
            charge.captured = True
            charge.amount_captured = amount
            # "Any additional amount is automatically refunded" (Stripe's API reference).
            charge.released = intent.amount - amount
            charge.amount_refunded += charge.released
            intent.amount_received = amount
            intent.amount_capturable = 0
            intent.status = "succeeded"
            self._emit("charge.captured", charge.to_json())
            self._event("payment_intent.succeeded", intent)
            return self.intent_json(intent, expand)

    def cancel_intent(
        self, account: str, intent_id: str, form: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(form, ("cancellation_reason", "expand"))
        with self._lock:
            intent = self._intent(account, intent_id)
            expand = _expand(form)
            allowed = (
                "requires_payment_method",
                "requires_capture",
                "requires_confirmation",
                "requires_action",
                "processing",
            )
            if intent.status not in allowed:
                raise _unexpected_state(intent, "cancellation", allowed)
            reason = form.get("cancellation_reason")
            if reason not in (
                None,
                "duplicate",
                "fraudulent",
                "requested_by_customer",
                "abandoned",
            ):
                raise invalid_request(
                    f"Invalid cancellation_reason: {reason}", param="cancellation_reason"
                )
            if intent.status == "requires_capture" and intent.charge_id:
                charge = self.charges[intent.charge_id]
                charge.amount_refunded = charge.amount  # the hold is released
            intent.status = "canceled"
            intent.amount_capturable = 0
            intent.next_action = None
            intent.canceled_at = int(time.time())
            intent.cancellation_reason = reason
            self._event("payment_intent.canceled", intent)
            return self.intent_json(intent, expand)

    def complete_3ds(self, intent_id: str, succeed: bool) -> Intent:
        """The customer's answer on the challenge page."""
        with self._lock:
            intent = self.intents.get(intent_id)
            if intent is None or intent.status != "requires_action":
                raise LookupError(f"no challenge pending for {intent_id}")
            assert intent.payment_method is not None
            magic = self.magic(intent.payment_method)
            if not succeed:
                intent.status = "requires_payment_method"
                intent.next_action = None
                intent.last_payment_error = {
                    "type": "invalid_request_error",
                    "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication.",
                    "doc_url": DOC_URL + "payment-intent-authentication-failure",
                }
                self._event("payment_intent.payment_failed", intent)
            elif magic.behaviour is Behaviour.CHALLENGE_THEN_DECLINE:
                self._decline(intent, magic)
            else:
                self._authorize(intent, magic)
            return intent

    def _search_metadata(self, intent: Intent, now: float) -> dict[str, str] | None:
        """The intent's metadata as the lagging search index knows it; None: not indexed."""
        seen = [m for t, m in intent.metadata_versions if t <= now - self.search_lag_s]
        return seen[-1] if seen else None

    def search_intents(self, account: str, form: Mapping[str, Any]) -> dict[str, Any]:
        _only(form, ("query", "limit", "page", "expand"))
        query = form.get("query")
        if not query:
            raise invalid_request(
                "Missing required param: query.", param="query", code="parameter_missing"
            )
        connective, clauses = parse_query(str(query))
        for clause in clauses:
            if clause.field not in _SEARCH_FIELDS:
                raise invalid_request(
                    f"Field '{clause.field}' is an unsupported search field "
                    "for resource payment_intents.",
                    param="query",
                )
        limit = _int(form, "limit") or 10
        offset = int(form.get("page") or 0)
        expand = _expand(form, "data.")
        with self._lock:
            now = time.monotonic()
            hits = []
            for intent in sorted(self.intents.values(), key=lambda i: -i.seq):
                metadata = self._search_metadata(intent, now)
                if intent.account != account or metadata is None:
                    continue
                results = [_matches(intent, metadata, c) for c in clauses]
                if all(results) if connective == "AND" else any(results):
                    hits.append(intent)
            page = hits[offset : offset + limit]
            more = len(hits) > offset + limit
            return {
                "object": "search_result",
                "url": "/v1/payment_intents/search",
                "has_more": more,
                "next_page": str(offset + limit) if more else None,
                "data": [self.intent_json(i, expand) for i in page],
            }

    def list_intents(self, account: str, form: Mapping[str, Any]) -> dict[str, Any]:
        _only(form, ("created", "limit", "starting_after", "expand"))
        expand = _expand(form, "data.")
        with self._lock:
            items = [i for i in self.intents.values() if i.account == account]
            page, more = _page(items, form, lambda i: i.created)
            return {
                "object": "list",
                "url": "/v1/payment_intents",
                "has_more": more,
                "data": [self.intent_json(i, expand) for i in page],
            }

    # -- Refunds ------------------------------------------------------------------------

    def create_refund(self, account: str, form: Mapping[str, Any]) -> dict[str, Any]:
        _only(form, ("payment_intent", "charge", "amount", "reason", "metadata", "expand"))
        with self._lock:
            if form.get("payment_intent"):
                intent = self._intent(account, form["payment_intent"])
            elif form.get("charge"):
                charge = self.charges.get(form["charge"])
                if charge is None or self.intents[charge.intent_id].account != account:
                    raise invalid_request(
                        f"No such charge: '{form['charge']}'",
                        param="charge",
                        code="resource_missing",
                        status=404,
                    )
                intent = self.intents[charge.intent_id]
            else:
                raise invalid_request(
                    "One of the following params should be provided for "
                    "this request: payment_intent or charge.",
                    code="parameter_missing",
                )
            reason = form.get("reason")
            if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
                raise invalid_request(f"Invalid reason: {reason}", param="reason")
            metadata = _merge_metadata({}, _metadata(form))
            amount = _int(form, "amount")
            if amount is not None and amount <= 0:
                raise invalid_request(
                    "Invalid positive integer", param="amount", code="parameter_invalid_integer"
                )
            if intent.status != "succeeded" or not intent.charge_id:
                raise _unexpected_state(intent, "refund", ("succeeded",))
            charge = self.charges[intent.charge_id]
            remaining = charge.refundable()
            if remaining <= 0:
                raise invalid_request(
                    f"Charge {charge.id} has already been refunded.", code="charge_already_refunded"
                )
            amount = remaining if amount is None else amount
            if amount > remaining:
                # Stripe sends this one without a code.
                raise invalid_request(
                    f"Refund amount ({amount} {charge.currency}) is greater than unrefunded "
                    f"amount on charge ({remaining} {charge.currency})",
                    param="amount",
                )
            if charge.currency in THREE_DECIMAL and amount % 10:
                raise invalid_request(
                    "Refunds of three-decimal currencies must be multiples of 10.",
                    param="amount",
                    code="invalid_charge_amount",
                )
            magic = self.magic(intent.payment_method)
            refund = Refund(
                id=new_id("re"),
                account=account,
                seq=self._next(),
                created=int(time.time()),
                intent_id=intent.id,
                charge_id=charge.id,
                amount=amount,
                currency=charge.currency,
                status="pending" if magic.refund == "pending" else "succeeded",
                reason=reason,
                metadata=metadata,
                settles_to={"pending": "succeeded", "fail": "failed"}.get(magic.refund),
            )
            self.refunds[refund.id] = refund
            charge.amount_refunded += amount
            self._emit("refund.created", refund.to_json())
            self._emit("charge.refunded", charge.to_json())
            return refund.to_json()

    def retrieve_refund(
        self, account: str, refund_id: str, form: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(form, ("expand",))
        with self._lock:
            refund = self.refunds.get(refund_id)
            if refund is None or refund.account != account:
                raise invalid_request(
                    f"No such refund: '{refund_id}'",
                    param="id",
                    code="resource_missing",
                    status=404,
                )
            return refund.to_json()

    def list_refunds(self, account: str, form: Mapping[str, Any]) -> dict[str, Any]:
        _only(form, ("payment_intent", "charge", "created", "limit", "starting_after"))
        with self._lock:
            items = [
                r
                for r in self.refunds.values()
                if r.account == account
                and form.get("payment_intent") in (None, r.intent_id)
                and form.get("charge") in (None, r.charge_id)
            ]
            page, more = _page(items, form, lambda r: r.created)
            return {
                "object": "list",
                "url": "/v1/refunds",
                "has_more": more,
                "data": [r.to_json() for r in page],
            }

    def settle_refunds(self) -> list[str]:
        """Moves refunds made with pm_card_pendingRefund / pm_card_refundFail on."""
        with self._lock:
            settled = []
            for refund in self.refunds.values():
                if refund.settles_to is None:
                    continue
                refund.status, refund.settles_to = refund.settles_to, None
                if refund.status == "failed":
                    refund.failure_reason = "expired_or_canceled_card"
                    self.charges[refund.charge_id].amount_refunded -= refund.amount
                    self._emit("refund.failed", refund.to_json())
                self._emit("refund.updated", refund.to_json())
                settled.append(refund.id)
            return settled


def _automatic_methods(types: list[str], given: Any) -> dict[str, Any] | None:
    """Current API versions turn dashboard payment methods on unless types are listed."""
    if types:
        return None
    return given if isinstance(given, dict) else {"enabled": True, "allow_redirects": "always"}


def _matches(intent: Intent, metadata: Mapping[str, str], clause: _Clause) -> bool:
    if clause.field == "metadata":
        assert clause.metadata_key is not None
        result = metadata.get(clause.metadata_key) == clause.value
    else:
        actual: Any = {
            "status": intent.status,
            "currency": intent.currency,
            "amount": intent.amount,
            "created": intent.created,
        }[clause.field]
        if clause.op == ":":
            result = str(actual) == clause.value
        else:
            number = int(clause.value) if re.fullmatch(r"-?\d+", clause.value) else None
            if number is None or not isinstance(actual, int):
                raise invalid_request("Comparisons need a numeric field and value.", param="query")
            result = {
                ">": actual > number,
                "<": actual < number,
                ">=": actual >= number,
                "<=": actual <= number,
            }[clause.op]
    return result != clause.negated


def _page(
    items: list[Any], form: Mapping[str, Any], created: Callable[[Any], int]
) -> tuple[list[Any], bool]:
    """Newest first, `created[gte|gt|lte|lt]`, `limit`, `starting_after`."""
    bounds = form.get("created") or {}
    if isinstance(bounds, str):
        bounds = {"eq": bounds}
    tests = {
        "gte": lambda a, b: a >= b,
        "gt": lambda a, b: a > b,
        "lte": lambda a, b: a <= b,
        "lt": lambda a, b: a < b,
        "eq": lambda a, b: a == b,
    }
    for name, value in bounds.items():
        if name not in tests or not re.fullmatch(r"\d+", str(value)):
            raise invalid_request(f"Invalid created[{name}]", param="created")
        items = [i for i in items if tests[name](created(i), int(value))]
    items = sorted(items, key=lambda i: -i.seq)
    after = form.get("starting_after")
    if after:
        ids = [i.id for i in items]
        if after not in ids:
            raise invalid_request(
                f"No such object: '{after}'",
                param="starting_after",
                code="resource_missing",
                status=404,
            )
        items = items[ids.index(after) + 1 :]
    limit = _int(form, "limit") or 10
    if not 1 <= limit <= 100:
        raise invalid_request("Invalid limit: must be between 1 and 100", param="limit")
    return items[:limit], len(items) > limit
