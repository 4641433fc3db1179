"""The payment workflow: one per order. It waits for the `pay` update, routes, and tries the
route's processors in order with deterministic attempt keys until one settles the payment,
following a 3-D Secure challenge when one is needed. It does no I/O itself: every step is an
activity.

Money rules (DESIGN.md §4) as they appear here:
- every try at a processor has its own key, re-sent unchanged on every retry of that try;
- an unknown outcome is resolved by asking the same processor again (same key) before any
  other processor is charged; only when it stays unknown past the resolution budget may the
  merchant's policy move on, and then the attempt stays open as an obligation: it is looked up
  until known, and if it turns out charged while another attempt won, it is voided or refunded;
- at most one charge survives per order.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

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
    from orchestrator.activities.routing import RoutingActivities
    from orchestrator.activities.types import (
        AttemptRecord,
        AuthorizeCall,
        GatewayResult,
        HealthReport,
        LookupCall,
        OrderUpdate,
        Progress,
        Route,
        RoutePlan,
        RouteRequest,
        UndoCall,
    )
    from orchestrator.keys import attempt_key

# Database steps (local activities: they run in the worker, next to the workflow) are retried
# until the database is back. Nothing is lost meanwhile.
_DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), backoff_coefficient=2,
                        maximum_interval=timedelta(seconds=10))
# A processor call is tried once per activity: what to do after a failure depends on whether
# it was sent, which the workflow decides.
_ONCE = RetryPolicy(maximum_attempts=1)
# Lookups and undo calls only read or release money: retried until the processor answers.
_PROCESSOR_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200),
                               backoff_coefficient=2, maximum_interval=timedelta(seconds=5))
_MAX_BACKOFF = timedelta(seconds=5)
_WAITING_OUTCOMES = frozenset({"requires_action", "pending"})
_CHARGED = frozenset({"succeeded", "authorized"})
# Why a payment moved on from an attempt, by the attempt's outcome.
_FAILOVER_REASONS = {"declined": "soft_decline", "failed": "rejected", "not_sent": "not_sent",
                     "unknown": "outcome_unknown", "canceled": "canceled"}


@workflow.defn(name=WORKFLOW_TYPE)
class PaymentWorkflow:
    @workflow.init
    def __init__(self, payment: PaymentInput) -> None:
        self._payment = payment
        self._payment_method: PaymentMethod | None = None
        self._status = "requires_payment_method"
        self._gateway_event = False
        # The attempt whose charge is the order's payment, once there is one.
        self._winner: AttemptRecord | None = None
        self._deciding = True
        self._open_obligations = 0
        self._obligations: list[asyncio.Task[None]] = []
        self._unreported_health: HealthReport | None = None

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
        plan = await workflow.execute_local_activity_method(
            RoutingActivities.route_payment, RouteRequest(payment, self._payment_method),
            start_to_close_timeout=timedelta(seconds=10), retry_policy=_DB_RETRY)
        # route_payment wrote the decision and the first step (PROCESSING, or FAILED).
        if not plan.routes:
            self._status = "failed"
            return PaymentOutcome(status="failed", failure_code=plan.failure_code)
        self._status = "processing"

        last = await self._try_processors(plan)
        self._deciding = False
        if self._winner is None and self._open_obligations:
            # Nothing won, but an earlier attempt may still turn out charged: until it is known,
            # the honest status is PROCESSING, never FAILED.
            await workflow.wait_condition(
                lambda: self._winner is not None or not self._open_obligations)
        if self._winner is None and self._status != "failed":
            await self._record(order=OrderUpdate(
                order_id=payment.order_id, status="failed",
                failure_code=last.decline_code or "processor_unavailable",
                failure_message=last.decline_message or "no processor could take the payment"))
        # Obligations keep the workflow open until every unknown attempt is known and undone.
        await workflow.wait_condition(lambda: not self._open_obligations)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PaymentOutcome(status=self._status, failure_code=last.decline_code)

    async def _try_processors(self, plan: RoutePlan) -> GatewayResult:
        """Tries the plan's processors in order; returns the last result. Sets the winner."""
        payment = self._payment
        budget_end = workflow.now() + timedelta(seconds=plan.payment_budget_seconds)
        routes = plan.routes[:plan.max_attempts]
        last = GatewayResult(outcome="failed", decline_code="payment_budget_spent")
        for seq, route in enumerate(routes, start=1):
            remaining = budget_end - workflow.now()
            if remaining <= timedelta(0):
                break
            attempt = AttemptRecord(order_id=payment.order_id, seq=seq,
                                    processor=route.processor,
                                    attempt_key=attempt_key(payment.order_id, route.processor, seq),
                                    outcome="pending")
            if seq > 1:  # route_payment recorded the first one
                await self._record(attempt=attempt)
            last = await self._authorize(plan, route, attempt, remaining)
            if last.outcome in _WAITING_OUTCOMES:
                await self._settle_attempt(attempt, last)
                last = await self._wait_for_challenge(plan, route, attempt, last)
            final = seq == len(routes)
            if last.outcome in _CHARGED or last.outcome in _WAITING_OUTCOMES \
                    or last.decline_code.startswith("three_d_secure") \
                    or (last.outcome == "declined" and not last.soft_decline):
                # Charged, or the customer's own answer (hard decline, challenge): stop here.
                await self._settle_attempt(attempt, last)
                return last
            reason = "" if final else _FAILOVER_REASONS.get(last.outcome, last.outcome)
            if last.outcome == "unknown":
                self._open_obligation(plan, route, replace(attempt, failover_reason=reason))
            else:
                await self._record(attempt=replace(attempt, **_attempt_fields(last),
                                                   failover_reason=reason))
        return last

    async def _authorize(self, plan: RoutePlan, route: Route, attempt: AttemptRecord,
                         remaining: timedelta) -> GatewayResult:
        assert self._payment_method is not None
        call = AuthorizeCall(route=route, attempt_key=attempt.attempt_key, payment=self._payment,
                             payment_method=self._payment_method,
                             deadline_ms=_bounded_ms(route.deadline_ms, remaining))
        result = await self._call_authorize(call)
        # Rides along with the next write of the read model (one transaction, no extra step).
        self._unreported_health = HealthReport(
            route.processor, answered=result.outcome not in ("not_sent", "unknown"))
        if result.outcome != "unknown":
            return result
        # The processor may have charged. Ask it again, with the same key, before anything else.
        resolve_until = workflow.now() + timedelta(seconds=plan.resolution_budget_seconds)
        forever = plan.unknown_outcome_policy == "wait"
        backoff = timedelta(milliseconds=200)
        while forever or workflow.now() < resolve_until:
            await workflow.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)
            left = resolve_until - workflow.now()
            if not forever and left <= timedelta(0):
                break
            retry = replace(call, deadline_ms=route.deadline_ms if forever
                            else _bounded_ms(route.deadline_ms, left))
            result = await self._call_authorize(retry)
            if result.outcome not in ("not_sent", "unknown"):
                return result
        return GatewayResult(outcome="unknown", decline_code="processor_unavailable",
                             decline_message="the processor did not say whether it charged")

    async def _call_authorize(self, call: AuthorizeCall) -> GatewayResult:
        try:
            return await workflow.execute_activity_method(
                ProcessorActivities.authorize, call,
                start_to_close_timeout=timedelta(milliseconds=call.deadline_ms + 1000),
                retry_policy=_ONCE)
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == "NotSent":
                return GatewayResult(outcome="not_sent", decline_code="processor_unavailable",
                                     decline_message=cause.message)
            # Deadline, dropped connection, gateway error, or a worker that died mid-call.
            return GatewayResult(outcome="unknown", decline_code="processor_unavailable",
                                 decline_message=str(cause or error))

    def _open_obligation(self, plan: RoutePlan, route: Route, attempt: AttemptRecord) -> None:
        self._open_obligations += 1
        self._obligations.append(asyncio.create_task(
            self._settle_obligation(plan, route, attempt)))

    async def _settle_obligation(self, plan: RoutePlan, route: Route,
                                 attempt: AttemptRecord) -> None:
        """Looks an unknown attempt up until the processor knows it, then keeps it (when nothing
        else won) or undoes it (when another attempt won)."""
        try:
            await self._record(attempt=attempt)
            horizon = workflow.now() + timedelta(seconds=10 * plan.resolution_budget_seconds)
            result = await self._lookup_until_known(route, attempt.attempt_key, horizon)
            if result.outcome in _WAITING_OUTCOMES:
                result = await self._undo(route, attempt, result, "void")
            if result.outcome in _CHARGED:
                await workflow.wait_condition(lambda: not self._deciding)
                if self._winner is None:
                    # Nothing else won: this late charge is the order's payment.
                    await self._settle_attempt(replace(attempt, failover_reason=""), result)
                    return
                undo = "void" if result.outcome == "authorized" else "refund"
                undone = await self._undo(route, attempt, result, undo)
                attempt = replace(attempt, compensation="voided" if undo == "void"
                                  else "refunded")
                result = replace(result, outcome=undone.outcome)
            await self._record(attempt=replace(attempt, **_attempt_fields(result)))
        finally:
            self._open_obligations -= 1

    async def _lookup_until_known(self, route: Route, key: str,
                                  horizon: datetime) -> GatewayResult:
        backoff = timedelta(milliseconds=500)
        while True:
            with contextlib.suppress(ActivityError):
                result = await workflow.execute_activity_method(
                    ProcessorActivities.get_payment, LookupCall(route=route, attempt_key=key),
                    start_to_close_timeout=timedelta(milliseconds=route.deadline_ms + 1000),
                    retry_policy=_ONCE)
                if result.outcome != "not_found":
                    return result
                if workflow.now() >= horizon:
                    # Past any request the processor could still be working on: never charged.
                    return GatewayResult(outcome="failed", decline_code="processor_unavailable")
            await workflow.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _undo(self, route: Route, attempt: AttemptRecord, result: GatewayResult,
                    how: str) -> GatewayResult:
        method = ProcessorActivities.void_payment if how == "void" \
            else ProcessorActivities.refund_payment
        return await workflow.execute_activity_method(
            method, UndoCall(route=route, key=f"{attempt.attempt_key}:{how}",
                             processor_reference=result.processor_reference),
            start_to_close_timeout=timedelta(milliseconds=route.deadline_ms + 1000),
            retry_policy=_PROCESSOR_RETRY)

    async def _wait_for_challenge(self, plan: RoutePlan, route: Route, attempt: AttemptRecord,
                                  result: GatewayResult) -> GatewayResult:
        """Polls the processor (or wakes on a gateway event) until the challenge is done; an
        abandoned challenge is voided so no authorization is left hanging."""
        deadline = workflow.now() + timedelta(seconds=plan.three_ds_timeout_seconds)
        poll = timedelta(seconds=plan.three_ds_poll_seconds)
        while result.outcome in _WAITING_OUTCOMES:
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                voided = await self._undo(route, attempt, result, "void")
                if voided.outcome != "canceled":
                    return voided  # the customer finished just as it expired: keep the result
                return replace(result, outcome="failed", decline_code="three_d_secure_timeout",
                               decline_message="the 3-D Secure challenge was not completed "
                                               "in time")
            self._gateway_event = False
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._gateway_event,
                                              timeout=min(poll, remaining))
            with contextlib.suppress(ActivityError):
                looked_up = await workflow.execute_activity_method(
                    ProcessorActivities.get_payment,
                    LookupCall(route=route, attempt_key=attempt.attempt_key),
                    start_to_close_timeout=timedelta(milliseconds=route.deadline_ms + 1000),
                    retry_policy=_ONCE)
                if looked_up.outcome != "not_found":
                    result = replace(looked_up, latency_ms=result.latency_ms)
        return result

    async def _settle_attempt(self, attempt: AttemptRecord, result: GatewayResult) -> None:
        """Records an attempt that decides the order, and the order's status from it."""
        if result.outcome in _CHARGED:
            # Claimed before any await, so two attempts can never both become the payment.
            self._winner = attempt
        payment = self._payment
        status = {"succeeded": "succeeded", "authorized": "requires_capture",
                  "requires_action": "requires_action", "pending": "processing"
                  }.get(result.outcome, "failed")
        recorded = replace(attempt, **_attempt_fields(result))
        if status == "failed" and self._open_obligations:
            # Decided once the open obligations are known (see run).
            await self._record(attempt=recorded)
            return
        await self._record(attempt=recorded, order=OrderUpdate(
            order_id=payment.order_id, status=status,
            failure_code=result.decline_code if status == "failed" else "",
            failure_message=result.decline_message if status == "failed" else "",
            next_action_url=result.redirect_url if status == "requires_action" else "",
            amount_capturable=payment.amount if status == "requires_capture" else 0,
            amount_received=payment.amount if status == "succeeded" else 0))

    async def _record(self, attempt: AttemptRecord | None = None,
                      order: OrderUpdate | None = None) -> None:
        """One write to the read model (a local activity: no round trip through the server)."""
        progress = Progress(attempt=attempt, order=order, health=self._unreported_health)
        self._unreported_health = None
        await workflow.execute_local_activity_method(
            OrderActivities.record_progress, progress,
            start_to_close_timeout=timedelta(seconds=10), retry_policy=_DB_RETRY)
        if order is not None:
            # The read model is written first, so whoever the `pay` update wakes reads this.
            self._status = order.status


# Outcomes only the workflow knows, as the read model shows them.
_RECORDED_OUTCOMES = {"unknown": "pending", "not_sent": "failed", "not_found": "failed"}


def _attempt_fields(result: GatewayResult) -> dict[str, object]:
    return {"outcome": _RECORDED_OUTCOMES.get(result.outcome, result.outcome),
            "decline_code": result.decline_code, "decline_message": result.decline_message,
            "processor_reference": result.processor_reference, "latency_ms": result.latency_ms}


def _bounded_ms(deadline_ms: int, remaining: timedelta) -> int:
    return max(1, min(deadline_ms, int(remaining.total_seconds() * 1000)))
