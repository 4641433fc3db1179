"""The sandbox's Processor servicer (payloops.processor.v1.Processor, grpc.aio).

It translates between protobuf and the ledger, which owns every rule, and applies injected
faults around the six payment RPCs.

Webhooks: the sandbox does not send any yet, but ParseWebhook verifies them the way a real
adapter must, so the conformance kit and the edge can exercise it:
  * header `x-sandbox-signature` = lower-case hex HMAC-SHA256 of the raw body, keyed with the
    credentials value `webhook_secret` (see `sign_webhook`); anything else, including a missing
    secret, is UNAUTHENTICATED reason SIGNATURE_INVALID;
  * body = JSON `{"id": "evt_…", "type": "payment.<anything>" | "refund.<anything>",
    "processor_reference": "ch_…" | "re_…"}`; the response carries the object's current state.
    Other types are acknowledged as KIND_UNSPECIFIED.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from processors.sandbox.faults import Fault, FaultMode, Faults
from processors.sandbox.ledger import (
    AuthorizeInput,
    GatewayError,
    Ledger,
    Outcome,
    PaymentRecord,
    RefundRecord,
)
from processors.sandbox.payment_methods import (
    CARD_NETWORKS,
    DECLINE_CODES,
    TEST_CARDS,
    Behaviour,
)

DOMAIN = "sandbox.payloops.dev"
SIGNATURE_HEADER = "x-sandbox-signature"

_T = TypeVar("_T")
_CURRENCY = re.compile(r"[A-Z]{3}")

_OUTCOMES = {
    Outcome.SUCCEEDED: processor_pb2.OUTCOME_SUCCEEDED,
    Outcome.AUTHORIZED: processor_pb2.OUTCOME_AUTHORIZED,
    Outcome.REQUIRES_ACTION: processor_pb2.OUTCOME_REQUIRES_ACTION,
    Outcome.DECLINED: processor_pb2.OUTCOME_DECLINED,
    Outcome.CANCELED: processor_pb2.OUTCOME_CANCELED,
}
_TEST_OUTCOMES = {
    Behaviour.SUCCEED: processor_pb2.OUTCOME_SUCCEEDED,
    Behaviour.DECLINE: processor_pb2.OUTCOME_DECLINED,
    Behaviour.CHALLENGE: processor_pb2.OUTCOME_REQUIRES_ACTION,
    Behaviour.CHALLENGE_THEN_DECLINE: processor_pb2.OUTCOME_REQUIRES_ACTION,
}


async def abort(
    context: grpc.aio.ServicerContext[Any, Any], code: grpc.StatusCode, reason: str, message: str
) -> NoReturn:
    """Ends the RPC with a google.rpc.Status carrying an ErrorInfo (contract: stable reason)."""
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN))
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    await context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("abort_with_status returned")  # it raises; this satisfies NoReturn


def sign_webhook(secret: str, body: bytes) -> str:
    """The `x-sandbox-signature` header value for a webhook body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _invalid(reason: str, message: str) -> GatewayError:
    return GatewayError(grpc.StatusCode.INVALID_ARGUMENT, reason, message)


def _require(value: str, field: str) -> str:
    if not value:
        raise _invalid(f"{field.upper()}_REQUIRED", f"{field} is required")
    return value


def _non_negative(amount: int) -> int:
    if amount < 0:
        raise _invalid("AMOUNT_NEGATIVE", "amount must be >= 0 (0 means all)")
    return amount


