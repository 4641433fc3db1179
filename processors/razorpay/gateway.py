"""The payment operations against Razorpay, through the official SDK (synchronous: they run in
the servicer's worker threads, one call per thread, under the call's `CallBudget`).

Authorize = find or create the attempt's order (keys.py), find its payment or make the S2S
card payment with the saved-card token, then read the payment back. Every failure leaves here
as `GatewayAnswer` (an error Razorpay answered, with its structured body) or `AdapterError`
(already classified, see errors.py).

Capture is the adapter's, always. Razorpay orders are created with `payment_capture: 0`, and
for CAPTURE_METHOD_AUTOMATIC the adapter captures the payment itself as soon as it sees it
authorized: in Authorize, and in any later Authorize or GetPayment (how PayLoops follows a 3-D
Secure challenge). Until then the payment reads PENDING. Letting Razorpay capture by itself
would make a challenge impossible to release: Razorpay has no void, and once the customer
completes it the money would be taken whatever PayLoops decided. Done this way, a Void marks
the payment (see `void`) and nobody ever captures it; Razorpay releases the authorization.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import razorpay
import requests
from razorpay.errors import (
    BadRequestError,
    GatewayError,
    ServerError,
)

from payloops.processor.v1 import processor_pb2
from processors.razorpay.currencies import CURRENCIES, razorpay_amount
from processors.razorpay.errors import AdapterError, GatewayAnswer, Step, from_transport
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
    NOTE_VOID_KEY,
    NOTES_MAX_KEYS,
    PAYLOOPS_NOTES,
    order_receipt,
    refund_idempotency_key,
)
from processors.razorpay.mapping import (
    is_captured,
    is_voided,
    manual_capture,
    notes_of,
    outcome_of,
    payment_message,
    refund_message,
)
from processors.razorpay.transport import (
    GatewayErrorBody,
    TransportFailure,
    TransportKind,
    classify,
    current_budget,
)

log = logging.getLogger(__name__)

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
# Four PayLoops notes on every order and payment, one kept free for a void.
_METADATA_NOTES = NOTES_MAX_KEYS - 5
# A refund key embeds the attempt key when PayLoops' orchestrator builds it
# ("{attempt_key}:refund[:n]"); this many ":"-prefixes are tried to find its payment.
_MAX_KEY_PREFIXES = 6
# How far along a payment is (money taken first, a released authorization after a live one);
# the furthest speaks for an attempt with several payments.
_PROGRESS = {"authorized": 4, "created": 3, "refunded": 2, "failed": 1}


class BoundedMap:
    """A small thread-safe LRU map for what one adapter process remembers (never required
    for correctness: a restarted or another instance finds everything at Razorpay)."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class KeyedThreadLocks:
    """Per-key locks for worker threads: a payment's void and the adapter's own automatic
    capture must not interleave (read, decide, write) within this process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class RedirectBook:
    """Where a payment waiting for 3-D Secure sends the customer: the `redirect` URL from the
    create answer when this process made the payment, otherwise the hosted authentication
    page Razorpay's redirects lead to, on the API's host (`/v1/payments/{id}/authenticate`),
    since a payment entity read later does not carry `next`."""

    def __init__(self, api_base: str) -> None:
        self._api_base = api_base.rstrip("/")
        self._urls = BoundedMap()

    def remember(self, payment_id: str, url: str) -> None:
        self._urls.put(payment_id, url)

    def url_for(self, payment_id: str) -> str:
        return (
            self._urls.get(payment_id) or f"{self._api_base}/v1/payments/{payment_id}/authenticate"
        )


def _require(value: str, name: str) -> str:
    if not value:
        raise AdapterError.invalid(f"{name.upper()}_REQUIRED", f"{name} is required")
    if len(value) > KEY_MAX_CHARS:
        raise AdapterError.invalid(
            f"{name.upper()}_TOO_LONG", f"{name} may have at most {KEY_MAX_CHARS} characters"
        )
    return value


def _reference(value: str, prefix: str, name: str) -> str:
    if not value:
        raise AdapterError.invalid(f"{name.upper()}_REQUIRED", f"{name} is required")
    if not value.startswith(prefix) or not value[len(prefix) :].isalnum():
        raise AdapterError.invalid(
            f"{name.upper()}_INVALID", f"{name} must be a Razorpay id starting with {prefix!r}"
        )
    return value


def _sdk_error_body(error: Exception, default_status: int) -> GatewayErrorBody:
    budget = current_budget()
    body = budget.last_error if budget is not None else None
    return body or GatewayErrorBody(http_status=default_status, description=str(error))


def _api(step: Step, call: Callable[[], object], *, moves_money: bool = False) -> dict[str, Any]:
    """One SDK call, answered with a JSON object; its failure as GatewayAnswer (Razorpay
    answered an error) or AdapterError. `moves_money`: the request creates a payment, a
    capture or a refund; unless Razorpay provably did not act on it (not sent, or refused with
    a 4xx), the call's budget records that money may have moved."""
    budget = current_budget()
    if budget is not None:
        budget.last_error = None
    reached = True
    try:
        result = call()
    except TransportFailure as failure:
        reached = failure.kind is not TransportKind.NOT_SENT
        raise from_transport(failure, step) from failure
    except BadRequestError as error:
        reached = False  # refused (4xx): a payment it names failed, nothing moved
        raise GatewayAnswer("BadRequestError", _sdk_error_body(error, 400), step) from error
    except GatewayError as error:
        raise GatewayAnswer("GatewayError", _sdk_error_body(error, 502), step) from error
    except ServerError as error:
        raise GatewayAnswer("ServerError", _sdk_error_body(error, 500), step) from error
    except requests.RequestException as error:
        # The session turns these into TransportFailure; kept as a second net.
        kind = classify(error)
        reached = kind is not TransportKind.NOT_SENT
        raise from_transport(TransportFailure(kind, type(error).__name__), step) from error
    except ValueError as error:
        raise from_transport(
            TransportFailure(TransportKind.UNREADABLE, str(error)[:200]), step
        ) from error
    finally:
        if moves_money and reached and budget is not None:
            budget.money_request_sent = True
    if not isinstance(result, dict):
        raise from_transport(
            TransportFailure(TransportKind.UNREADABLE, "an answer that is not a JSON object"), step
        )
    return {str(k): v for k, v in result.items()}


