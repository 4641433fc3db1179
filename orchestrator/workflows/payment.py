"""The payment workflow: one per order. It waits for the `pay` update, routes, authorizes at the
processor with a deterministic attempt key, follows a 3-D Secure challenge until it completes
or times out, and settles the order. It does no I/O itself: every step is an activity."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from core.payment_contract import (
        ANSWERABLE_STATUSES,
        GATEWAY_EVENT_SIGNAL,
        PAY_UPDATE,
        WORKFLOW_TYPE,
        PaymentInput,
        PaymentMethod,
        PaymentOutcome,
        PayRequest,
        PayResult,
    )
    from orchestrator.activities.orders import OrderActivities
    from orchestrator.activities.processors import ProcessorActivities
    from orchestrator.activities.types import (
        AttemptRecord,
        AuthorizeCall,
        GatewayResult,
        LookupCall,
        Progress,
        Route,
        VoidCall,
    )

# Database steps (local activities: they run in the worker, next to the workflow) are retried
# until the database is back. Nothing is lost meanwhile.
_DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), backoff_coefficient=2,
                        maximum_interval=timedelta(seconds=10))
# Processor calls: every retry re-sends the same attempt key, so the processor answers with the
# payment it already made rather than making another.
_PROCESSOR_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200),
                               backoff_coefficient=2, maximum_interval=timedelta(seconds=5))
# How long an authorization may stay unknown before the workflow switches to asking about it.
_AUTHORIZE_BUDGET = timedelta(minutes=5)
_WAITING_OUTCOMES = frozenset({"requires_action", "pending"})


def attempt_key(order_id: str, processor: str, seq: int) -> str:
    """Built from the order, processor and try number only, so a replayed, retried or
    restarted workflow sends the same key for the same try."""
    return f"{order_id}:authorize:{processor}:{seq}"


@workflow.defn(name=WORKFLOW_TYPE)
class PaymentWorkflow:
    @workflow.init
    def __init__(self, payment: PaymentInput) -> None:
        self._payment_method: PaymentMethod | None = None
        self._status = "requires_payment_method"
        self._gateway_event = False

    @workflow.update(name=PAY_UPDATE)
    async def pay(self, request: PayRequest) -> PayResult:
        # The first payment method wins; later calls join the payment already under way.
        if self._payment_method is None:
            self._payment_method = request.payment_method
        await workflow.wait_condition(lambda: self._status in ANSWERABLE_STATUSES)
        return PayResult(status=self._status)

    @workflow.signal(name=GATEWAY_EVENT_SIGNAL)
    def gateway_event(self, processor_reference: str) -> None:
        """A processor said something changed (a webhook): look again now, not at the next poll."""
        self._gateway_event = True

    @workflow.query
    def status(self) -> str:
        return self._status

    @workflow.run
    async def run(self, payment: PaymentInput) -> PaymentOutcome:
        await workflow.wait_condition(lambda: self._payment_method is not None)
        assert self._payment_method is not None
        route = await workflow.execute_local_activity_method(
            OrderActivities.route_payment, payment.merchant_id,
            start_to_close_timeout=timedelta(seconds=10), retry_policy=_DB_RETRY)

        key = attempt_key(payment.order_id, route.processor, 1)
        attempt = AttemptRecord(seq=1, processor=route.processor, attempt_key=key,
                                outcome="pending")
        await self._record(Progress(order_id=payment.order_id, status="processing",
                                    attempt=attempt))

        result = await self._authorize(AuthorizeCall(route=route, attempt_key=key,
                                                     payment=payment,
                                                     payment_method=self._payment_method))
        if result.outcome in _WAITING_OUTCOMES:
            await self._record(self._progress(payment, attempt, result))
            result = await self._wait_for_challenge(route, key, result)

        await self._record(self._progress(payment, attempt, result))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PaymentOutcome(status=self._status, failure_code=result.decline_code)

    async def _authorize(self, call: AuthorizeCall) -> GatewayResult:
        try:
            return await workflow.execute_activity_method(
                ProcessorActivities.authorize, call,
                start_to_close_timeout=timedelta(milliseconds=call.route.deadline_ms + 2000),
                schedule_to_close_timeout=_AUTHORIZE_BUDGET, retry_policy=_PROCESSOR_RETRY)
        except ActivityError:
            # Still unknown after the whole budget: the processor may have charged. Only its
            # own answer about this attempt key can settle that, so keep asking it.
            return await self._lookup(call.route, call.attempt_key)

    async def _lookup(self, route: Route, key: str) -> GatewayResult:
        result = await workflow.execute_activity_method(
            ProcessorActivities.get_payment, LookupCall(route=route, attempt_key=key),
            start_to_close_timeout=timedelta(milliseconds=route.deadline_ms + 2000),
            retry_policy=_PROCESSOR_RETRY)
        if result.outcome == "not_found":
            return GatewayResult(outcome="failed", decline_code="processor_unavailable",
                                 decline_message="the processor did not receive the payment")
        return result

    async def _wait_for_challenge(self, route: Route, key: str,
                                  result: GatewayResult) -> GatewayResult:
        """Polls the processor (or wakes on a gateway event) until the challenge is done; an
        abandoned challenge is voided so no authorization is left hanging."""
        deadline = workflow.now() + timedelta(seconds=route.three_ds_timeout_seconds)
        poll = timedelta(seconds=route.three_ds_poll_seconds)
        while result.outcome in _WAITING_OUTCOMES:
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                return await self._abandon(route, key, result)
            self._gateway_event = False
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(lambda: self._gateway_event,
                                              timeout=min(poll, remaining))
            result = await self._lookup(route, key)
        return result

    async def _abandon(self, route: Route, key: str, result: GatewayResult) -> GatewayResult:
        voided = await workflow.execute_activity_method(
            ProcessorActivities.void_payment,
            VoidCall(route=route, void_key=f"{key}:void",
                     processor_reference=result.processor_reference),
            start_to_close_timeout=timedelta(milliseconds=route.deadline_ms + 2000),
            retry_policy=_PROCESSOR_RETRY)
        if voided.outcome != "canceled":
            # The customer finished the challenge just as it expired: keep the real result.
            return voided
        return GatewayResult(outcome="failed", processor_reference=result.processor_reference,
                             decline_code="three_d_secure_timeout",
                             decline_message="the 3-D Secure challenge was not completed in time",
                             latency_ms=result.latency_ms)

    def _progress(self, payment: PaymentInput, attempt: AttemptRecord,
                  result: GatewayResult) -> Progress:
        recorded = AttemptRecord(
            seq=attempt.seq, processor=attempt.processor, attempt_key=attempt.attempt_key,
            outcome=result.outcome, decline_code=result.decline_code,
            decline_message=result.decline_message,
            processor_reference=result.processor_reference, latency_ms=result.latency_ms)
        status = {
            "succeeded": "succeeded",
            "authorized": "requires_capture",
            "requires_action": "requires_action",
            "pending": "processing",
        }.get(result.outcome, "failed")
        return Progress(
            order_id=payment.order_id, status=status, attempt=recorded,
            failure_code=result.decline_code if status == "failed" else "",
            failure_message=result.decline_message if status == "failed" else "",
            next_action_url=result.redirect_url if status == "requires_action" else "",
            amount_capturable=payment.amount if status == "requires_capture" else 0,
            amount_received=payment.amount if status == "succeeded" else 0)

    async def _record(self, progress: Progress) -> None:
        # Local: a short, idempotent database write needs no round trip through the server.
        await workflow.execute_local_activity_method(
            OrderActivities.record_progress, progress,
            start_to_close_timeout=timedelta(seconds=10), retry_policy=_DB_RETRY)
        # The read model is written first, so whoever the `pay` update wakes reads this status.
        self._status = progress.status
