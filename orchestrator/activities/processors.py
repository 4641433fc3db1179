"""Activities that call processor adapters over gRPC, with the processor's deadline, and classify
what comes back: a result, a call that was provably not sent, or an unknown outcome (which is
retried with the same attempt key, never treated as a failure).

A vaulted card (core/vaulted_cards.py) is read from the vault inside the Authorize activity, for
that one call, and goes to the processor as raw card data: it is never in a workflow payload,
an activity result, a log or an error message. Routing sends vaulted cards only to processors
that take card data (core/payment_method_tokens.py).

Provably not sent is either the adapter's own word (UNAVAILABLE with reason NOT_SENT) or a call
that was never started because no connection to the adapter could be made (a gateway that is
down): the payment then moves on at once, and the breaker counts it. Anything that fails after
the call started may have reached the gateway, so it is unknown. Only the first send of an
attempt key can be "not sent" (or settled by a refusal): a re-send's earlier send may have
charged."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core import metrics
from core.contracts.payment import PaymentMethod
from core.contracts.vocabulary import (
    CaptureMethod,
    FailureCode,
    GatewayOutcome,
    ProcessorCallError,
    RefundStatus,
)
from core.db import models
from core.processors import accounts as processor_accounts
from core.processors.channels import NotConnected, ProcessorChannels
from core.secrets import SecretBox
from core.vaulted_cards import CardData, CardSource, is_vaulted
from orchestrator.activities.types import (
    AuthorizeCall,
    CaptureCall,
    GatewayResult,
    LookupCall,
    RefundCall,
    RefundResult,
    Route,
    UndoCall,
)
from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc

log = logging.getLogger("payloops.worker.processors")

_OUTCOMES = {
    pb.OUTCOME_SUCCEEDED: GatewayOutcome.SUCCEEDED,
    pb.OUTCOME_AUTHORIZED: GatewayOutcome.AUTHORIZED,
    pb.OUTCOME_REQUIRES_ACTION: GatewayOutcome.REQUIRES_ACTION,
    pb.OUTCOME_DECLINED: GatewayOutcome.DECLINED,
    pb.OUTCOME_PENDING: GatewayOutcome.PENDING,
    pb.OUTCOME_CANCELED: GatewayOutcome.CANCELED,
}
_REFUND_STATUSES = {
    pb.Refund.STATUS_SUCCEEDED: RefundStatus.SUCCEEDED,
    pb.Refund.STATUS_FAILED: RefundStatus.FAILED,
}
# How the refund that undoes a charge ends, as the undo's outcome.
_UNDO_OUTCOMES = {
    RefundStatus.SUCCEEDED: GatewayOutcome.CANCELED,
    RefundStatus.PENDING: GatewayOutcome.PENDING,
    RefundStatus.FAILED: GatewayOutcome.FAILED,
}
# The ErrorInfo reason with which an adapter says a call never reached its gateway (the
# processor protocol's word, not PayLoops').
_ADAPTER_NOT_SENT = "NOT_SENT"
# The processor answered and nothing was charged: the request itself was refused.
_REJECTED = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


class ProcessorActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        channels: ProcessorChannels,
        cards: CardSource | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._channels = channels
        # None when no vault is configured: a vaulted card then fails its attempt, unsent.
        self._cards = cards

    async def _stub(
        self,
        route: Route,
        timeout_s: float,
        first_send: bool | None = None,
        route_is_fresh: bool = False,
    ) -> processor_pb2_grpc.ProcessorAsyncStub:
        """A stub with a connection to the route's adapter, where it listens now (unless the
        route was read from the registry by this very call: `route_is_fresh`). With none within
        `timeout_s`, no call was started now; that is NotSent only on the first send of this
        call's key (the activity's first try). A retry's earlier try may have reached the
        gateway before its worker died, so then it is OutcomeUnknown, resolved like any
        unknown outcome."""
        if first_send is None:
            first_send = activity.info().attempt == 1
        if not route_is_fresh:
            route = await self._where_it_listens_now(route)
        try:
            return await self._channels.connected_stub(
                route.target, timeout_s, route.tls, route.tls_ca_pem
            )
        except NotConnected as error:
            # Fixed text: the merchant sees it on the attempt, and the address is internal.
            if not first_send:
                raise ApplicationError(
                    "the processor could not be reached; an earlier try may have been sent",
                    type=ProcessorCallError.OUTCOME_UNKNOWN,
                ) from error
            raise ApplicationError(
                "the processor could not be reached: nothing was sent",
                type=ProcessorCallError.NOT_SENT,
            ) from error

    async def _where_it_listens_now(self, route: Route) -> Route:
        """The route with its adapter's registered address as it is now. The route in the
        workflow's history says where the adapter listened when the payment was routed; a
        capture, void, refund or re-send may come days later, after an operator moved the
        adapter and registered its new address: following the old one would fail the capture
        until the authorization expired. An adapter no longer registered keeps its recorded
        address (the money may still be there)."""
        async with self._sessions() as session:
            registered = await session.get(models.Processor, route.processor)
        if registered is None:
            return route
        return replace(
            route, target=registered.target, tls=registered.tls, tls_ca_pem=registered.tls_ca_pem
        )

    async def _credentials(self, route: Route) -> pb.Credentials:
        """The route's account credentials, opened for this one call."""
        if not route.account_id:
            return pb.Credentials(livemode=route.livemode)
        async with self._sessions() as session:
            values, livemode = await processor_accounts.credentials(
                session, self._box, route.account_id
            )
        if livemode != route.livemode:
            # Never: routing picks accounts of the payment's mode. Refuse rather than cross.
            raise ApplicationError(
                "processor account mode does not match the payment",
                type=ProcessorCallError.NOT_SENT,
                non_retryable=True,
            )
        return pb.Credentials(values=values, livemode=livemode)

    @activity.defn(name="authorize")
    async def authorize(self, call: AuthorizeCall) -> GatewayResult:
        return await self.send_authorize(call, first_send=activity.info().attempt == 1)

    async def send_authorize(
        self, call: AuthorizeCall, first_send: bool, route_is_fresh: bool = False
    ) -> GatewayResult:
        """Authorize; `first_send`: no earlier try can have sent this attempt key;
        `route_is_fresh`: the route was read from the registry by this very run.

        A re-send (not `first_send`: a retried activity, or the routing step's first call run
        again after its worker died) is settled only by an answer about the payment itself.
        "Not sent", a refusal or a card that could not be read speaks of this request alone,
        while the earlier one may have charged: the outcome is unknown, resolved by lookup."""
        try:
            result = await self._authorize_once(call, first_send, route_is_fresh)
        except ApplicationError as raised:
            if first_send or raised.type != ProcessorCallError.NOT_SENT:
                raise
            raise _resend_unknown() from raised
        if not first_send and result.outcome == GatewayOutcome.FAILED:
            raise _resend_unknown()
        return result

    async def _authorize_once(
        self, call: AuthorizeCall, first_send: bool, route_is_fresh: bool
    ) -> GatewayResult:
        payment, method = call.payment, call.payment_method
        try:
            sent_method = await self._payment_method(call, method, first_send)
        except _CardUnavailable as unavailable:
            return unavailable.result
        request = pb.AuthorizeRequest(
            attempt_key=call.attempt_key,
            order_id=payment.order_id,
            merchant_id=payment.merchant_id,
            amount=payment.amount,
            currency=payment.currency,
            capture_method=(
                pb.CAPTURE_METHOD_MANUAL
                if payment.capture_method == CaptureMethod.MANUAL
                else pb.CAPTURE_METHOD_AUTOMATIC
            ),
            payment_method=sent_method,
            return_url=payment.return_url,
            description=payment.description,
            metadata=payment.metadata,
            credentials=await self._credentials(call.route),
            initiator=pb.INITIATOR_MERCHANT if method.off_session else pb.INITIATOR_CUSTOMER,
            network_transaction_id=method.network_transaction_id if method.off_session else "",
        )
        started = time.monotonic()
        timeout_s = (call.deadline_ms or call.route.deadline_ms) / 1000
        # Unless the call ends otherwise (a cancelled activity stays so).
        outcome = GatewayOutcome.UNKNOWN
        try:
            stub = await self._stub(call.route, timeout_s, first_send, route_is_fresh)
            try:
                response = await stub.Authorize(request, timeout=_left(started, timeout_s))
            except grpc.aio.AioRpcError as error:
                result = _rejected_or_raise(error, started)
            else:
                result = _result(response.payment, started)
                await self._keep_network_transaction_id(method, response.payment)
            outcome = result.outcome
            return result
        except ApplicationError as raised:
            outcome = (
                GatewayOutcome.NOT_SENT
                if raised.type == ProcessorCallError.NOT_SENT
                else GatewayOutcome.UNKNOWN
            )
            raise
        finally:
            metrics.authorize_call(
                call.route.processor,
                outcome,
                time.monotonic() - started,
                amount=payment.amount,
                currency=payment.currency,
            )

    async def _keep_network_transaction_id(
        self, method: PaymentMethod, payment: pb.Payment
    ) -> None:
        """The first customer-present payment of a saved card gives its network transaction id
        to every later merchant-initiated one (at any gateway). Kept once: a later id never
        replaces it, so this is safe to repeat."""
        if method.off_session or not payment.network_transaction_id:
            return
        if not is_vaulted(method.token):
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(models.CustomerPaymentMethod)
                .where(
                    models.CustomerPaymentMethod.payment_method == method.token,
                    models.CustomerPaymentMethod.network_transaction_id == "",
                )
                .values(network_transaction_id=payment.network_transaction_id)
            )

    async def _payment_method(
        self, call: AuthorizeCall, method: PaymentMethod, first_send: bool
    ) -> pb.PaymentMethod:
        """The payment method as the processor gets it: the gateway's own token, or for a
        vaulted card, the card read from the vault for this call."""
        sent = pb.PaymentMethod(
            type=method.type,
            card=pb.Card(
                network=method.card.network,
                funding=method.card.funding,
                country=method.card.country,
            ),
        )
        if not is_vaulted(method.token):
            sent.token = method.token
            return sent
        card = await self._vaulted_card(call, method.token, first_send)
        sent.raw_card.CopyFrom(
            pb.RawCard(
                number=card.number,
                exp_month=card.exp_month,
                exp_year=card.exp_year,
                cvc=card.cvc,
                holder_name=card.holder_name,
            )
        )
        return sent

    async def _vaulted_card(self, call: AuthorizeCall, token: str, first_send: bool) -> CardData:
        if self._cards is None:
            raise _CardUnavailable(
                FailureCode.VAULT_UNAVAILABLE, "no card vault is configured: nothing was sent"
            )
        payment = call.payment
        try:
            return await self._cards.card_for(
                payment_method=token,
                merchant_id=payment.merchant_id,
                livemode=payment.livemode,
                processor=call.route.processor,
                attempt_key=call.attempt_key,
                # A re-send of this key is never a first authorization: its CVC went with
                # the first send.
                first_authorization=first_send,
            )
        except LookupError:
            raise _CardUnavailable(
                FailureCode.PAYMENT_METHOD_NOT_FOUND,
                "the vault has no such payment method for this merchant: nothing was sent",
            ) from None
        except Exception as error:
            # Whatever the vault client raised, no card came back and nothing was sent. Its
            # type only: a message could quote the request.
            log.warning("card vault failed for attempt %s: %s", call.attempt_key, type(error))
            raise _CardUnavailable(
                FailureCode.VAULT_UNAVAILABLE, "the card vault did not answer: nothing was sent"
            ) from None

    @activity.defn(name="get_payment")
    async def get_payment(self, call: LookupCall) -> GatewayResult:
        timeout_s = (call.deadline_ms or call.route.deadline_ms) / 1000
        request = pb.GetPaymentRequest(
            attempt_key=call.attempt_key, credentials=await self._credentials(call.route)
        )
        started = time.monotonic()
        stub = await self._stub(call.route, timeout_s)
        try:
            response = await stub.GetPayment(request, timeout=_left(started, timeout_s))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return GatewayResult(outcome=GatewayOutcome.NOT_FOUND)
            return _rejected_or_raise(error, started)
        return _result(response.payment, started)

    @activity.defn(name="void_payment")
    async def void_payment(self, call: UndoCall) -> GatewayResult:
        timeout_s = call.route.deadline_ms / 1000
        request = pb.VoidRequest(
            void_key=call.key,
            processor_reference=call.processor_reference,
            credentials=await self._credentials(call.route),
        )
        started = time.monotonic()
        stub = await self._stub(call.route, timeout_s)
        try:
            response = await stub.Void(request, timeout=_left(started, timeout_s))
        except grpc.aio.AioRpcError as error:
            return _rejected_or_raise(error, started)
        return _result(response.payment, started)

    @activity.defn(name="refund_payment")
    async def refund_payment(self, call: UndoCall) -> GatewayResult:
        """Refunds a whole charge that must not survive: outcome "canceled" once refunded,
        "pending" while the gateway works on it, "failed" with decline code "refund_failed"
        when that refund is final and failed (a new key is needed), or "failed" with the
        gateway's reason when it refused the request."""
        started = time.monotonic()
        result = await self.refund(
            RefundCall(
                route=call.route,
                key=call.key,
                processor_reference=call.processor_reference,
                amount=0,
                reason="duplicate charge undone by PayLoops",
            )
        )
        code = (
            ""
            if result.status != RefundStatus.FAILED
            else result.failure_code
            if result.refused
            else FailureCode.REFUND_FAILED
        )
        return GatewayResult(
            outcome=_UNDO_OUTCOMES[result.status],
            decline_code=code,
            processor_reference=call.processor_reference,
            latency_ms=_elapsed_ms(started),
        )

    @activity.defn(name="capture_payment")
    async def capture_payment(self, call: CaptureCall) -> GatewayResult:
        """Captures (part of) an authorization; a refusal is outcome "failed" with the
        processor's reason, a lost answer raises (retried with the same key)."""
        timeout_s = call.route.deadline_ms / 1000
        request = pb.CaptureRequest(
            capture_key=call.key,
            processor_reference=call.processor_reference,
            amount=call.amount,
            credentials=await self._credentials(call.route),
        )
        started = time.monotonic()
        stub = await self._stub(call.route, timeout_s)
        try:
            response = await stub.Capture(request, timeout=_left(started, timeout_s))
        except grpc.aio.AioRpcError as error:
            return _rejected_or_raise(error, started)
        return _result(response.payment, started)

    @activity.defn(name="refund")
    async def refund(self, call: RefundCall) -> RefundResult:
        """A merchant's refund under its key: the refund already made under it, or a new one.
        A refusal is a failed refund with the processor's reason; a lost answer raises."""
        timeout = call.route.deadline_ms / 1000
        credentials = await self._credentials(call.route)
        stub = await self._stub(call.route, timeout)
        try:
            refund = (
                await stub.GetRefund(
                    pb.GetRefundRequest(refund_key=call.key, credentials=credentials),
                    timeout=timeout,
                )
            ).refund
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                _raise_unless_refused(error)
                return RefundResult(
                    status=RefundStatus.FAILED,
                    failure_code=_refusal_code(error),
                    failure_message=error.details() or "",
                    refused=True,
                )
            try:
                refund = (
                    await stub.Refund(
                        pb.RefundRequest(
                            refund_key=call.key,
                            processor_reference=call.processor_reference,
                            amount=call.amount,
                            reason=call.reason,
                            credentials=credentials,
                        ),
                        timeout=timeout,
                    )
                ).refund
            except grpc.aio.AioRpcError as refused:
                _raise_unless_refused(refused)
                return RefundResult(
                    status=RefundStatus.FAILED,
                    failure_code=_refusal_code(refused),
                    failure_message=refused.details() or "",
                    refused=True,
                )
        return RefundResult(
            status=_REFUND_STATUSES.get(refund.status, RefundStatus.PENDING),
            failure_code=refund.failure_code,
            processor_reference=refund.processor_reference,
        )