def _items(collection: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = collection.get("items")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _furthest(payments: list[dict[str, Any]]) -> dict[str, Any]:
    def progress(payment: dict[str, Any]) -> int:
        return 5 if is_captured(payment) else _PROGRESS.get(str(payment.get("status")), 0)

    return max(
        payments, key=lambda p: (progress(p), int(p.get("created_at") or 0), str(p.get("id")))
    )


def _awaits_automatic_capture(payment: Mapping[str, Any]) -> bool:
    return (
        payment.get("status") == "authorized"
        and not is_captured(payment)
        and not is_voided(payment)
        and not manual_capture(payment)
    )


def _merchant_notes(metadata: Mapping[str, str]) -> dict[str, str]:
    notes: dict[str, str] = {}
    for key in sorted(metadata):
        if len(notes) == _METADATA_NOTES:
            break
        if key in PAYMENT_FIELDS_FROM_METADATA or key in PAYLOOPS_NOTES:
            continue
        notes[key[:NOTE_MAX_CHARS]] = metadata[key][:NOTE_MAX_CHARS]
    return notes


class Gateway:
    """The operations of one gRPC call, for one merchant's Razorpay account."""

    def __init__(
        self,
        client: razorpay.Client,
        redirects: RedirectBook,
        refund_payments: BoundedMap,
        payment_locks: KeyedThreadLocks,
    ) -> None:
        self._client = client
        self._redirects = redirects
        self._refund_payments = refund_payments  # refund key -> payment id
        self._payment_locks = payment_locks

    # -- reads -----------------------------------------------------------------------------

    def _orders_for(self, attempt_key: str) -> list[dict[str, Any]]:
        """The attempt's orders (normally one), oldest first."""
        receipt = order_receipt(attempt_key)
        found = _api(Step.READ, lambda: self._client.order.all({"receipt": receipt, "count": 100}))
        orders = [
            o
            for o in _items(found)
            if o.get("receipt") == receipt and notes_of(o).get(NOTE_ATTEMPT_KEY) == attempt_key
        ]
        return sorted(orders, key=lambda o: (int(o.get("created_at") or 0), str(o.get("id"))))

    def _payments_of(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        payments: list[dict[str, Any]] = []
        for order in orders:
            payments += self._order_payments(str(order["id"]))
        return payments

    def _order_payments(self, order_id: str) -> list[dict[str, Any]]:
        return _items(_api(Step.READ, lambda: self._client.order.payments(order_id, {})))

    def _fetch_payment(self, payment_id: str) -> dict[str, Any]:
        return _api(Step.READ, lambda: self._client.payment.fetch(payment_id, {"expand[]": "card"}))

    def _payment_or_not_found(self, payment_id: str) -> dict[str, Any]:
        try:
            return self._fetch_payment(payment_id)
        except GatewayAnswer as answer:
            if answer.says_missing:
                raise AdapterError.not_found(
                    "PAYMENT_NOT_FOUND", f"Razorpay has no payment {payment_id}"
                ) from answer
            raise

    def _refunds_of(self, payment_id: str) -> list[dict[str, Any]]:
        return _items(
            _api(
                Step.READ,
                lambda: self._client.payment.fetch_multiple_refund(payment_id, {"count": 100}),
            )
        )

    def _refund_with_key(self, payment_id: str, refund_key: str) -> dict[str, Any] | None:
        for refund in self._refunds_of(payment_id):
            if notes_of(refund).get(NOTE_REFUND_KEY) == refund_key:
                return refund
        return None

    def _message(self, payment: Mapping[str, Any]) -> processor_pb2.Payment:
        return payment_message(payment, redirect_url=self._redirects.url_for(str(payment["id"])))

    def _settled(self, payment: dict[str, Any]) -> processor_pb2.Payment:
        """The payment as PayLoops sees it, after capturing it when PayLoops asked for an
        automatic capture and it is authorized (see the module doc)."""
        if not _awaits_automatic_capture(payment):
            return self._message(payment)
        payment_id = str(payment["id"])
        with self._payment_locks.hold(payment_id):
            # Read again under the lock: a void may have just been recorded.
            current = self._fetch_payment(payment_id)
            if not _awaits_automatic_capture(current):
                return self._message(current)
            try:
                captured = _api(
                    Step.STATE_CHANGE,
                    lambda: self._client.payment.capture(
                        payment_id, current["amount"], {"currency": current["currency"]}
                    ),
                    moves_money=True,
                )
            except (GatewayAnswer, AdapterError) as error:
                # Still authorized as far as we know (PENDING): the next look tries again,
                # and a capture that did happen shows then.
                log.warning("razorpay automatic capture of %s not confirmed: %s", payment_id, error)
                return self._message(current)
        return self._message({**captured, "card": current.get("card")})

    # -- Authorize -------------------------------------------------------------------------

    def authorize(self, request: processor_pb2.AuthorizeRequest) -> processor_pb2.Payment:
        attempt_key = _require(request.attempt_key, "attempt_key")
        if request.amount <= 0:
            raise AdapterError.invalid("AMOUNT_NOT_POSITIVE", "amount must be positive")
        currency = request.currency.upper()
        amount = razorpay_amount(request.amount, currency)
        method = request.payment_method
        if method.type not in ("", "card"):
            raise AdapterError.invalid(
                "PAYMENT_METHOD_NOT_SUPPORTED", "this adapter takes card tokens only"
            )
        if not method.token:
            raise AdapterError.invalid(
                "PAYMENT_METHOD_TOKEN_REQUIRED", "payment_method.token is required"
            )
        capture = (
            CAPTURE_MANUAL
            if request.capture_method == processor_pb2.CAPTURE_METHOD_MANUAL
            else CAPTURE_AUTOMATIC
        )

        orders = self._orders_for(attempt_key)
        for order in orders:
            same = (
                order.get("amount"),
                str(order.get("currency")).upper(),
                notes_of(order).get(NOTE_CAPTURE),
            ) == (amount, currency, capture)
            if not same:
                raise AdapterError.invalid(
                    "IDEMPOTENCY_KEY_REUSED",
                    "this attempt_key was used with another amount, currency or capture method",
                )
        payments = self._payments_of(orders)
        if payments:
            # A retry: the first call's payment, whatever became of it. Never pay twice.
            return self._settled(self._fetch_payment(str(_furthest(payments)["id"])))
        order = orders[0] if orders else self._create_order(request, amount, currency, capture)
        return self._pay(order, request, capture)

    def _notes(self, request: processor_pb2.AuthorizeRequest, capture: str) -> dict[str, str]:
        return {
            **_merchant_notes(request.metadata),
            NOTE_ATTEMPT_KEY: request.attempt_key,
            NOTE_ORDER_ID: request.order_id[:NOTE_MAX_CHARS],
            NOTE_MERCHANT_ID: request.merchant_id[:NOTE_MAX_CHARS],
            NOTE_CAPTURE: capture,
        }

    def _create_order(
        self, request: processor_pb2.AuthorizeRequest, amount: int, currency: str, capture: str
    ) -> dict[str, Any]:
        body = {
            "amount": amount,
            "currency": currency,
            "receipt": order_receipt(request.attempt_key),
            "notes": self._notes(request, capture),
            # The adapter captures (module doc); the intent is in the notes.
            "payment_capture": 0,
        }
        order = _api(Step.CREATE, lambda: self._client.order.create(body))
        if notes_of(order).get(NOTE_ATTEMPT_KEY) != request.attempt_key:
            raise AdapterError.invalid(
                "RECEIPT_COLLISION",
                f"Razorpay returned order {order.get('id')} of another "
                "attempt for this attempt's receipt",
            )
        return order

    def _pay(
        self, order: Mapping[str, Any], request: processor_pb2.AuthorizeRequest, capture: str
    ) -> processor_pb2.Payment:
        body: dict[str, Any] = {
            "amount": order["amount"],
            "currency": order["currency"],
            "order_id": order["id"],
            "method": "card",
            "token": request.payment_method.token,
            "notes": self._notes(request, capture),
        }
        for key, field in PAYMENT_FIELDS_FROM_METADATA.items():
            if request.metadata.get(key):
                body[field] = request.metadata[key]
        if request.return_url:
            body["callback_url"] = request.return_url
        if request.description:
            body["description"] = request.description[:255]
        try:
            created = _api(
                Step.CREATE, lambda: self._client.payment.createPaymentJson(body), moves_money=True
            )
        except GatewayAnswer as answer:
            if not answer.payment_id:
                raise
            # A payment that failed (a decline) is reported on the payment itself: read it.
            return self._settled(self._fetch_payment(answer.payment_id))
        payment_id = str(created.get("razorpay_payment_id") or "")
        if not payment_id:
            raise from_transport(
                TransportFailure(TransportKind.UNREADABLE, "no razorpay_payment_id in the answer"),
                Step.CREATE,
            )
        actions = created.get("next")
        for action in actions if isinstance(actions, list) else []:
            if (
                isinstance(action, dict)
                and action.get("action") == "redirect"
                and action.get("url")
            ):
                self._redirects.remember(payment_id, str(action["url"]))
                break
        return self._settled(self._fetch_payment(payment_id))

    # -- Capture and Void ------------------------------------------------------------------

    def capture(self, request: processor_pb2.CaptureRequest) -> processor_pb2.Payment:
        _require(request.capture_key, "capture_key")
        reference = _reference(request.processor_reference, "pay_", "processor_reference")
        if request.amount < 0:
            raise AdapterError.invalid("AMOUNT_NEGATIVE", "amount must be >= 0 (0 means all)")
        payment = self._payment_or_not_found(reference)
        authorized = int(payment.get("amount") or 0)
        wanted = request.amount or authorized
        if is_captured(payment):
            if wanted == authorized:
                return self._message(payment)  # captured already: Razorpay captures once, whole
            raise AdapterError.failed_precondition(
                "PAYMENT_ALREADY_CAPTURED", "the payment was captured in full already"
            )
        if wanted < authorized:
            raise AdapterError.invalid(
                "PARTIAL_CAPTURE_NOT_SUPPORTED",
                f"Razorpay captures only the whole authorized amount ({authorized}); "
                "capture it in full and refund the difference",
            )
        if wanted > authorized:
            raise AdapterError.invalid(
                "AMOUNT_EXCEEDS_AUTHORIZED", f"the payment authorized only {authorized}"
            )
        self._require_capturable(payment)
        try:
            captured = _api(
                Step.STATE_CHANGE,
                lambda: self._client.payment.capture(
                    reference, authorized, {"currency": payment["currency"]}
                ),
                moves_money=True,
            )
        except GatewayAnswer as answer:
            if not answer.is_bad_request:
                raise
            # Captured meanwhile (a retry whose first answer was lost, or Razorpay's own
            # automatic capture)? Then this capture is done.
            current = self._fetch_payment(reference)
            if is_captured(current):
                return self._message(current)
            raise
        return self._message({**captured, "card": payment.get("card")})

    @staticmethod
    def _require_capturable(payment: Mapping[str, Any]) -> None:
        if is_voided(payment):
            raise AdapterError.failed_precondition(
                "PAYMENT_VOIDED", "the payment was voided; it cannot be captured"
            )
        status = payment.get("status")
        if status != "authorized":
            raise AdapterError.failed_precondition(
                "PAYMENT_NOT_AUTHORIZED",
                f"only an authorized payment can be captured; this one is {status}",
            )

    def void(self, request: processor_pb2.VoidRequest) -> processor_pb2.Payment:
        """Razorpay cannot release an authorization on request: refunds take only captured
        payments, and an authorization nobody captures is released by Razorpay itself after
        the capture timeout (3 days by default; razorpay.com/docs/api/refunds, "Refunds Can be
        Made Only on Captured Payments"; /docs/payments/refunds/auto-refunds). So a void
        records the decision on the payment (`notes.payloops_void_key`, through
        `PATCH /v1/payments/{id}`) and reports CANCELED from then on: the adapter never
        captures a marked payment (neither Capture nor its own automatic capture), nothing is
        taken, and Razorpay releases the hold by itself (the payment then shows `refunded` with
        `captured: false`, still CANCELED here). The same goes for a payment still waiting for
        its 3-D Secure challenge: should the customer finish it anyway, the authorization is
        left to expire. The customer's bank shows the hold until then; that is Razorpay's
        limit, not a charge.
        """
        void_key = _require(request.void_key, "void_key")
        reference = _reference(request.processor_reference, "pay_", "processor_reference")
        with self._payment_locks.hold(reference):
            payment = self._payment_or_not_found(reference)
            outcome = outcome_of(payment)
            if outcome == processor_pb2.OUTCOME_CANCELED:
                return self._message(payment)
            if outcome == processor_pb2.OUTCOME_SUCCEEDED:
                raise AdapterError.failed_precondition(
                    "PAYMENT_CAPTURED", "the payment is captured; refund it instead"
                )
            if outcome == processor_pb2.OUTCOME_DECLINED:
                raise AdapterError.failed_precondition(
                    "PAYMENT_DECLINED", "a declined payment holds nothing to void"
                )
            if payment.get("status") not in ("authorized", "created"):
                raise AdapterError.failed_precondition(
                    "PAYMENT_NOT_VOIDABLE", f"a {payment.get('status')} payment cannot be voided"
                )
            notes = {**notes_of(payment), NOTE_VOID_KEY: void_key}
            edited = _api(
                Step.STATE_CHANGE, lambda: self._client.payment.edit(reference, {"notes": notes})
            )
        # Money taken wins over the mark: were it captured outside PayLoops meanwhile, this
        # says SUCCEEDED and PayLoops refunds it.
        return self._message({**edited, "card": payment.get("card")})

    # -- Refund ----------------------------------------------------------------------------

    def refund(self, request: processor_pb2.RefundRequest) -> processor_pb2.Refund:
        refund_key = _require(request.refund_key, "refund_key")
        reference = _reference(request.processor_reference, "pay_", "processor_reference")
        if request.amount < 0:
            raise AdapterError.invalid("AMOUNT_NEGATIVE", "amount must be >= 0 (0 means all)")
        payment = self._payment_or_not_found(reference)
        existing = self._refund_with_key(reference, refund_key)
        if existing is not None:
            if request.amount and existing.get("amount") != request.amount:
                raise AdapterError.invalid(
                    "IDEMPOTENCY_KEY_REUSED", "this refund_key was used for another amount"
                )
            self._refund_payments.put(refund_key, reference)
            return refund_message(existing)
        if not is_captured(payment):
            raise AdapterError.failed_precondition(
                "PAYMENT_NOT_CAPTURED",
                "only a captured payment can be refunded (Razorpay "
                "releases an uncaptured authorization by itself)",
            )
        remaining = int(payment.get("amount") or 0) - int(payment.get("amount_refunded") or 0)
        amount = request.amount or remaining
        if remaining <= 0:
            raise AdapterError.failed_precondition(
                "PAYMENT_FULLY_REFUNDED", "the payment is refunded in full already"
            )
        if amount > remaining:
            raise AdapterError.failed_precondition(
                "REFUND_EXCEEDS_CAPTURED",
                f"{amount} is more than what is left to refund ({remaining})",
            )
        rule = CURRENCIES.get(str(payment.get("currency")).upper())
        if rule is not None and amount % rule.step:
            raise AdapterError.invalid(
                "AMOUNT_NOT_ACCEPTED", f"amounts must be in steps of {rule.step} minor units"
            )
        idempotency = refund_idempotency_key(refund_key)
        notes = {NOTE_REFUND_KEY: refund_key}
        if request.reason:
            notes[NOTE_REFUND_REASON] = request.reason[:NOTE_MAX_CHARS]
        body = {"amount": amount, "notes": notes, "receipt": idempotency}
        try:
            refund = _api(
                Step.STATE_CHANGE,
                lambda: self._client.payment.refund(
                    reference, body, headers={"X-Refund-Idempotency": idempotency}
                ),
                moves_money=True,
            )
        except GatewayAnswer as answer:
            if not answer.is_bad_request:
                raise
            # Made meanwhile under this key (a retry whose first answer was lost)?
            made = self._refund_with_key(reference, refund_key)
            if made is None:
                raise
            refund = made
        self._refund_payments.put(refund_key, reference)
        return refund_message(refund)

    # -- lookups ---------------------------------------------------------------------------

    def payment_by_reference(self, reference: str) -> processor_pb2.Payment:
        return self._settled(
            self._payment_or_not_found(_reference(reference, "pay_", "processor_reference"))
        )

    def payment_by_attempt_key(self, attempt_key: str) -> processor_pb2.Payment:
        orders = self._orders_for(_require(attempt_key, "attempt_key"))
        payments = self._payments_of(orders)
        if not payments:
            # No order with this attempt's receipt, or an order nobody paid: Razorpay never
            # saw a payment for this attempt.
            raise AdapterError.not_found(
                "PAYMENT_NOT_FOUND", "Razorpay has no payment for this attempt_key"
            )
        return self._settled(self._fetch_payment(str(_furthest(payments)["id"])))

    def refund_by_reference(self, reference: str) -> processor_pb2.Refund:
        reference = _reference(reference, "rfnd_", "processor_reference")
        try:
            refund = _api(Step.READ, lambda: self._client.refund.fetch(reference, {}))
        except GatewayAnswer as answer:
            if answer.says_missing:
                raise AdapterError.not_found(
                    "REFUND_NOT_FOUND", f"Razorpay has no refund {reference}"
                ) from answer
            raise
        return refund_message(refund)

    def refund_by_key(self, refund_key: str) -> processor_pb2.Refund:
        """Razorpay cannot search refunds by anything of PayLoops', so the refund is looked
        for among the refunds of the payments it can belong to: the payment this process
        refunded under the key, or the payments of the attempt whose key the refund key
        starts with (PayLoops builds refund keys as "{attempt_key}:…"). NOT_FOUND when none
        of them has it. For a key that names no payment either way the answer is NOT_FOUND as
        well, which stays safe: Refund with that key checks the payment's refunds and sends
        X-Refund-Idempotency, so it cannot refund twice."""
        _require(refund_key, "refund_key")
        known = self._refund_payments.get(refund_key)
        candidates = [known] if known else self._payments_for_key_prefixes(refund_key)
        for payment_id in candidates:
            refund = self._refund_with_key(payment_id, refund_key)
            if refund is not None:
                return refund_message(refund)
        raise AdapterError.not_found(
            "REFUND_NOT_FOUND", "Razorpay has no refund made with this refund_key"
        )

    def _payments_for_key_prefixes(self, key: str) -> list[str]:
        parts = key.split(":")
        for end in range(len(parts) - 1, max(0, len(parts) - 1 - _MAX_KEY_PREFIXES), -1):
            payments = self._payments_of(self._orders_for(":".join(parts[:end])))
            if payments:
                return [str(p["id"]) for p in payments]
        return []
