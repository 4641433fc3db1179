"""A wire-level fake of the Razorpay API (v1), for the `razorpay` SDK and PayLoops' adapter.

It is a real HTTP server (stdlib `ThreadingHTTPServer`, 127.0.0.1, port 0) that speaks what
the SDK speaks (docs/gateways.md, Razorpay): Basic auth with `key_id:key_secret`, JSON request
bodies, query parameters on GET, and every error in Razorpay's shape
`{"error": {"code", "description", "source", "step", "reason", "metadata", "field"}}` with the
`code` the SDK maps to its exceptions (BAD_REQUEST_ERROR, GATEWAY_ERROR, SERVER_ERROR).

    with RazorpayFake() as fake:
        client = razorpay.Client(auth=(fake.key_id, fake.key_secret), base_url=fake.url)

Endpoints
  POST  /v1/orders                       amount (int), currency, receipt (<= 40), notes,
                                         payment_capture (0/1/true/false)
  GET   /v1/orders?receipt=…             orders with that receipt, newest first (count, skip)
  GET   /v1/orders/{id}                  GET /v1/orders/{id}/payments
  POST  /v1/payments/create/json         S2S card payment with a saved-card `token`, or
                                         card details (`card`: number, expiry_month,
                                         expiry_year, cvv, name)
  GET   /v1/payments/{id}                PATCH /v1/payments/{id} (notes only)
  POST  /v1/payments/{id}/capture        amount must equal the authorized amount
  POST  /v1/payments/{id}/refund         honours X-Refund-Idempotency
  GET   /v1/payments/{id}/refunds        GET /v1/payments/{id}/refunds/{rid}, GET /v1/refunds/{id}
  GET|POST /_fake/authenticate/{id}      the test-only 3-D Secure page (no auth, a browser's)
  GET|POST /v1/payments/{id}/authenticate  the same page, at the path real Razorpay uses
  `?expand[]=card` on payment reads adds the card entity.

Test tokens (the names PayLoops' sandbox uses), sent as `token` with
`method: "card"` to /v1/payments/create/json:
  pm_card_visa, pm_card_mastercard, pm_card_rupay   authorized at once (captured at once when
                                                    the order has payment_capture=1)
  pm_card_declined            400 BAD_REQUEST_ERROR reason card_declined, payment failed
  pm_card_insufficient_funds  400 BAD_REQUEST_ERROR reason insufficient_funds, payment failed
  pm_card_soft_decline        502 GATEWAY_ERROR reason gateway_technical_error (the acquiring
                              bank is down: retryable elsewhere), payment failed
  pm_card_3ds_required        payment `created`; `next` holds a redirect to the page, whose
                              outcome=succeed|fail decides
  pm_card_3ds_fail            like 3ds_required, but the page always fails the payment
                              (reason authentication_failed)
Raw test cards (`card` instead of `token`; any future expiry; the CVV once), each behaving as
the token beside it: 4111111111111111 visa, 5267318187975449 mastercard, 6521000000020005
rupay, 4000000000000002 declined, 4000000000009995 insufficient_funds, 4000000000000119
soft_decline, 4000002500003155 3ds_required, 4000000000003220 3ds_fail. Any other number is
refused as invalid; no error quotes it, and the fake keeps only which token it behaved as.
A failed payment's error carries `metadata.payment_id` and `metadata.order_id`, as Razorpay's
payment errors do, and the payment entity keeps `error_code`, `error_reason`, … .

Where the fake knowingly differs from real Razorpay
  * Receipts. Real Razorpay treats `receipt` as the merchant's reference and, as far as its
    public docs say, does not refuse a repeated one: two creates with one receipt can give two
    orders. The fake keeps receipts unique per account: a create that repeats a receipt with
    the same amount and currency returns the existing order (200), with other values it is a
    400 whose `metadata.order_id` points at the existing order. Adapters must not rely on
    either: they look the receipt up (`GET /v1/orders?receipt=`, which real Razorpay has)
    before creating. The request log lets tests prove they did.
  * S2S card payments are an on-demand feature for PCI-DSS merchants and really start with a
    redirect or native OTP for every Indian card; the fake authorizes the success tokens at
    once (`next: []`) and only challenges the 3DS tokens. It takes the test card numbers
    above and no others, and does not require `email`/`contact`/`ip`/`user_agent` (PayLoops
    has no such fields; real Razorpay requires them).
  * Unknown ids are HTTP 400 BAD_REQUEST_ERROR "The id provided does not exist", field `id`,
    which is what Razorpay answers as far as we know [?].
  * Refunds settle at once (`processed`) unless `refund_status="pending"` is given. Real
    Razorpay refunds only captured payments (so does the fake) and releases an uncaptured
    authorization itself after the capture timeout: `expire_authorization()` plays that.
  * Events are queued after each change and sent in order by one thread (Razorpay does not
    guarantee order). A payment authorized on an order already paid by another payment is
    auto-refunded at once, as Razorpay does; creating a payment on a paid order is a 400.

Faults (`inject`, for the next `count` matching requests): SERVER_ERROR (500, nothing done),
GATEWAY_ERROR (502 GATEWAY_ERROR, nothing done), HTML_502 (a proxy's HTML page, nothing done),
RATE_LIMITED (429, nothing done), DELAY (sleeps `delay_s`, then does the work and answers,
usually to a client that gave up), SUCCEED_THEN_500 (does the work, e.g. creates the payment,
then answers 500). `refusing_connections()` closes the port for a while (connection refused).

Webhooks: with `webhook_url`, every event is POSTed there with `X-Razorpay-Signature` (hex
HMAC-SHA256 of the raw body keyed with `webhook_secret`) and `X-Razorpay-Event-Id`; tests can
also build and sign an event themselves (`event_body`, `sign`).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import hmac
import html
import json
import queue
import re
import secrets
import string
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

Json = dict[str, Any]

DEFAULT_KEY_ID = "rzp_test_fakekey0001"
DEFAULT_KEY_SECRET = "fake_key_secret_0001"
DEFAULT_WEBHOOK_SECRET = "fake_webhook_secret_0001"
ACCOUNT_ID = "acc_FakeAccount001"

# Currencies the fake accepts: exponent and Razorpay's amount rules (docs/gateways.md).
CURRENCY_EXPONENTS: dict[str, int] = {
    "INR": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "AUD": 2,
    "CAD": 2,
    "SGD": 2,
    "AED": 2,
    "SAR": 2,
    "HKD": 2,
    "CHF": 2,
    "NZD": 2,
    "MYR": 2,
    "JPY": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
}
INR_MINIMUM = 100  # paise: ₹1.00
RECEIPT_MAX = 40
NOTES_MAX_KEYS = 15
NOTE_MAX_CHARS = 256

_ORDER_FIELDS = frozenset(
    {
        "amount",
        "currency",
        "receipt",
        "notes",
        "payment_capture",
        "partial_payment",
        "first_payment_min_amount",
        "payment",
    }
)
_PAYMENT_FIELDS = frozenset(
    {
        "amount",
        "currency",
        "order_id",
        "email",
        "contact",
        "method",
        "card",
        "token",
        "customer_id",
        "ip",
        "referer",
        "user_agent",
        "callback_url",
        "notes",
        "description",
        "save",
        "auth_type",
    }
)
_REFUND_FIELDS = frozenset({"amount", "speed", "notes", "receipt"})


class Behaviour(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    CHALLENGE = "challenge"
    CHALLENGE_THEN_FAIL = "challenge_then_fail"


@dataclass(frozen=True)
class FailureSpec:
    """How Razorpay reports one kind of failed payment."""

    http_status: int
    code: str
    description: str
    source: str
    step: str
    reason: str


@dataclass(frozen=True)
class FakeToken:
    token: str
    behaviour: Behaviour
    network: str  # as Razorpay spells it in the card entity
    card_type: str
    last4: str
    international: bool
    description: str
    failure: FailureSpec | None = None


CARD_DECLINED = FailureSpec(
    400,
    "BAD_REQUEST_ERROR",
    "Your payment has been declined by the bank.",
    "bank",
    "payment_authorization",
    "card_declined",
)
INSUFFICIENT_FUNDS = FailureSpec(
    400,
    "BAD_REQUEST_ERROR",
    "Your payment could not be completed due to insufficient account balance.",
    "customer",
    "payment_authorization",
    "insufficient_funds",
)
GATEWAY_DOWN = FailureSpec(
    502,
    "GATEWAY_ERROR",
    "Payment failed because of a technical error at the partner bank.",
    "gateway",
    "payment_authorization",
    "gateway_technical_error",
)
AUTHENTICATION_FAILED = FailureSpec(
    400,
    "BAD_REQUEST_ERROR",
    "Payment failed because the 3-D Secure authentication failed.",
    "customer",
    "payment_authentication",
    "authentication_failed",
)

TEST_TOKENS: dict[str, FakeToken] = {
    t.token: t
    for t in (
        FakeToken(
            "pm_card_visa",
            Behaviour.SUCCEED,
            "Visa",
            "credit",
            "1111",
            False,
            "Visa (domestic), authorized",
        ),
        FakeToken(
            "pm_card_mastercard",
            Behaviour.SUCCEED,
            "MasterCard",
            "credit",
            "5449",
            False,
            "Mastercard (domestic), authorized",
        ),
        FakeToken(
            "pm_card_rupay",
            Behaviour.SUCCEED,
            "RuPay",
            "debit",
            "0005",
            False,
            "RuPay debit, authorized",
        ),
        FakeToken(
            "pm_card_declined",
            Behaviour.DECLINE,
            "Visa",
            "credit",
            "0002",
            False,
            "declined by the bank: card_declined",
            CARD_DECLINED,
        ),
        FakeToken(
            "pm_card_insufficient_funds",
            Behaviour.DECLINE,
            "Visa",
            "debit",
            "9995",
            False,
            "declined: insufficient_funds",
            INSUFFICIENT_FUNDS,
        ),
        FakeToken(
            "pm_card_soft_decline",
            Behaviour.DECLINE,
            "Visa",
            "credit",
            "0119",
            False,
            "gateway error at the acquirer: gateway_technical_error",
            GATEWAY_DOWN,
        ),
        FakeToken(
            "pm_card_3ds_required",
            Behaviour.CHALLENGE,
            "Visa",
            "credit",
            "3155",
            False,
            "3-D Secure page decides",
        ),
        FakeToken(
            "pm_card_3ds_fail",
            Behaviour.CHALLENGE_THEN_FAIL,
            "Visa",
            "credit",
            "3220",
            False,
            "3-D Secure, then fails: authentication_failed",
            AUTHENTICATION_FAILED,
        ),
    )
}


class FaultKind(StrEnum):
    SERVER_ERROR = "server_error"
    GATEWAY_ERROR = "gateway_error"
    HTML_502 = "html_502"
    RATE_LIMITED = "rate_limited"
    DELAY = "delay"
    SUCCEED_THEN_500 = "succeed_then_500"


@dataclass
class _Fault:
    kind: FaultKind
    method: str | None
    path: re.Pattern[str] | None
    remaining: int
    delay_s: float

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method == method)
            and (self.path is None or self.path.fullmatch(path) is not None)
        )


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it (the Authorization header is not kept)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    key_id: str

    def json(self) -> Json:
        return dict(json.loads(self.body)) if self.body else {}


@dataclass(frozen=True)
class WebhookDelivery:
    event: str
    event_id: str
    body: bytes
    signature: str
    status: int | None  # None when the POST failed
    error: str = ""


class ApiError(Exception):
    """An answer in Razorpay's error shape."""

    def __init__(
        self,
        http_status: int,
        description: str,
        *,
        code: str = "BAD_REQUEST_ERROR",
        field: str | None = None,
        reason: str = "input_validation_failed",
        source: str = "business",
        step: str = "NA",
        metadata: Json | None = None,
    ) -> None:
        super().__init__(description)
        self.http_status = http_status
        self.body: Json = {
            "error": {
                "code": code,
                "description": description,
                "source": source,
                "step": step,
                "reason": reason,
                "metadata": metadata or {},
                "field": field,
            }
        }


