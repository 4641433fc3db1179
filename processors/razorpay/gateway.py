"""The payment operations against Razorpay, through the official SDK (synchronous: they run in
the servicer's worker threads, one call per thread, under the call's `CallBudget`).

Authorize = find or create the attempt's order (keys.py), find its payment or make the S2S
card payment with the saved-card token, then read the payment back. Every failure leaves here
as `GatewayAnswer` (an error Razorpay answered, with its structured body) or ProcessorError
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
from collections.abc import Mapping
from typing import Any

import razorpay

from payloops.processor.v1 import processor_pb2
from processors.kit.bounded import BoundedMap
from processors.kit.checks import non_negative
from processors.kit.errors import ProcessorError, failed_precondition, invalid, not_found
from processors.kit.locks import KeyedThreadLocks
from processors.razorpay import lookup, params
from processors.razorpay.client import call
from processors.razorpay.currencies import CURRENCIES
from processors.razorpay.errors import GatewayAnswer, Step, from_transport
from processors.razorpay.keys import (
    NOTE_ATTEMPT_KEY,
    NOTE_CAPTURE,
    NOTE_VOID_KEY,
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
from processors.razorpay.redirects import RedirectBook
from processors.razorpay.transport import TransportFailure, TransportKind

log = logging.getLogger(__name__)

Entity = Mapping[str, Any]


def _awaits_automatic_capture(payment: Entity) -> bool:
    return (
        payment.get("status") == "authorized"
        and not is_captured(payment)
        and not is_voided(payment)
        and not manual_capture(payment)
    )


class Gateway:
    """The operations of one gRPC call, for one merchant's Razorpay account."""

    def __init__(
        self,
        client: razorpay.Client,
        redirects: RedirectBook,
        refund_payments: BoundedMap[str, str],
        payment_locks: KeyedThreadLocks,
    ) -> None:
        self._client = client
        self._redirects = redirects
        self._refund_payments = refund_payments  # refund key -> payment id
        self._payment_locks = payment_locks

    def _message(self, payment: Entity) -> processor_pb2.Payment:
        return payment_message(payment, redirect_url=self._redirects.url_for(str(payment["id"])))

    def _settled(self, payment: Entity) -> processor_pb2.Payment:
        """The payment as PayLoops sees it, after capturing it when PayLoops asked for an
        automatic capture and it is authorized (see the module doc)."""
        if not _awaits_automatic_capture(payment):
            return self._message(payment)
        payment_id = str(payment["id"])
        with self._payment_locks.hold(payment_id):
            # Read again under the lock: a void may have just been recorded.
            current = lookup.fetch_payment(self._client, payment_id)
            if not _awaits_automatic_capture(current):
                return self._message(current)
            try:
                captured = call(
                    Step.STATE_CHANGE,
                    lambda: self._client.payment.capture(
                        payment_id, current["amount"], {"currency": current["currency"]}
                    ),
                    moves_money=True,
                )
            except (GatewayAnswer, ProcessorError) as error:
                # Still authorized as far as we know (PENDING): the next look tries again,
                # and a capture that did happen shows then.
                log.warning("razorpay automatic capture of %s not confirmed: %s", payment_id, error)
                return self._message(current)
        return self._message({**captured, "card": current.get("card")})

    # -- Authorize -------------------------------------------------------------------------

    def authorize(self, request: processor_pb2.AuthorizeRequest) -> processor_pb2.Payment:
        attempt = params.attempt(request)
        orders = lookup.orders_for(self._client, attempt.key)
        for order in orders:
            same = (
                order.get("amount"),
                str(order.get("currency")).upper(),
                notes_of(order).get(NOTE_CAPTURE),
            ) == (attempt.amount, attempt.currency, attempt.capture)
            if not same:
                raise invalid(
                    "IDEMPOTENCY_KEY_REUSED",
                    "this attempt_key was used with another amount, currency or capture method",
                )
        payments = lookup.payments_of(self._client, orders)
        if payments:
            # A retry: the first call's payment, whatever became of it. Never pay twice.
            return self._settled(
                lookup.fetch_payment(self._client, str(lookup.furthest(payments)["id"]))
            )
        order = orders[0] if orders else self._create_order(request, attempt)
        return self._pay(order, request, attempt.capture)

    def _create_order(
        self, request: processor_pb2.AuthorizeRequest, attempt: params.Attempt
    ) -> dict[str, Any]:
        body = {
            "amount": attempt.amount,
            "currency": attempt.currency,
            "receipt": order_receipt(attempt.key),
            "notes": params.attempt_notes(request, attempt.capture),
            # The adapter captures (module doc); the intent is in the notes.
            "payment_capture": 0,
        }
        order = call(Step.CREATE, lambda: self._client.order.create(body))
        if notes_of(order).get(NOTE_ATTEMPT_KEY) != attempt.key:
            raise invalid(
                "RECEIPT_COLLISION",
                f"Razorpay returned order {order.get('id')} of another "
                "attempt for this attempt's receipt",
            )
        return order

    def _pay(
        self, order: Entity, request: processor_pb2.AuthorizeRequest, capture: str
    ) -> processor_pb2.Payment:
        # The request's initiator and network_transaction_id are not sent, and no payment
        # reports a network transaction id: Razorpay's payments API has no field for either
        # (its recurring card payments charge its own mandate tokens instead), so a
        # merchant-initiated payment is this same S2S card payment.
        body: dict[str, Any] = {
            "amount": order["amount"],
            "currency": order["currency"],
            "order_id": order["id"],
            "method": "card",
            **params.payment_method(request.payment_method),
            "notes": params.attempt_notes(request, capture),
            **params.payment_fields(request),
        }
        try:
            created = call(
                Step.CREATE, lambda: self._client.payment.createPaymentJson(body), moves_money=True
            )
        except GatewayAnswer as answer:
            if not answer.payment_id:
                raise
            # A payment that failed (a decline) is reported on the payment itself: read it.
            return self._settled(lookup.fetch_payment(self._client, answer.payment_id))
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
        return self._settled(lookup.fetch_payment(self._client, payment_id))

    # -- Capture and Void ------------------------------------------------------------------

    def capture(self, request: processor_pb2.CaptureRequest) -> processor_pb2.Payment:
        params.key(request.capture_key, "capture_key")
        reference = params.reference(request.processor_reference, "pay_")
        non_negative(request.amount)
        payment = lookup.payment_or_not_found(self._client, reference)
        authorized = int(payment.get("amount") or 0)
        wanted = request.amount or authorized
        if is_captured(payment):
            if wanted == authorized:
                return self._message(payment)  # captured already: Razorpay captures once, whole
            raise failed_precondition(
                "PAYMENT_ALREADY_CAPTURED", "the payment was captured in full already"
            )
        if wanted < authorized:
            raise invalid(
                "PARTIAL_CAPTURE_NOT_SUPPORTED",
                f"Razorpay captures only the whole authorized amount ({authorized}); "
                "capture it in full and refund the difference",
            )
        if wanted > authorized:
            raise invalid("AMOUNT_EXCEEDS_AUTHORIZED", f"the payment authorized only {authorized}")
        _require_capturable(payment)
        try:
            captured = call(
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
            current = lookup.fetch_payment(self._client, reference)
            if is_captured(current):
                return self._message(current)
            raise
        return self._message({**captured, "card": payment.get("card")})

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
        void_key = params.key(request.void_key, "void_key")
        reference = params.reference(request.processor_reference, "pay_")
        with self._payment_locks.hold(reference):
            payment = lookup.payment_or_not_found(self._client, reference)
            _require_voidable(payment)
            if outcome_of(payment) == processor_pb2.OUTCOME_CANCELED:
                return self._message(payment)
            notes = {**notes_of(payment), NOTE_VOID_KEY: void_key}
            edited = call(
                Step.STATE_CHANGE, lambda: self._client.payment.edit(reference, {"notes": notes})
            )
        # Money taken wins over the mark: were it captured outside PayLoops meanwhile, this
        # says SUCCEEDED and PayLoops refunds it.
        return self._message({**edited, "card": payment.get("card")})

    # -- Refund ----------------------------------------------------------------------------

    def refund(self, request: processor_pb2.RefundRequest) -> processor_pb2.Refund:
        refund_key = params.key(request.refund_key, "refund_key")
        reference = params.reference(request.processor_reference, "pay_")
        non_negative(request.amount)
        payment = lookup.payment_or_not_found(self._client, reference)
        existing = lookup.refund_with_key(self._client, reference, refund_key)
        if existing is not None:
            if request.amount and existing.get("amount") != request.amount:
                raise invalid(
                    "IDEMPOTENCY_KEY_REUSED", "this refund_key was used for another amount"
                )
            self._refund_payments.put(refund_key, reference)
            return refund_message(existing)
        amount = _refundable(payment, request.amount)
        idempotency = refund_idempotency_key(refund_key)
        body = {
            "amount": amount,
            "notes": params.refund_notes(refund_key, request.reason),
            "receipt": idempotency,
        }
        try:
            refund = call(
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
            made = lookup.refund_with_key(self._client, reference, refund_key)
            if made is None:
                raise
            refund = made
        self._refund_payments.put(refund_key, reference)
        return refund_message(refund)

    # -- lookups ---------------------------------------------------------------------------

    def payment_by_reference(self, reference: str) -> processor_pb2.Payment:
        payment_id = params.reference(reference, "pay_")
        return self._settled(lookup.payment_or_not_found(self._client, payment_id))

    def payment_by_attempt_key(self, attempt_key: str) -> processor_pb2.Payment:
        orders = lookup.orders_for(self._client, params.key(attempt_key, "attempt_key"))
        payments = lookup.payments_of(self._client, orders)
        if not payments:
            # No order with this attempt's receipt, or an order nobody paid: Razorpay never
            # saw a payment for this attempt.
            raise not_found("PAYMENT_NOT_FOUND", "Razorpay has no payment for this attempt_key")
        furthest = lookup.furthest(payments)
        return self._settled(lookup.fetch_payment(self._client, str(furthest["id"])))

    def refund_by_reference(self, reference: str) -> processor_pb2.Refund:
        refund_id = params.reference(reference, "rfnd_")
        return refund_message(lookup.refund_by_reference(self._client, refund_id))

    def refund_by_key(self, refund_key: str) -> processor_pb2.Refund:
        """Razorpay cannot search refunds by anything of PayLoops', so the refund is looked
        for among the refunds of the payments it can belong to: the payment this process
        refunded under the key, or the payments of the attempt whose key the refund key
        starts with (PayLoops builds refund keys as "{attempt_key}:…"). NOT_FOUND when none
        of them has it. For a key that names no payment either way the answer is NOT_FOUND as
        well, which stays safe: Refund with that key checks the payment's refunds and sends
        X-Refund-Idempotency, so it cannot refund twice."""
        params.key(refund_key, "refund_key")
        known = self._refund_payments.get(refund_key)
        candidates = (
            [known] if known else lookup.payments_for_key_prefixes(self._client, refund_key)
        )
        for payment_id in candidates:
            refund = lookup.refund_with_key(self._client, payment_id, refund_key)
            if refund is not None:
                return refund_message(refund)
        raise not_found("REFUND_NOT_FOUND", "Razorpay has no refund made with this refund_key")


def _require_capturable(payment: Entity) -> None:
    if is_voided(payment):
        raise failed_precondition("PAYMENT_VOIDED", "the payment was voided; it cannot be captured")
    status = payment.get("status")
    if status != "authorized":
        raise failed_precondition(
            "PAYMENT_NOT_AUTHORIZED",
            f"only an authorized payment can be captured; this one is {status}",
        )


def _require_voidable(payment: Entity) -> None:
    """Refuses a void that would change nothing it may change; a CANCELED payment passes (a
    repeated void answers it as it is)."""
    outcome = outcome_of(payment)
    if outcome == processor_pb2.OUTCOME_CANCELED:
        return
    if outcome == processor_pb2.OUTCOME_SUCCEEDED:
        raise failed_precondition("PAYMENT_CAPTURED", "the payment is captured; refund it instead")
    if outcome == processor_pb2.OUTCOME_DECLINED:
        raise failed_precondition("PAYMENT_DECLINED", "a declined payment holds nothing to void")
    if payment.get("status") not in ("authorized", "created"):
        raise failed_precondition(
            "PAYMENT_NOT_VOIDABLE", f"a {payment.get('status')} payment cannot be voided"
        )


def _refundable(payment: Entity, requested: int) -> int:
    """The amount to refund (`requested`, or all that remains for 0), checked against what the
    payment has left and Razorpay's amount rules."""
    if not is_captured(payment):
        raise failed_precondition(
            "PAYMENT_NOT_CAPTURED",
            "only a captured payment can be refunded (Razorpay "
            "releases an uncaptured authorization by itself)",
        )
    remaining = int(payment.get("amount") or 0) - int(payment.get("amount_refunded") or 0)
    amount = requested or remaining
    if remaining <= 0:
        raise failed_precondition(
            "PAYMENT_FULLY_REFUNDED", "the payment is refunded in full already"
        )
    if amount > remaining:
        raise failed_precondition(
            "REFUND_EXCEEDS_CAPTURED",
            f"{amount} is more than what is left to refund ({remaining})",
        )
    rule = CURRENCIES.get(str(payment.get("currency")).upper())
    if rule is not None and amount % rule.step:
        raise invalid("AMOUNT_NOT_ACCEPTED", f"amounts must be in steps of {rule.step} minor units")
    return amount