class _CardUnavailable(Exception):
    """A vaulted card that could not be read: the attempt fails, unsent. FAILED, not NOT_SENT:
    the processor is not to blame, so its circuit breaker does not count it."""

    def __init__(self, code: FailureCode, message: str) -> None:
        super().__init__(message)
        self.result = GatewayResult(
            outcome=GatewayOutcome.FAILED, decline_code=code, decline_message=message
        )


def _resend_unknown() -> ApplicationError:
    # Fixed text: the merchant sees it on the attempt.
    return ApplicationError(
        "the re-sent request was not taken; an earlier send of this attempt may have charged",
        type=ProcessorCallError.OUTCOME_UNKNOWN,
    )


def _raise_unless_refused(error: grpc.aio.AioRpcError) -> None:
    """A refusal (the processor answered no) is a result; anything else is retried."""
    if error.code() not in _REJECTED:
        raise ApplicationError(
            f"{error.code().name}: {error.details()}", type=ProcessorCallError.OUTCOME_UNKNOWN
        )


def _refusal_code(error: grpc.aio.AioRpcError) -> str:
    return (_error_reason(error) or error.code().name).lower()


def _result(payment: pb.Payment, started: float) -> GatewayResult:
    outcome = _OUTCOMES.get(payment.outcome, GatewayOutcome.PENDING)
    if (
        outcome == GatewayOutcome.SUCCEEDED
        and 0 < payment.amount_captured <= payment.amount_refunded
    ):
        outcome = GatewayOutcome.REFUNDED  # no money held any more
    return GatewayResult(
        outcome=outcome,
        processor_reference=payment.processor_reference,
        decline_code=payment.decline.code,
        decline_message=payment.decline.message,
        soft_decline=payment.decline.soft,
        redirect_url=payment.next_action.redirect_url,
        latency_ms=_elapsed_ms(started),
    )


def _rejected_or_raise(error: grpc.aio.AioRpcError, started: float) -> GatewayResult:
    reason = _error_reason(error)
    if error.code() in _REJECTED:
        return GatewayResult(
            outcome=GatewayOutcome.FAILED,
            decline_code=(reason or error.code().name).lower(),
            decline_message=error.details() or "",
            latency_ms=_elapsed_ms(started),
        )
    # Temporal retries these with the same key; the adapter's idempotency makes that safe.
    kind = (
        ProcessorCallError.NOT_SENT
        if error.code() == grpc.StatusCode.UNAVAILABLE and reason == _ADAPTER_NOT_SENT
        else ProcessorCallError.OUTCOME_UNKNOWN
    )
    raise ApplicationError(f"{error.code().name}: {error.details()}", type=kind)


def _error_reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    if status is None:
        return ""
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


def _left(started: float, timeout_s: float) -> float:
    """What connecting left of a call's deadline (a millisecond at least: the connection is
    there, so the call is made and classified like any other)."""
    return max(0.001, timeout_s - (time.monotonic() - started))


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