RAW_CARDS: dict[str, str] = {
    "4111111111111111": "pm_card_visa",
    "5267318187975449": "pm_card_mastercard",
    "6521000000020005": "pm_card_rupay",
    "4000000000000002": "pm_card_declined",
    "4000000000009995": "pm_card_insufficient_funds",
    "4000000000000119": "pm_card_soft_decline",
    "4000002500003155": "pm_card_3ds_required",
    "4000000000003220": "pm_card_3ds_fail",
}
_CARD_FIELDS = frozenset({"number", "expiry_month", "expiry_year", "cvv", "name"})


def _raw_card(card: Any) -> str:
    """The test token a `card` behaves as, checked as Razorpay checks card details. No error
    quotes the number."""
    if not isinstance(card, dict) or not {"number", "expiry_month", "expiry_year"} <= set(card):
        raise _invalid("The card number, expiry month and expiry year are required.", "card")
    _only(card, _CARD_FIELDS)
    token = RAW_CARDS.get(str(card["number"]))
    if token is None:
        raise _invalid("The card number is invalid.", "card[number]")
    month, year = str(card["expiry_month"]), str(card["expiry_year"])
    if not re.fullmatch(r"(0[1-9]|1[0-2])", month) or not re.fullmatch(r"[0-9]{2}", year):
        raise _invalid("The card expiry is invalid.", "card[expiry_month]")
    if "cvv" in card and not re.fullmatch(r"[0-9]{3,4}", str(card["cvv"])):
        raise _invalid("The card CVV is invalid.", "card[cvv]")
    return token


