"""The Razorpay adapter's Processor servicer (payloops.processor.v1.Processor, grpc.aio).

The SDK is synchronous, so every gateway operation runs in a bounded thread pool, never on
the event loop, inside a `CallBudget` set from the gRPC deadline (each HTTP request's timeout is
cut to what is left of it, so a thread outlives its call by little). Mutating calls on one key
(the attempt for Authorize, the payment for Capture/Void/Refund) are serialized per process,
and the key stays held until the thread is done even when the caller gave up: a retry must
not look for the first call's payment while that call is still making it.

Errors: the gateway code raises the kit's ProcessorError or a GatewayAnswer, turned into one
here; the kit's interceptor sends it as google.rpc.Status. Credentials are read from the
request for the one call and never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc

from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from processors.kit.bounded import BoundedMap
from processors.kit.capabilities import advertised
from processors.kit.checks import lookup_required, required
from processors.kit.errors import ProcessorError, unknown_after_money_request
from processors.kit.locks import KeyedLocks, KeyedThreadLocks
from processors.razorpay import params, webhooks
from processors.razorpay.client import CREDENTIAL_FIELDS, ClientFactory, Credentials
from processors.razorpay.currencies import CURRENCIES
from processors.razorpay.errors import GatewayAnswer
from processors.razorpay.gateway import Gateway
from processors.razorpay.payment_methods import TEST_METHODS
from processors.razorpay.redirects import RedirectBook
from processors.razorpay.transport import CallBudget, call_budget

log = logging.getLogger(__name__)

_T = TypeVar("_T")
Context = grpc.aio.ServicerContext[Any, Any]
# Answer this much before the caller's deadline, so the answer arrives while it still listens.
_DEADLINE_MARGIN_S = 0.05
CARD_NETWORKS: tuple[str, ...] = ("visa", "mastercard", "rupay")
# Refund keys whose payment this process refunded (GetRefund by key looks there first).
_REMEMBERED_REFUNDS = 10_000


class RazorpayServicer(processor_pb2_grpc.ProcessorServicer):
    def __init__(self, name: str, clients: ClientFactory, pool: ThreadPoolExecutor) -> None:
        self._name = name
        self._clients = clients
        self._pool = pool
        self._locks = KeyedLocks()
        self._redirects = RedirectBook(clients.api_base)
        self._refund_payments: BoundedMap[str, str] = BoundedMap(_REMEMBERED_REFUNDS)
        self._payment_locks = KeyedThreadLocks()

    async def _run(
        self,
        context: Context,
        credentials: processor_pb2.Credentials,
        operation: Callable[[Gateway], _T],
        lock_key: Hashable | None = None,
    ) -> _T:
        account = Credentials.for_api(credentials)
        remaining = context.time_remaining()
        deadline = (
            None
            if remaining is None
            else time.monotonic() + max(0.0, remaining - _DEADLINE_MARGIN_S)
        )

        def work() -> _T:
            with call_budget(CallBudget(deadline)) as budget:
                gateway = Gateway(
                    self._clients.client(account),
                    self._redirects,
                    self._refund_payments,
                    self._payment_locks,
                )
                try:
                    return operation(gateway)
                except (GatewayAnswer, ProcessorError) as failure:
                    error = failure.to_error() if isinstance(failure, GatewayAnswer) else failure
                    if budget.money_request_sent:
                        error = unknown_after_money_request(error)
                    if error is failure:
                        raise
                    raise error from failure

        loop = asyncio.get_running_loop()
        release = None
        if lock_key is not None:
            release = await self._locks.acquire((account.key_id, lock_key))
        future = self._pool.submit(work)
        try:
            return await asyncio.wrap_future(future)
        finally:
            if release is not None:
                if future.done():
                    release()
                else:
                    future.add_done_callback(lambda _: _call_soon(loop, release))

    # -- RPCs --------------------------------------------------------------------------------

    async def GetCapabilities(
        self,
        request: processor_pb2.GetCapabilitiesRequest,
        context: Context,
    ) -> processor_pb2.GetCapabilitiesResponse:
        return processor_pb2.GetCapabilitiesResponse(
            name=self._name,
            currencies=list(CURRENCIES),
            card_networks=list(CARD_NETWORKS),
            manual_capture=True,
            partial_capture=False,
            partial_refund=True,
            three_d_secure=True,
            test_payment_methods=advertised(TEST_METHODS),
            credential_fields=list(CREDENTIAL_FIELDS),
            # Card details go to Razorpay's S2S payment as `card` (params.py).
            accepts_raw_cards=True,
            token_prefixes=list(params.TOKEN_PREFIXES),
        )

    async def Authorize(
        self, request: processor_pb2.AuthorizeRequest, context: Context
    ) -> processor_pb2.AuthorizeResponse:
        required(request.attempt_key, "attempt_key")
        payment = await self._run(
            context,
            request.credentials,
            lambda g: g.authorize(request),
            lock_key=("attempt", request.attempt_key),
        )
        log.info(
            "razorpay authorize attempt=%s payment=%s outcome=%s",
            request.attempt_key,
            payment.processor_reference,
            processor_pb2.Outcome.Name(payment.outcome),
        )
        return processor_pb2.AuthorizeResponse(payment=payment)

    async def Capture(
        self, request: processor_pb2.CaptureRequest, context: Context
    ) -> processor_pb2.CaptureResponse:
        payment = await self._run(
            context,
            request.credentials,
            lambda g: g.capture(request),
            lock_key=("payment", request.processor_reference),
        )
        return processor_pb2.CaptureResponse(payment=payment)

    async def Void(
        self, request: processor_pb2.VoidRequest, context: Context
    ) -> processor_pb2.VoidResponse:
        payment = await self._run(
            context,
            request.credentials,
            lambda g: g.void(request),
            lock_key=("payment", request.processor_reference),
        )
        return processor_pb2.VoidResponse(payment=payment)

    async def Refund(
        self, request: processor_pb2.RefundRequest, context: Context
    ) -> processor_pb2.RefundResponse:
        refund = await self._run(
            context,
            request.credentials,
            lambda g: g.refund(request),
            lock_key=("payment", request.processor_reference),
        )
        return processor_pb2.RefundResponse(refund=refund)

    async def GetPayment(
        self, request: processor_pb2.GetPaymentRequest, context: Context
    ) -> processor_pb2.GetPaymentResponse:
        match request.WhichOneof("lookup"):
            case "attempt_key" if request.attempt_key:
                key = request.attempt_key
                payment = await self._run(
                    context, request.credentials, lambda g: g.payment_by_attempt_key(key)
                )
            case "processor_reference" if request.processor_reference:
                reference = request.processor_reference
                payment = await self._run(
                    context, request.credentials, lambda g: g.payment_by_reference(reference)
                )
            case _:
                raise lookup_required("attempt_key", "processor_reference")
        return processor_pb2.GetPaymentResponse(payment=payment)

    async def GetRefund(
        self, request: processor_pb2.GetRefundRequest, context: Context
    ) -> processor_pb2.GetRefundResponse:
        match request.WhichOneof("lookup"):
            case "refund_key" if request.refund_key:
                key = request.refund_key
                refund = await self._run(
                    context, request.credentials, lambda g: g.refund_by_key(key)
                )
            case "processor_reference" if request.processor_reference:
                reference = request.processor_reference
                refund = await self._run(
                    context, request.credentials, lambda g: g.refund_by_reference(reference)
                )
            case _:
                raise lookup_required("refund_key", "processor_reference")
        return processor_pb2.GetRefundResponse(refund=refund)

    async def ParseWebhook(
        self,
        request: processor_pb2.ParseWebhookRequest,
        context: Context,
    ) -> processor_pb2.ParseWebhookResponse:
        # An HMAC over a small body and a JSON parse: cheap enough for the event loop.
        return webhooks.parse(request, self._redirects.url_for)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    # The loop may be closed when a thread outlives the server's shutdown.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)