class ProcessorServicer(processor_pb2_grpc.ProcessorServicer):
    def __init__(self, name: str, ledger: Ledger, faults: Faults, page_base_url: str) -> None:
        self._name = name
        self._ledger = ledger
        self._faults = faults
        # http://127.0.0.1:{http_port}; the challenge URL is built when a payment is rendered,
        # so a restarted sandbox on another port hands out working links for old payments.
        self._page_base_url = page_base_url.rstrip("/")

    # -- conversions -----------------------------------------------------------------------

    def challenge_url(self, reference: str) -> str:
        return f"{self._page_base_url}/3ds/{reference}"

    def _payment(self, p: PaymentRecord) -> processor_pb2.Payment:
        card = TEST_CARDS[p.token]
        msg = processor_pb2.Payment(
            attempt_key=p.attempt_key,
            processor_reference=p.reference,
            outcome=_OUTCOMES[p.outcome],
            amount=p.amount,
            currency=p.currency,
            amount_captured=p.amount_captured,
            amount_refunded=p.amount_refunded,
            card=processor_pb2.Card(
                network=card.network, funding=card.funding, country=card.country, last4=card.last4
            ),
        )
        if p.outcome is Outcome.DECLINED:
            decline = DECLINE_CODES[p.decline_code]
            msg.decline.CopyFrom(
                processor_pb2.Decline(
                    code=decline.code,
                    message=decline.message,
                    soft=decline.soft,
                    gateway_code=decline.code,
                )
            )
        if p.outcome is Outcome.REQUIRES_ACTION:
            msg.next_action.redirect_url = self.challenge_url(p.reference)
        return msg

    @staticmethod
    def _refund(r: RefundRecord) -> processor_pb2.Refund:
        return processor_pb2.Refund(
            refund_key=r.refund_key,
            processor_reference=r.reference,
            payment_reference=r.payment_reference,
            amount=r.amount,
            currency=r.currency,
            status=processor_pb2.Refund.STATUS_SUCCEEDED,
        )

    # -- fault handling --------------------------------------------------------------------

    async def _call(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        operation: Callable[[], _T],
        *,
        mutating: bool,
    ) -> _T:
        """Runs one payment operation with whatever fault is armed."""
        fault: Fault | None = self._faults.take(mutating=mutating)
        if fault is not None:
            match fault.mode:
                case FaultMode.HANG:
                    # Wait for the caller's deadline: grpc.aio cancels this handler's task
                    # when the call ends, so nothing outlives it.
                    await asyncio.Event().wait()
                case FaultMode.UNAVAILABLE:
                    await abort(
                        context,
                        grpc.StatusCode.UNAVAILABLE,
                        "NOT_SENT",
                        "sandbox fault: unavailable, request not processed",
                    )
                case FaultMode.LATENCY:
                    await asyncio.sleep(fault.latency_ms / 1000)
        try:
            result = operation()
        except GatewayError as error:
            failure = error
        else:
            if fault is not None and fault.mode is FaultMode.ERROR_AFTER_CHARGE:
                await abort(
                    context,
                    grpc.StatusCode.INTERNAL,
                    "GATEWAY_ERROR",
                    "sandbox fault: operation performed, then failed",
                )
            return result
        await abort(context, failure.code, failure.reason, failure.message)

    # -- RPCs ------------------------------------------------------------------------------

    async def GetCapabilities(
        self,
        request: processor_pb2.GetCapabilitiesRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> processor_pb2.GetCapabilitiesResponse:
        return processor_pb2.GetCapabilitiesResponse(
            name=self._name,
            currencies=[],
            card_networks=list(CARD_NETWORKS),
            manual_capture=True,
            partial_capture=True,
            partial_refund=True,
            three_d_secure=True,
            # It only simulates payments: live routing must never reach it.
            test_only=True,
            test_payment_methods=[
                processor_pb2.TestPaymentMethod(
                    token=c.token,
                    outcome=_TEST_OUTCOMES[c.behaviour],
                    decline_code=c.decline_code,
                    description=c.description,
                )
                for c in TEST_CARDS.values()
            ],
        )

    async def Authorize(
        self, request: processor_pb2.AuthorizeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> processor_pb2.AuthorizeResponse:
        def authorize() -> PaymentRecord:
            _require(request.attempt_key, "attempt_key")
            if request.amount <= 0:
                raise _invalid("AMOUNT_NOT_POSITIVE", "amount must be positive")
            currency = request.currency.upper()
            if not _CURRENCY.fullmatch(currency):
                raise _invalid("CURRENCY_INVALID", "currency must be an ISO 4217 code")
            method = request.payment_method
            card = TEST_CARDS.get(method.token)
            if method.type not in ("", "card") or card is None:
                raise _invalid(
                    "UNKNOWN_PAYMENT_METHOD", f"unknown test payment method {method.token!r}"
                )
            return self._ledger.authorize(
                AuthorizeInput(
                    attempt_key=request.attempt_key,
                    order_id=request.order_id,
                    merchant_id=request.merchant_id,
                    amount=request.amount,
                    currency=currency,
                    manual_capture=request.capture_method == processor_pb2.CAPTURE_METHOD_MANUAL,
                    return_url=request.return_url,
                ),
                card,
            )

        payment = await self._call(context, authorize, mutating=True)
        return processor_pb2.AuthorizeResponse(payment=self._payment(payment))

    async def Capture(
        self, request: processor_pb2.CaptureRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> processor_pb2.CaptureResponse:
        def capture() -> PaymentRecord:
            return self._ledger.capture(
                _require(request.capture_key, "capture_key"),
                _require(request.processor_reference, "processor_reference"),
                _non_negative(request.amount),
            )

        payment = await self._call(context, capture, mutating=True)
        return processor_pb2.CaptureResponse(payment=self._payment(payment))

    async def Void(
        self, request: processor_pb2.VoidRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> processor_pb2.VoidResponse:
        def void() -> PaymentRecord:
            return self._ledger.void(
                _require(request.void_key, "void_key"),
                _require(request.processor_reference, "processor_reference"),
            )

        payment = await self._call(context, void, mutating=True)
        return processor_pb2.VoidResponse(payment=self._payment(payment))

    async def Refund(
        self, request: processor_pb2.RefundRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> processor_pb2.RefundResponse:
        def refund() -> RefundRecord:
            return self._ledger.refund(
                _require(request.refund_key, "refund_key"),
                _require(request.processor_reference, "processor_reference"),
                _non_negative(request.amount),
            )

        record = await self._call(context, refund, mutating=True)
        return processor_pb2.RefundResponse(refund=self._refund(record))

    async def GetPayment(
        self, request: processor_pb2.GetPaymentRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> processor_pb2.GetPaymentResponse:
        def get() -> PaymentRecord:
            match request.WhichOneof("lookup"):
                case "attempt_key" if request.attempt_key:
                    return self._ledger.payment_by_attempt_key(request.attempt_key)
                case "processor_reference" if request.processor_reference:
                    return self._ledger.payment_by_reference(request.processor_reference)
            raise _invalid("LOOKUP_REQUIRED", "set attempt_key or processor_reference")

        payment = await self._call(context, get, mutating=False)
        return processor_pb2.GetPaymentResponse(payment=self._payment(payment))

    async def GetRefund(
        self, request: processor_pb2.GetRefundRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> processor_pb2.GetRefundResponse:
        def get() -> RefundRecord:
            match request.WhichOneof("lookup"):
                case "refund_key" if request.refund_key:
                    return self._ledger.refund_by_key(request.refund_key)
                case "processor_reference" if request.processor_reference:
                    return self._ledger.refund_by_reference(request.processor_reference)
            raise _invalid("LOOKUP_REQUIRED", "set refund_key or processor_reference")

        record = await self._call(context, get, mutating=False)
        return processor_pb2.GetRefundResponse(refund=self._refund(record))

    async def ParseWebhook(
        self,
        request: processor_pb2.ParseWebhookRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> processor_pb2.ParseWebhookResponse:
        secret = request.credentials.values.get("webhook_secret", "")
        headers = {k.lower(): v for k, v in request.headers.items()}
        given = headers.get(SIGNATURE_HEADER, "").strip().lower()
        if not secret or not hmac.compare_digest(given, sign_webhook(secret, request.body)):
            await abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "SIGNATURE_INVALID",
                "webhook signature missing or invalid",
            )
        try:
            event = json.loads(request.body)
            event_id, event_type = str(event["id"]), str(event["type"])
            reference = str(event.get("processor_reference", ""))
        except (ValueError, TypeError, KeyError):
            await abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                "WEBHOOK_MALFORMED",
                "webhook body is not a sandbox event",
            )
        response = processor_pb2.ParseWebhookResponse(event_id=event_id, event_type=event_type)
        try:
            if event_type.startswith("payment."):
                response.kind = processor_pb2.ParseWebhookResponse.KIND_PAYMENT
                response.payment.CopyFrom(
                    self._payment(self._ledger.payment_by_reference(reference))
                )
            elif event_type.startswith("refund."):
                response.kind = processor_pb2.ParseWebhookResponse.KIND_REFUND
                response.refund.CopyFrom(self._refund(self._ledger.refund_by_reference(reference)))
        except GatewayError as error:
            failure = error
        else:
            return response
        await abort(context, failure.code, failure.reason, failure.message)