def _invalid(description: str, field: str | None = None, **kwargs: Any) -> ApiError:
    return ApiError(400, description, field=field, **kwargs)


def _missing_id() -> ApiError:
    return ApiError(400, "The id provided does not exist", field="id", source="NA")


@dataclass
class _Account:
    key_secret: str
    orders: dict[str, Json] = field(default_factory=dict)
    payments: dict[str, Json] = field(default_factory=dict)
    refunds: dict[str, Json] = field(default_factory=dict)
    receipts: dict[str, str] = field(default_factory=dict)  # receipt -> order id
    refund_keys: dict[str, str] = field(default_factory=dict)  # X-Refund-Idempotency -> id
    # Facts the API does not show in the entities.
    auto_capture: dict[str, bool] = field(default_factory=dict)  # order id -> payment_capture
    callbacks: dict[str, str] = field(default_factory=dict)  # payment id -> callback_url
    tokens: dict[str, FakeToken] = field(default_factory=dict)  # payment id -> test token


_ID_ALPHABET = string.ascii_letters + string.digits


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(14))


def _now() -> int:
    return int(time.time())


class RazorpayFake:
    """The fake API server. Thread-safe: the handler threads share one lock over all state."""

    def __init__(
        self,
        *,
        key_id: str = DEFAULT_KEY_ID,
        key_secret: str = DEFAULT_KEY_SECRET,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        webhook_url: str | None = None,
        refund_status: str = "processed",
        host: str = "127.0.0.1",
    ) -> None:
        self.key_id = key_id
        self.key_secret = key_secret
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.refund_status = refund_status
        self._host = host
        self._lock = threading.RLock()
        self._accounts: dict[str, _Account] = {key_id: _Account(key_secret)}
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []
        self._deliveries: list[WebhookDelivery] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._webhooks: queue.Queue[tuple[str, str, bytes] | None] = queue.Queue()
        self._webhook_thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> RazorpayFake:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._listen()
        self._webhook_thread = threading.Thread(
            target=self._send_webhooks, name="fake-razorpay-webhooks", daemon=True
        )
        self._webhook_thread.start()

    def close(self) -> None:
        self._stop_listening()
        if self._webhook_thread is not None:
            self._webhooks.put(None)
            self._webhook_thread.join(5)
            self._webhook_thread = None

    def _listen(self) -> None:
        server = _Server((self._host, self._port), self)
        self._port = server.port
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="fake-razorpay", daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @contextlib.contextmanager
    def refusing_connections(self) -> Iterator[None]:
        """Closes the listening port (connections are refused), then listens again on it."""
        self._stop_listening()
        try:
            yield
        finally:
            self._listen()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The SDK's `base_url`: host only, the paths start with /v1."""
        return f"http://{self._host}:{self._port}"

    # -- test controls -------------------------------------------------------------------------

    def add_account(self, key_id: str, key_secret: str) -> None:
        with self._lock:
            self._accounts[key_id] = _Account(key_secret)

    def inject(
        self,
        kind: FaultKind,
        *,
        method: str | None = None,
        path: str | None = None,
        count: int = 1,
        delay_s: float = 0.0,
    ) -> None:
        """The next `count` requests matching `method` and `path` (a regex, full match) suffer
        `kind`."""
        with self._lock:
            self._faults.append(
                _Fault(kind, method, re.compile(path) if path else None, count, delay_s)
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests with this method whose path fully matches the regex `path`."""
        pattern = re.compile(path)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._deliveries)

    def order(self, order_id: str, key_id: str | None = None) -> Json:
        with self._lock:
            return copy.deepcopy(self._account(key_id).orders[order_id])

    def orders_with_receipt(self, receipt: str, key_id: str | None = None) -> list[Json]:
        with self._lock:
            return [
                copy.deepcopy(o)
                for o in self._account(key_id).orders.values()
                if o["receipt"] == receipt
            ]

    def payment(self, payment_id: str, key_id: str | None = None) -> Json:
        with self._lock:
            return copy.deepcopy(self._account(key_id).payments[payment_id])

    def payments_for_order(self, order_id: str, key_id: str | None = None) -> list[Json]:
        with self._lock:
            return [
                copy.deepcopy(p)
                for p in self._account(key_id).payments.values()
                if p["order_id"] == order_id
            ]

    def refunds_for_payment(self, payment_id: str, key_id: str | None = None) -> list[Json]:
        with self._lock:
            return [
                copy.deepcopy(r)
                for r in self._account(key_id).refunds.values()
                if r["payment_id"] == payment_id
            ]

    def authenticate(self, payment_id: str, succeed: bool, key_id: str | None = None) -> Json:
        """What the customer's answer on the 3-D Secure page does."""
        with self._lock:
            account = self._account(key_id)
            return copy.deepcopy(self._finish_challenge(account, payment_id, succeed))

    def expire_authorization(self, payment_id: str, key_id: str | None = None) -> Json:
        """Razorpay's auto-refund of an authorization nobody captured within the capture
        timeout: the payment becomes `refunded` with `captured: false`."""
        with self._lock:
            account = self._account(key_id)
            payment = account.payments[payment_id]
            if payment["status"] != "authorized":
                raise ValueError(f"{payment_id} is {payment['status']}, not authorized")
            refund = self._new_refund(account, payment, payment["amount"], {}, None)
            self._emit("refund.processed", payment=payment, refund=refund)
            return copy.deepcopy(payment)

    def settle_refund(
        self, refund_id: str, status: str = "processed", key_id: str | None = None
    ) -> Json:
        """Moves a pending refund (`refund_status="pending"`) to processed or failed."""
        with self._lock:
            account = self._account(key_id)
            refund = account.refunds[refund_id]
            refund["status"] = status
            payment = account.payments[refund["payment_id"]]
            if status == "failed":
                payment["amount_refunded"] -= refund["amount"]
                payment["refund_status"] = "partial" if payment["amount_refunded"] else None
                if payment["status"] == "refunded":
                    payment["status"] = "captured"
            self._emit(f"refund.{status}", payment=payment, refund=refund)
            return copy.deepcopy(refund)

    def sign(self, body: bytes, secret: str | None = None) -> str:
        """The X-Razorpay-Signature of a webhook body."""
        key = (secret or self.webhook_secret).encode()
        return hmac.new(key, body, hashlib.sha256).hexdigest()

    def event_body(
        self,
        event: str,
        *,
        payment: Json | None = None,
        refund: Json | None = None,
        order: Json | None = None,
    ) -> bytes:
        """A webhook body in Razorpay's envelope."""
        payload: Json = {}
        for name, entity in (("payment", payment), ("refund", refund), ("order", order)):
            if entity is not None:
                payload[name] = {"entity": entity}
        return json.dumps(
            {
                "entity": "event",
                "account_id": ACCOUNT_ID,
                "event": event,
                "contains": list(payload),
                "payload": payload,
                "created_at": _now(),
            }
        ).encode()

    # -- request handling (called by the handler threads) --------------------------------------

    def _account(self, key_id: str | None) -> _Account:
        return self._accounts[key_id or self.key_id]

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def authenticate_key(self, header: str | None) -> str:
        """The key id of a valid Basic Authorization header; ApiError 401 otherwise."""
        if header and header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            with self._lock:
                account = self._accounts.get(user)
                if account is not None and hmac.compare_digest(account.key_secret, password):
                    return user
        raise ApiError(401, "Authentication failed", source="NA", reason="NA")

    def dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Json,
        headers: dict[str, str],
        key_id: str,
    ) -> Json:
        with self._lock:
            account = self._account(key_id)
            for route_method, pattern, handler in _ROUTES:
                if route_method != method:
                    continue
                match = pattern.fullmatch(path)
                if match is not None:
                    return handler(self, account, match.groups(), query, body, headers)
        raise ApiError(
            404, "The requested URL was not found on the server.", source="NA", reason="NA"
        )

    # -- orders --------------------------------------------------------------------------------

    def _create_order(
        self,
        account: _Account,
        _ids: tuple[str, ...],
        _query: dict[str, list[str]],
        body: Json,
        _headers: dict[str, str],
    ) -> Json:
        _only(body, _ORDER_FIELDS)
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise _invalid("The amount must be an integer.", "amount")
        currency = body.get("currency")
        if not isinstance(currency, str) or not currency:
            raise _invalid("The currency field is required.", "currency")
        if currency not in CURRENCY_EXPONENTS:
            raise _invalid("Currency is not supported", "currency")
        if currency == "INR" and amount < INR_MINIMUM:
            raise _invalid(
                "Order amount less than minimum amount allowed",
                "amount",
                reason="amount_less_than_minimum_amount",
                step="order_creation",
            )
        if amount < 1:
            raise _invalid("The amount must be atleast 1.", "amount")
        if CURRENCY_EXPONENTS[currency] == 3 and amount % 10:
            raise _invalid(
                "The last digit of the amount must be 0 for three-decimal currencies.", "amount"
            )
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > RECEIPT_MAX):
            raise _invalid("The receipt may not be greater than 40 characters.", "receipt")
        notes = _notes(body.get("notes"))
        capture = body.get("payment_capture", True)
        if capture not in (0, 1, True, False, "0", "1", "true", "false"):
            raise _invalid("The payment capture field is invalid.", "payment_capture")
        if receipt:
            existing_id = account.receipts.get(receipt)
            if existing_id is not None:
                existing = account.orders[existing_id]
                if (existing["amount"], existing["currency"]) == (amount, currency):
                    return existing
                raise _invalid(
                    "Receipt already exists for another order.",
                    "receipt",
                    metadata={"order_id": existing_id},
                )
        order: Json = {
            "id": _new_id("order_"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency,
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": notes,
            "created_at": _now(),
        }
        account.orders[order["id"]] = order
        account.auto_capture[order["id"]] = capture in (1, True, "1", "true")
        if receipt:
            account.receipts[receipt] = order["id"]
        return order

    def _list_orders(
        self,
        account: _Account,
        _ids: tuple[str, ...],
        query: dict[str, list[str]],
        _body: Json,
        _headers: dict[str, str],
    ) -> Json:
        orders = sorted(
            account.orders.values(), key=lambda o: (o["created_at"], o["id"]), reverse=True
        )
        if "receipt" in query:
            orders = [o for o in orders if o["receipt"] == query["receipt"][0]]
        return _collection(orders, query)

    def _fetch_order(
        self,
        account: _Account,
        ids: tuple[str, ...],
        _query: dict[str, list[str]],
        _body: Json,
        _headers: dict[str, str],
    ) -> Json:
        return self._order_or_raise(account, ids[0])

    def _order_payments(
        self,
        account: _Account,
        ids: tuple[str, ...],
        query: dict[str, list[str]],
        _body: Json,
        _headers: dict[str, str],
    ) -> Json:
        self._order_or_raise(account, ids[0])
        payments = [
            self._payment_view(account, p, query)
            for p in account.payments.values()
            if p["order_id"] == ids[0]
        ]
        return _collection(
            sorted(payments, key=lambda p: (p["created_at"], p["id"]), reverse=True), query
        )

    @staticmethod
    def _order_or_raise(account: _Account, order_id: str) -> Json:
        order = account.orders.get(order_id)
        if order is None:
            raise _missing_id()
        return order

    # -- payments ------------------------------------------------------------------------------

    def _create_payment(
        self,
        account: _Account,
        _ids: tuple[str, ...],
        _query: dict[str, list[str]],
        body: Json,
        _headers: dict[str, str],
    ) -> Json:
        _only(body, _PAYMENT_FIELDS)
        order = account.orders.get(str(body.get("order_id", "")))
        if order is None:
            raise _invalid("The order id provided does not exist", "order_id")
        if body.get("method") != "card":
            raise _invalid("Only card payments are supported by this endpoint.", "method")
        if "card" in body:
            if "token" in body:
                raise _invalid("Send either a card or a token, not both.", "card")
            test_token = TEST_TOKENS[_raw_card(body["card"])]
        else:
            found = TEST_TOKENS.get(str(body.get("token", "")))
            if found is None:
                raise _invalid("The token provided is invalid.", "token")
            test_token = found
        if body.get("amount") != order["amount"] or body.get("currency") != order["currency"]:
            raise _invalid("The amount and currency must match the order's.", "amount")
        if order["status"] == "paid":
            raise _invalid(
                "This order has already been paid.",
                None,
                reason="order_already_paid",
                step="payment_initiation",
            )
        notes = _notes(body.get("notes"))
        payment: Json = {
            "id": _new_id("pay_"),
            "entity": "payment",
            "amount": order["amount"],
            "currency": order["currency"],
            "status": "created",
            "order_id": order["id"],
            "invoice_id": None,
            "international": test_token.international,
            "method": "card",
            "amount_refunded": 0,
            "refund_status": None,
            "captured": False,
            "description": body.get("description"),
            "card_id": _new_id("card_"),
            "bank": None,
            "wallet": None,
            "vpa": None,
            "email": body.get("email"),
            "contact": body.get("contact"),
            "notes": notes,
            "fee": None,
            "tax": None,
            "error_code": None,
            "error_description": None,
            "error_source": None,
            "error_step": None,
            "error_reason": None,
            "acquirer_data": {},
            "created_at": _now(),
        }
        account.payments[payment["id"]] = payment
        account.tokens[payment["id"]] = test_token
        if isinstance(body.get("callback_url"), str):
            account.callbacks[payment["id"]] = body["callback_url"]
        order["attempts"] += 1
        order["status"] = "attempted"
        response: Json = {"razorpay_payment_id": payment["id"], "next": []}
        match test_token.behaviour:
            case Behaviour.SUCCEED:
                self._authorize(account, payment)
            case Behaviour.DECLINE:
                assert test_token.failure is not None
                self._fail(payment, test_token.failure)
                raise _payment_error(payment, test_token.failure)
            case Behaviour.CHALLENGE | Behaviour.CHALLENGE_THEN_FAIL:
                response["next"] = [
                    {"action": "redirect", "url": f"{self.url}/_fake/authenticate/{payment['id']}"}
                ]
        return response

    def _fetch_payment(
        self,
        account: _Account,
        ids: tuple[str, ...],
        query: dict[str, list[str]],
        _body: Json,
        _headers: dict[str, str],
    ) -> Json:
        return self._payment_view(account, self._payment_or_raise(account, ids[0]), query)

    def _edit_payment(
        self,
        account: _Account,
        ids: tuple[str, ...],
        _query: dict[str, list[str]],
        body: Json,
        _headers: dict[str, str],
    ) -> Json:
        payment = self._payment_or_raise(account, ids[0])
        _only(body, frozenset({"notes"}))
        payment["notes"] = _notes(body.get("notes"))
        return payment

    def _capture(
        self,
        account: _Account,
        ids: tuple[str, ...],
        _query: dict[str, list[str]],
        body: Json,
        _headers: dict[str, str],
    ) -> Json:
        payment = self._payment_or_raise(account, ids[0])
        _only(body, frozenset({"amount", "currency"}))
        if payment["captured"]:
            raise _invalid(
                "This payment has already been captured", None, reason="payment_already_captured"
            )
        if payment["status"] != "authorized":
            raise _invalid(
                "Only payments which have been authorized and not yet captured can be captured",
                None,
                reason="payment_not_authorized",
            )
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise _invalid("The amount must be an integer.", "amount")
        if amount != payment["amount"]:
            raise _invalid("Capture amount must be equal to the amount authorized", "amount")
        if body.get("currency", payment["currency"]) != payment["currency"]:
            raise _invalid("The currency does not match the payment's.", "currency")
        self._settle_capture(account, payment)
        return payment

    def _refund(
        self,
        account: _Account,
        ids: tuple[str, ...],
        _query: dict[str, list[str]],
        body: Json,
        headers: dict[str, str],
    ) -> Json:
        payment = self._payment_or_raise(account, ids[0])
        _only(body, _REFUND_FIELDS)
        key = headers.get("x-refund-idempotency")
        if key is not None and len(key) < 10:
            raise _invalid("X-Refund-Idempotency must be at least 10 characters.", None)
        amount = body.get("amount", payment["amount"] - payment["amount_refunded"])
        if key is not None and key in account.refund_keys:
            existing = account.refunds[account.refund_keys[key]]
            if (existing["payment_id"], existing["amount"]) != (payment["id"], amount):
                raise _invalid(
                    "The idempotency key was used for another refund.",
                    None,
                    reason="idempotency_key_reused",
                )
            return existing
        if not payment["captured"]:
            raise _invalid(
                "Refunds can be made only on captured payments.",
                None,
                reason="payment_not_captured",
            )
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            raise _invalid("The amount must be a positive integer.", "amount")
        if amount > payment["amount"] - payment["amount_refunded"]:
            raise _invalid(
                "The refund amount provided is greater than amount captured",
                None,
                reason="refund_amount_exceeds_captured",
            )
        refund = self._new_refund(
            account, payment, amount, _notes(body.get("notes")), body.get("receipt")
        )
        if key is not None:
            account.refund_keys[key] = refund["id"]
        self._emit("refund.created", payment=payment, refund=refund)
        if refund["status"] == "processed":
            self._emit("refund.processed", payment=payment, refund=refund)
        return refund

    def _payment_refunds(
        self,
        account: _Account,
        ids: tuple[str, ...],
        query: dict[str, list[str]],
        _body: Json,
        _headers: dict[str, str],
    ) -> Json:
        self._payment_or_raise(account, ids[0])
        refunds = [r for r in account.refunds.values() if r["payment_id"] == ids[0]]
        return _collection(
            sorted(refunds, key=lambda r: (r["created_at"], r["id"]), reverse=True), query
        )

    def _payment_refund(
        self,
        account: _Account,
        ids: tuple[str, ...],
        _query: dict[str, list[str]],
        _body: Json,
        _headers: dict[str, str],
    ) -> Json:
        refund = account.refunds.get(ids[1])
        if refund is None or refund["payment_id"] != ids[0]:
            raise _missing_id()
        return refund

    def _fetch_refund(
        self,
        account: _Account,
        ids: tuple[str, ...],
        _query: dict[str, list[str]],
        _body: Json,
        _headers: dict[str, str],
    ) -> Json:
        refund = account.refunds.get(ids[0])
        if refund is None:
            raise _missing_id()
        return refund

    # -- state changes -------------------------------------------------------------------------

    @staticmethod
    def _payment_or_raise(account: _Account, payment_id: str) -> Json:
        payment = account.payments.get(payment_id)
        if payment is None:
            raise _missing_id()
        return payment

    def _payment_view(self, account: _Account, payment: Json, query: dict[str, list[str]]) -> Json:
        if "card" not in query.get("expand[]", []):
            return payment
        token = account.tokens[payment["id"]]
        return {
            **payment,
            "card": {
                "id": payment["card_id"],
                "entity": "card",
                "name": "Test Customer",
                "last4": token.last4,
                "network": token.network,
                "type": token.card_type,
                "issuer": None,
                "international": token.international,
                "emi": False,
                "sub_type": "consumer",
            },
        }

    def _authorize(self, account: _Account, payment: Json) -> None:
        payment["status"] = "authorized"
        self._emit("payment.authorized", payment=payment)
        if account.orders[payment["order_id"]]["status"] == "paid":
            # Razorpay auto-refunds, at once, a payment authorized on an order another payment
            # has paid meanwhile (razorpay.com/docs/payments/refunds/auto-refunds).
            refund = self._new_refund(account, payment, payment["amount"], {}, None)
            self._emit("refund.processed", payment=payment, refund=refund)
        elif account.auto_capture[payment["order_id"]]:
            self._settle_capture(account, payment)

    def _settle_capture(self, account: _Account, payment: Json) -> None:
        payment["status"] = "captured"
        payment["captured"] = True
        order = account.orders[payment["order_id"]]
        order["status"] = "paid"
        order["amount_paid"] = order["amount"]
        order["amount_due"] = 0
        self._emit("payment.captured", payment=payment)
        self._emit("order.paid", payment=payment, order=order)

    def _fail(self, payment: Json, failure: FailureSpec) -> None:
        payment.update(
            status="failed",
            error_code=failure.code,
            error_description=failure.description,
            error_source=failure.source,
            error_step=failure.step,
            error_reason=failure.reason,
        )
        self._emit("payment.failed", payment=payment)

    def _finish_challenge(self, account: _Account, payment_id: str, succeed: bool) -> Json:
        payment = account.payments.get(payment_id)
        if payment is None:
            raise KeyError(payment_id)
        if payment["status"] != "created":
            raise ValueError(f"{payment_id} is {payment['status']}: no challenge pending")
        token = account.tokens[payment_id]
        if succeed and token.behaviour is Behaviour.CHALLENGE:
            self._authorize(account, payment)
        else:
            self._fail(payment, AUTHENTICATION_FAILED)
        return payment

    def _new_refund(
        self, account: _Account, payment: Json, amount: int, notes: Json, receipt: object
    ) -> Json:
        refund: Json = {
            "id": _new_id("rfnd_"),
            "entity": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "payment_id": payment["id"],
            "notes": notes,
            "receipt": receipt if isinstance(receipt, str) else None,
            "acquirer_data": {},
            "created_at": _now(),
            "batch_id": None,
            "status": self.refund_status if payment["captured"] else "processed",
            "speed_processed": "normal",
            "speed_requested": "normal",
        }
        account.refunds[refund["id"]] = refund
        payment["amount_refunded"] += amount
        full = payment["amount_refunded"] >= payment["amount"]
        payment["refund_status"] = "full" if full else "partial"
        if full:
            payment["status"] = "refunded"
        return refund

    # -- the 3-D Secure page -------------------------------------------------------------------

    def challenge_page(
        self, payment_id: str, outcome: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for the page; outcome None shows the buttons."""
        with self._lock:
            found = [
                (a, a.payments[payment_id])
                for a in self._accounts.values()
                if payment_id in a.payments
            ]
            if not found:
                return 404, {}, _page("Not found", "<p>No such payment.</p>")
            account, payment = found[0]
            if outcome is None:
                if payment["status"] != "created":
                    return (
                        200,
                        {},
                        _page(
                            "Authentication finished",
                            f"<p>Payment is {html.escape(payment['status'])}</p>",
                        ),
                    )
                form = (
                    "<form method='post'>"
                    "<button name='outcome' value='succeed'>Succeed</button> "
                    "<button name='outcome' value='fail'>Fail</button></form>"
                )
                summary = (
                    f"<p>Payment <code>{html.escape(payment_id)}</code>: "
                    f"{payment['amount']} {html.escape(payment['currency'])}</p>"
                )
                return 200, {}, _page("Razorpay test bank: 3-D Secure", summary + form)
            if outcome not in ("succeed", "fail"):
                return 400, {}, _page("Bad request", "<p>outcome must be succeed or fail</p>")
            try:
                payment = self._finish_challenge(account, payment_id, outcome == "succeed")
            except ValueError as error:
                return 409, {}, _page("Not pending", f"<p>{html.escape(str(error))}</p>")
            callback = account.callbacks.get(payment_id)
            if not callback:
                return (
                    200,
                    {},
                    _page(
                        "Authentication finished",
                        f"<p>Payment is {html.escape(payment['status'])}</p>",
                    ),
                )
            params = {"razorpay_payment_id": payment_id, "razorpay_order_id": payment["order_id"]}
            if payment["status"] != "failed":
                message = f"{payment['order_id']}|{payment_id}".encode()
                params["razorpay_signature"] = hmac.new(
                    account.key_secret.encode(), message, hashlib.sha256
                ).hexdigest()
            separator = "&" if urlsplit(callback).query else "?"
            return 303, {"Location": callback + separator + urlencode(params)}, b""

    # -- webhooks ------------------------------------------------------------------------------

    def _emit(
        self,
        event: str,
        *,
        payment: Json | None = None,
        refund: Json | None = None,
        order: Json | None = None,
    ) -> None:
        if self.webhook_url is None:
            return
        body = self.event_body(event, payment=payment, refund=refund, order=order)
        self._webhooks.put((event, _new_id("evt_"), body))

    def _send_webhooks(self) -> None:
        while (item := self._webhooks.get()) is not None:
            event, event_id, body = item
            signature = self.sign(body)
            request = urllib.request.Request(
                str(self.webhook_url),
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "X-Razorpay-Signature": signature,
                    "X-Razorpay-Event-Id": event_id,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    delivery = WebhookDelivery(event, event_id, body, signature, response.status)
            except Exception as error:  # a receiver's failure is recorded, not raised
                delivery = WebhookDelivery(event, event_id, body, signature, None, repr(error))
            with self._lock:
                self._deliveries.append(delivery)


def _only(body: Json, allowed: frozenset[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise _invalid(
            f"{', '.join(extra)} is/are not required and should not be sent",
            extra[0],
            reason="extra_fields_sent",
        )


def _notes(value: object) -> Json:
    if value is None or value == []:
        return {}
    if not isinstance(value, dict) or len(value) > NOTES_MAX_KEYS:
        raise _invalid("notes must be a map of at most 15 keys", "notes")
    for key, note in value.items():
        if not isinstance(note, str | int | float) or len(str(note)) > NOTE_MAX_CHARS:
            raise _invalid(f"notes.{key} must be at most 256 characters", "notes")
    return dict(value)


def _collection(items: list[Json], query: dict[str, list[str]]) -> Json:
    try:
        count = min(int(query.get("count", ["10"])[0]), 100)
        skip = int(query.get("skip", ["0"])[0])
    except ValueError as error:
        raise _invalid("count and skip must be integers", "count") from error
    page = items[skip : skip + count]
    return {"entity": "collection", "count": len(page), "items": page}


def _payment_error(payment: Json, failure: FailureSpec) -> ApiError:
    return ApiError(
        failure.http_status,
        failure.description,
        code=failure.code,
        source=failure.source,
        step=failure.step,
        reason=failure.reason,
        metadata={"payment_id": payment["id"], "order_id": payment["order_id"]},
    )


def _page(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


_Handler = Callable[
    [RazorpayFake, _Account, tuple[str, ...], dict[str, list[str]], Json, dict[str, str]], Json
]
_ID = r"([A-Za-z0-9_]+)"
_ROUTES: list[tuple[str, re.Pattern[str], _Handler]] = [
    ("POST", re.compile(r"/v1/orders"), RazorpayFake._create_order),
    ("GET", re.compile(r"/v1/orders"), RazorpayFake._list_orders),
    ("GET", re.compile(rf"/v1/orders/{_ID}"), RazorpayFake._fetch_order),
    ("GET", re.compile(rf"/v1/orders/{_ID}/payments"), RazorpayFake._order_payments),
    ("POST", re.compile(r"/v1/payments/create/json"), RazorpayFake._create_payment),
    ("GET", re.compile(rf"/v1/payments/{_ID}"), RazorpayFake._fetch_payment),
    ("PATCH", re.compile(rf"/v1/payments/{_ID}"), RazorpayFake._edit_payment),
    ("POST", re.compile(rf"/v1/payments/{_ID}/capture"), RazorpayFake._capture),
    ("POST", re.compile(rf"/v1/payments/{_ID}/refund"), RazorpayFake._refund),
    ("GET", re.compile(rf"/v1/payments/{_ID}/refunds"), RazorpayFake._payment_refunds),
    ("GET", re.compile(rf"/v1/payments/{_ID}/refunds/{_ID}"), RazorpayFake._payment_refund),
    ("GET", re.compile(rf"/v1/refunds/{_ID}"), RazorpayFake._fetch_refund),
]
_PAGE = re.compile(rf"/(?:_fake/authenticate/{_ID}|v1/payments/{_ID}/authenticate)/?")
_MAX_BODY = 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: RazorpayFake) -> None:
        self.fake = fake
        super().__init__(address, _RequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeRazorpay/1"
    # HTTP/1.0: one request per connection, so a closed port is refused at once afterwards.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        raw = self.rfile.read(length) if 0 < length <= _MAX_BODY else b""
        page = _PAGE.fullmatch(url.path)
        if page is not None:
            self._page(page.group(1) or page.group(2), method, query, raw)
            return
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        try:
            key_id = fake.authenticate_key(self.headers.get("Authorization"))
        except ApiError as error:
            fake.record(RecordedRequest(method, url.path, query, headers, raw, ""))
            self._json(error.http_status, error.body)
            return
        fake.record(RecordedRequest(method, url.path, query, headers, raw, key_id))
        fault = fake.take_fault(method, url.path)
        if fault is not None and self._refuse(fault):
            return
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise _invalid("The request body must be a JSON object.")
            if fault is not None and fault.kind is FaultKind.DELAY:
                time.sleep(fault.delay_s)
            result = fake.dispatch(method, url.path, query, body, headers, key_id)
        except ApiError as error:
            self._json(error.http_status, error.body)
            return
        except ValueError:
            invalid = _invalid("The request body is not valid JSON.")
            self._json(invalid.http_status, invalid.body)
            return
        if fault is not None and fault.kind is FaultKind.SUCCEED_THEN_500:
            self._server_error()
            return
        self._json(200, result)

    def _refuse(self, fault: _Fault) -> bool:
        """Answers a fault that does nothing; False when the work is to be done."""
        match fault.kind:
            case FaultKind.SERVER_ERROR:
                self._server_error()
            case FaultKind.GATEWAY_ERROR:
                self._json(
                    502,
                    ApiError(
                        502,
                        "Gateway request failed. Please try again.",
                        code="GATEWAY_ERROR",
                        source="gateway",
                        reason="NA",
                    ).body,
                )
            case FaultKind.HTML_502:
                self._send(
                    502,
                    "text/html",
                    b"<html><head><title>502 Bad Gateway</title>"
                    b"</head><body><center><h1>502 Bad Gateway</h1>"
                    b"</center></body></html>",
                )
            case FaultKind.RATE_LIMITED:
                self._json(429, ApiError(429, "Too many requests", source="NA", reason="NA").body)
            case _:
                return False
        return True

    def _server_error(self) -> None:
        self._json(
            500,
            ApiError(
                500,
                "The server encountered an error. The incident has been reported to admins.",
                code="SERVER_ERROR",
                source="NA",
                reason="NA",
            ).body,
        )

    def _page(self, payment_id: str, method: str, query: dict[str, list[str]], raw: bytes) -> None:
        outcome = query.get("outcome", [None])[0]
        if method == "POST" and outcome is None:
            outcome = parse_qs(raw.decode("utf-8", "replace")).get("outcome", [""])[0]
        status, headers, body = self.server.fake.challenge_page(payment_id, outcome)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: Json) -> None:
        self._send(status, "application/json; charset=utf-8", json.dumps(body).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        # A client that timed out (DELAY fault) has gone: nobody to answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(HTTPStatus(status))
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log is `RazorpayFake.requests`
