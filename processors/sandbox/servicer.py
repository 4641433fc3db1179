"""The sandbox's Processor servicer (payloops.processor.v1.Processor, grpc.aio).

It translates between protobuf and the ledger, which owns every rule, and applies injected
faults around the six payment RPCs. Refusals are the kit's ProcessorError, raised by the ledger
or the checks in params.py and sent by the kit's interceptor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from processors.kit.capabilities import advertised
from processors.kit.checks import lookup_required, non_negative, required
from processors.kit.errors import ProcessorError, not_sent
from processors.sandbox import params, webhooks
from processors.sandbox.faults import FaultMode, Faults
from processors.sandbox.ledger import Ledger, PaymentRecord, RefundRecord
from processors.sandbox.mapping import payment_message, refund_message
from processors.sandbox.payment_methods import CARD_NETWORKS, TEST_METHODS, TOKEN_PREFIXES

_T = TypeVar("_T")
Context = grpc.aio.ServicerContext[Any, Any]


class ProcessorServicer(processor_pb2_grpc.ProcessorServicer):
    def __init__(self, name: str, ledger: Ledger, faults: Faults, page_base_url: str) -> None:
        self._name = name
        self._ledger = ledger
        self._faults = faults
        # http://127.0.0.1:{http_port}; the challenge URL is built when a payment is rendered,
        # so a restarted sandbox on another port hands out working links for old payments.
        self._page_base_url = page_base_url.rstrip("/")

    def challenge_url(self, reference: str) -> str:
        return f"{self._page_base_url}/3ds/{reference}"

    def _payment(self, p: PaymentRecord) -> processor_pb2.Payment:
        return payment_message(p, challenge_url=self.challenge_url(p.reference))

    async def _call(self, operation: Callable[[], _T], *, mutating: bool) -> _T:
        """Runs one payment operation with whatever fault is armed."""
        fault = self._faults.take(mutating=mutating)
        if fault is not None:
            match fault.mode:
                case FaultMode.HANG:
                    # Wait for the caller's deadline: grpc.aio cancels this handler's task
                    # when the call ends, so nothing outlives it.
                    await asyncio.Event().wait()
                case FaultMode.UNAVAILABLE:
                    raise not_sent("sandbox fault: unavailable, request not processed")
                case FaultMode.LATENCY:
                    await asyncio.sleep(fault.latency_ms / 1000)
        result = operation()
        if fault is not None and fault.mode is FaultMode.ERROR_AFTER_CHARGE:
            raise ProcessorError(
                grpc.StatusCode.INTERNAL,
                "GATEWAY_ERROR",
                "sandbox fault: operation performed, then failed",
            )
        return result

    # -- RPCs ------------------------------------------------------------------------------

    async def GetCapabilities(
        self, request: processor_pb2.GetCapabilitiesRequest, context: Context
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
            test_payment_methods=advertised(TEST_METHODS),
            # Its test tokens, and the raw test card numbers (payment_methods.py) as they come
            # from the PayLoops vault.
            accepts_raw_cards=True,
            token_prefixes=list(TOKEN_PREFIXES),
        )

    async def Authorize(
        self, request: processor_pb2.AuthorizeRequest, context: Context
    ) -> processor_pb2.AuthorizeResponse:
        def authorize() -> PaymentRecord:
            return self._ledger.authorize(*params.authorize_input(request))

        payment = await self._call(authorize, mutating=True)
        return processor_pb2.AuthorizeResponse(payment=self._payment(payment))

    async def Capture(
        self, request: processor_pb2.CaptureRequest, context: Context
    ) -> processor_pb2.CaptureResponse:
        def capture() -> PaymentRecord:
            return self._ledger.capture(
                required(request.capture_key, "capture_key"),
                required(request.processor_reference, "processor_reference"),
                non_negative(request.amount),
            )

        payment = await self._call(capture, mutating=True)
        return processor_pb2.CaptureResponse(payment=self._payment(payment))

    async def Void(
        self, request: processor_pb2.VoidRequest, context: Context
    ) -> processor_pb2.VoidResponse:
        def void() -> PaymentRecord:
            return self._ledger.void(
                required(request.void_key, "void_key"),
                required(request.processor_reference, "processor_reference"),
            )

        payment = await self._call(void, mutating=True)
        return processor_pb2.VoidResponse(payment=self._payment(payment))

    async def Refund(
        self, request: processor_pb2.RefundRequest, context: Context
    ) -> processor_pb2.RefundResponse:
        def refund() -> RefundRecord:
            return self._ledger.refund(
                required(request.refund_key, "refund_key"),
                required(request.processor_reference, "processor_reference"),
                non_negative(request.amount),
            )

        record = await self._call(refund, mutating=True)
        return processor_pb2.RefundResponse(refund=refund_message(record))

    async def GetPayment(
        self, request: processor_pb2.GetPaymentRequest, context: Context
    ) -> processor_pb2.GetPaymentResponse:
        def get() -> PaymentRecord:
            match request.WhichOneof("lookup"):
                case "attempt_key" if request.attempt_key:
                    return self._ledger.payment_by_attempt_key(request.attempt_key)
                case "processor_reference" if request.processor_reference:
                    return self._ledger.payment_by_reference(request.processor_reference)
            raise lookup_required("attempt_key", "processor_reference")

        payment = await self._call(get, mutating=False)
        return processor_pb2.GetPaymentResponse(payment=self._payment(payment))

    async def GetRefund(
        self, request: processor_pb2.GetRefundRequest, context: Context
    ) -> processor_pb2.GetRefundResponse:
        def get() -> RefundRecord:
            match request.WhichOneof("lookup"):
                case "refund_key" if request.refund_key:
                    return self._ledger.refund_by_key(request.refund_key)
                case "processor_reference" if request.processor_reference:
                    return self._ledger.refund_by_reference(request.processor_reference)
            raise lookup_required("refund_key", "processor_reference")

        record = await self._call(get, mutating=False)
        return processor_pb2.GetRefundResponse(refund=refund_message(record))

    async def ParseWebhook(
        self, request: processor_pb2.ParseWebhookRequest, context: Context
    ) -> processor_pb2.ParseWebhookResponse:
        return webhooks.parse(request, self._ledger, self._payment)
