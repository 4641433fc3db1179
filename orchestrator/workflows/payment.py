"""The payment workflow: one per order. It waits for the `pay` update, routes, and tries the
route's processors in order with deterministic attempt keys until one settles the payment,
following a 3-D Secure challenge when one is needed. It does no I/O itself: every step is an
activity.

Money rules (docs/design.md, the money rules) as they appear here:
- every try at a processor has its own key, re-sent unchanged on every retry of that try;
- an unknown outcome is resolved by asking the same processor again (same key) before any
  other processor is charged; only when it stays unknown past the resolution budget may the
  merchant's policy move on, and then the attempt stays open as an obligation: it is looked up
  until known, and if it turns out charged while another attempt won, it is voided or refunded;
- only an answer about the payment itself settles anything: a refused lookup, a refused re-send
  or a refused void proves nothing and is asked again;
- the first charge to claim the order is its payment; any other charge is undone, and the undo
  is checked with the processor until it holds;
- at most one charge survives per order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.contracts import events
    from core.contracts.payment import (
        ANSWERABLE_STATUSES,
        CANCEL_UPDATE,
        CAPTURE_UPDATE,
        GATEWAY_EVENT_SIGNAL,
        PAY_UPDATE,
        WORKFLOW_TYPE,
        CancelRequest,
        CaptureRequest,
        LifecycleResult,
        PaymentInput,
        PaymentMethod,
        PaymentOutcome,
        PayRequest,
        PayResult,
    )
    from core.processors.registry import MAX_DEADLINE_MS
    from orchestrator.activities.first_call import FirstCallActivities
    from orchestrator.activities.orders import OrderActivities
    from orchestrator.activities.processors import ProcessorActivities
    from orchestrator.activities.routing import RoutingActivities
    from orchestrator.activities.types import (
        AttemptRecord,
        AuthorizeCall,
        CaptureCall,
        GatewayResult,
        HealthReport,
        LookupCall,
        OrderUpdate,
        Progress,
        Route,
        RoutedFirstCall,
        RoutePlan,
        RouteRequest,
        UndoCall,
        unanswered,
    )
    from orchestrator.keys import attempt_key
    from orchestrator.workflows.policies import DB_RETRY, ONCE, PROCESSOR_RETRY

# A payment's first Authorize is sent by the routing step itself (route_and_authorize, a local
# activity): in the worker that runs the workflow task, with no round trip through the
# Temporal server, so a payment that succeeds at once is one workflow task (payments before
# this patch routed, then called Authorize as a regular activity). A local activity's result
# is kept only when its workflow task completes: a worker that dies before that runs it again,
# and the second answer may differ (a call that timed out may have charged meanwhile). So (a)
# the first call depends only on the route, which routing decides once and gives back
# unchanged when run again; (b) before any further processor call (a re-send, a lookup, the
# next processor) the workflow task completes, so the first answer is kept before anything is
# decided on it; every further call is a regular activity. (A re-send or lookup follows a
# timer; the next processor follows its attempt's first write, which then goes through the
# server as a regular activity: the dev server fires a 1 ms timer only about 1 s later.)
AUTHORIZE_LOCALLY = "authorize-as-local-activity"
# Routing's database work, and the longest deadline a processor may have, with a margin.
_FIRST_CALL_TIMEOUT = timedelta(seconds=10) + timedelta(milliseconds=MAX_DEADLINE_MS + 1000)
_MAX_BACKOFF = timedelta(seconds=5)
# Undoing a charge never gives up; a processor that keeps refusing is asked less often.
_MAX_UNDO_BACKOFF = timedelta(minutes=5)
# After an unknown attempt is judged never to have reached the processor, it is still looked up
# now and then for this long, and a charge that turns up after all is undone.
LATE_CHARGE_WATCH = timedelta(hours=24)
_FIRST_WATCH_POLL = timedelta(seconds=5)
_MAX_WATCH_POLL = timedelta(minutes=10)
# How long an unknown attempt may stay not found before it is judged never to have arrived,
# in resolution budgets.
_HORIZON_BUDGETS = 10

_WAITING = frozenset({"requires_action", "pending"})
_CHARGED = frozenset({"succeeded", "authorized"})
# Answers about the payment itself. "failed" (the processor refused the request) and
# "not_found" are not: they say nothing about an earlier request with the same key.
_DEFINITE = _CHARGED | _WAITING | frozenset({"declined", "canceled", "refunded"})
_RELEASED = frozenset({"canceled", "refunded"})
# Why a payment moved on from an attempt, by the attempt's outcome.
_FAILOVER_REASONS = {
    "declined": "soft_decline",
    "failed": "rejected",
    "not_sent": "not_sent",
    "unknown": "outcome_unknown",
    "canceled": "canceled",
}


@workflow.defn(name=WORKFLOW_TYPE)
class PaymentWorkflow:
    @workflow.init
    def __init__(self, payment: PaymentInput) -> None:
        self._payment = payment
        # A payment started by PayOrder has its method from the start (see PaymentInput).
        self._payment_method: PaymentMethod | None = payment.payment_method
        self._status = "requires_payment_method"
        # Counts the gateway's webhooks about this payment: a waiting step wakes when it moves.
        self._gateway_events = 0
        # The attempt whose charge is the order's payment, once there is one. Claimed
        # synchronously (no await between the check and the claim), so two attempts can never
        # both become the payment.
        self._winner: AttemptRecord | None = None
        # Unknown attempts that may still turn out charged: while any is open, the order cannot
        # be FAILED.
        self._open_obligations = 0
        # Work that keeps the workflow open after the order is decided: undoing charges,
        # watching for late ones.
        self._background = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._unreported_health: HealthReport | None = None
        # The route and answer of the winner, for capturing or voiding its authorization.
        self._winning_route: Route | None = None
        self._winning_result: GatewayResult | None = None
        # A capture or cancel the merchant asked for, and what became of it.
        self._action: CaptureRequest | CancelRequest | None = None
        self._action_result: LifecycleResult | None = None
        self._captures = 0
        self._plan: RoutePlan | None = None
        # Whether the first Authorize ran as a local activity (see AUTHORIZE_LOCALLY).
        self._first_call_local = False
        # Its answer, until _try_processors takes it, and when the payment's first step began
        # (its time budget runs from there).
        self._first_answer: GatewayResult | None = None
        self._routed_at: datetime | None = None

    @workflow.update(name=PAY_UPDATE)
    async def pay(self, request: PayRequest) -> PayResult:
        # The first payment method wins; later calls join the payment already under way. A
        # canceled order is never paid.
        if self._payment_method is None and self._action is None:
            self._payment_method = request.payment_method
        await workflow.wait_condition(lambda: self._status in ANSWERABLE_STATUSES)
        return PayResult(status=self._status)

    @workflow.update(name=CAPTURE_UPDATE)
    async def capture(self, request: CaptureRequest) -> LifecycleResult:
        return await self._act(request)

    @capture.validator
    def _capture_allowed(self, request: CaptureRequest) -> None:
        if self._status != "requires_capture" or self._action is not None:
            raise ApplicationError(
                f"an order in status {self._status.upper()} cannot be captured",
                self._status,
                type="ORDER_NOT_CAPTURABLE",
            )
        if not 0 <= request.amount <= self._payment.amount:
            raise ApplicationError(
                f"capture 1 to {self._payment.amount} (or 0 for all of it)",
                self._status,
                type="CAPTURE_AMOUNT_INVALID",
            )

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, request: CancelRequest) -> LifecycleResult:
        return await self._act(request)

    @cancel.validator
    def _cancel_allowed(self, request: CancelRequest) -> None:
        unpaid = self._status == "requires_payment_method" and self._payment_method is None
        if (
            not (unpaid or self._status in ("requires_capture", "requires_action"))
            or self._action is not None
        ):
            raise ApplicationError(
                f"an order in status {self._status.upper()} cannot be canceled",
                self._status,
                type="ORDER_NOT_CANCELABLE",
            )

    async def _act(self, request: CaptureRequest | CancelRequest) -> LifecycleResult:
        """Hands a capture or cancel to the payment (run does it) and waits for the result."""
        self._action, self._action_result = request, None
        await workflow.wait_condition(lambda: self._action_result is not None)
        assert self._action_result is not None
        return self._action_result

    @workflow.signal(name=GATEWAY_EVENT_SIGNAL)
    def gateway_event(self, processor_reference: str) -> None:
        """A processor said something changed (a webhook): look again now, not at the next poll."""
        self._gateway_events += 1

    @workflow.query
    def status(self) -> str:
        return self._status

    @workflow.run
    async def run(self, payment: PaymentInput) -> PaymentOutcome:
        await workflow.wait_condition(
            lambda: self._payment_method is not None or self._action is not None
        )
        if self._payment_method is None:
            # Canceled before it was ever paid.
            await self._cancel_order("requested_by_merchant")
            await workflow.wait_condition(lambda: not self._background)
            await workflow.wait_condition(workflow.all_handlers_finished)
            return PaymentOutcome(status=self._status)
        plan = await self._route(RouteRequest(payment, self._payment_method))
        self._plan = plan
        # route_payment wrote the decision and the first step (PROCESSING, or FAILED).
        if not plan.routes:
            self._status = "failed"
            if plan.event_id:
                self._in_background(self._dispatch(plan.event_id))
            await workflow.wait_condition(lambda: not self._background)
            return PaymentOutcome(status="failed", failure_code=plan.failure_code)
        self._status = "processing"

        last = await self._try_processors(plan)
        if self._winner is None and self._open_obligations:
            # Nothing won, but an earlier attempt may still turn out charged: until it is known,
            # the honest status is PROCESSING, never FAILED.
            await workflow.wait_condition(
                lambda: self._winner is not None or not self._open_obligations
            )
        if self._winner is None and self._status not in ("failed", "canceled"):
            await self._record(
                order=OrderUpdate(
                    order_id=payment.order_id,
                    status="failed",
                    failure_code=last.decline_code or "processor_unavailable",
                    failure_message=last.decline_message or "no processor could take the payment",
                    event=events.ORDER_FAILED,
                    event_key=f"{payment.order_id}:{events.ORDER_FAILED}",
                )
            )
        # Payments authorized before authorizations were held ended here (their histories
        # must still replay); every new one waits for its capture, cancel or expiry.
        if self._status == "requires_capture" and workflow.patched("hold-authorization"):
            await self._hold_authorization(plan)
        # Obligations, undo steps and late-charge watches keep the workflow open until done.
        await workflow.wait_condition(lambda: not self._open_obligations and not self._background)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PaymentOutcome(status=self._status, failure_code=last.decline_code)

    async def _route(self, request: RouteRequest) -> RoutePlan:
        """Routes the payment; from the patch on, the same step sends the first Authorize."""
        if not workflow.patched(AUTHORIZE_LOCALLY):
            return await workflow.execute_local_activity_method(
                RoutingActivities.route_payment,
                request,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=DB_RETRY,
            )
        began = workflow.now()
        routed: RoutedFirstCall = await workflow.execute_local_activity_method(
            FirstCallActivities.route_and_authorize,
            request,
            start_to_close_timeout=_FIRST_CALL_TIMEOUT,
            # Safe to run again whole: the same plan, the same call under the same key.
            retry_policy=DB_RETRY,
        )
        self._first_call_local = True
        self._first_answer = routed.first
        self._routed_at = began
        return routed.plan

    async def _try_processors(self, plan: RoutePlan) -> GatewayResult:
        """Tries the plan's processors in order; returns the last result."""
        payment = self._payment
        # The first call is part of the budget (payments before the patch started it here).
        budget_end = (self._routed_at or workflow.now()) + timedelta(
            seconds=plan.payment_budget_seconds
        )
        routes = plan.routes[: plan.max_attempts]
        last = GatewayResult(outcome="failed", decline_code="payment_budget_spent")
        for seq, route in enumerate(routes, start=1):
            remaining = budget_end - workflow.now()
            # The routing step already sent the first call: its answer is used even when it
            # came at the end of the budget (it may be a charge).
            already_sent = seq == 1 and self._first_answer is not None
            if not already_sent and (self._winner is not None or remaining <= timedelta(0)):
                # An earlier unknown attempt turned out charged, or time is up.
                break
            attempt = AttemptRecord(
                order_id=payment.order_id,
                seq=seq,
                processor=route.processor,
                attempt_key=attempt_key(payment.order_id, route.processor, seq),
                outcome="pending",
                account_id=route.account_id,
            )
            if seq > 1:  # routing recorded the first one
                # Right after a local first call, through the server (see AUTHORIZE_LOCALLY).
                await self._record(attempt=attempt, through_server=self._first_call_local)
            result = await self._authorize(plan, route, attempt, remaining)
            if result.outcome in _WAITING:
                if self._winner is None:
                    await self._settle_attempt(attempt, result)
                result = await self._wait_for_challenge(plan, route, attempt, result)
                if self._cancel_requested() and result.outcome not in _CHARGED:
                    # The merchant canceled while the customer was challenged: released.
                    await self._record(attempt=_with_result(attempt, result))
                    await self._cancel_order(self._cancel_reason())
                    return result
            if result.outcome in _CHARGED:
                await self._claim_or_undo(route, attempt, result)
                if self._cancel_requested() and self._action_result is None:
                    # The customer finished paying as the merchant canceled: paid stands.
                    self._action_result = LifecycleResult(
                        status=self._status,
                        error="ORDER_NOT_CANCELABLE",
                        message="the customer completed the payment first",
                    )
                return result
            last = result
            # The customer's own answer (hard decline, failed challenge) stops the payment...
            stop = (
                result.outcome == "declined" and not result.soft_decline
            ) or result.decline_code.startswith("three_d_secure")
            if stop and self._winner is None:
                await self._settle_attempt(attempt, result)
                return result
            # ...as does another attempt's charge that turned up meanwhile (loop top).
            moving_on = not stop and self._winner is None and seq < len(routes)
            reason = _FAILOVER_REASONS.get(result.outcome, result.outcome) if moving_on else ""
            if result.outcome == "unknown":
                self._open_obligation(plan, route, replace(attempt, failover_reason=reason))
            else:
                await self._record(
                    attempt=replace(_with_result(attempt, result), failover_reason=reason)
                )
        return last

    async def _authorize(
        self, plan: RoutePlan, route: Route, attempt: AttemptRecord, remaining: timedelta
    ) -> GatewayResult:
        assert self._payment_method is not None
        call = AuthorizeCall(
            route=route,
            attempt_key=attempt.attempt_key,
            payment=self._payment,
            payment_method=self._payment_method,
            deadline_ms=_bounded_ms(route.deadline_ms, remaining),
        )
        if attempt.seq == 1 and self._first_answer is not None:
            result, self._first_answer = self._first_answer, None  # sent by the routing step
        else:
            result = await self._call_authorize(call)
        # Rides along with the next write of the read model (one transaction, no extra step).
        self._unreported_health = HealthReport(
            route.processor, answered=result.outcome not in ("not_sent", "unknown")
        )
        if result.outcome != "unknown":
            # A first answer, even a refusal or a call never sent, settles this try.
            return result
        # The processor may have charged. Ask it again, with the same key, and look the attempt
        # up, before anything else.
        resolve_until = workflow.now() + timedelta(seconds=plan.resolution_budget_seconds)
        forever = plan.unknown_outcome_policy == "wait"
        backoff = timedelta(milliseconds=200)
        while forever or workflow.now() < resolve_until:
            await workflow.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)
            left = resolve_until - workflow.now()
            if not forever and left <= timedelta(0):
                break
            retry = replace(
                call,
                deadline_ms=route.deadline_ms if forever else _bounded_ms(route.deadline_ms, left),
            )
            result = await self._call_authorize(retry)
            if result.outcome in _DEFINITE:
                return result
            # A refused or lost re-send proves nothing about the first request; the attempt
            # may still be found by its key (a gateway whose answers fail after charging).
            left = resolve_until - workflow.now()
            if not forever and left <= timedelta(0):
                break
            found = await self._look_up_once(
                route,
                attempt.attempt_key,
                deadline_ms=(
                    route.deadline_ms if forever else _bounded_ms(route.deadline_ms, left)
                ),
            )
            if found.outcome in _DEFINITE:
                return found
        return GatewayResult(
            outcome="unknown",
            decline_code="processor_unavailable",
            decline_message="the processor did not say whether it charged",
        )

    async def _call_authorize(self, call: AuthorizeCall) -> GatewayResult:
        try:
            return await workflow.execute_activity_method(
                ProcessorActivities.authorize,
                call,
                start_to_close_timeout=timedelta(milliseconds=call.deadline_ms + 1000),
                retry_policy=ONCE,
            )
        except ActivityError as error:
            return unanswered(error.cause or error)

    # -- charges that must not survive -----------------------------------------------------

    async def _claim_or_undo(
        self, route: Route, attempt: AttemptRecord, result: GatewayResult
    ) -> None:
        """A charge: the order's payment if nothing else claimed the order (and it was not
        already failed), else undone."""
        if self._winner is None and self._status not in ("failed", "canceled"):
            self._winner = attempt
            self._winning_route, self._winning_result = route, result
            await self._settle_attempt(replace(attempt, failover_reason=""), result)
            return
        self._background += 1
        try:
            charged = _with_result(attempt, result)
            await self._record(attempt=replace(charged, compensation="pending"))
            how = await self._undo_until_done(route, attempt, result)
            await self._record(attempt=replace(charged, outcome="canceled", compensation=how))
        finally:
            self._background -= 1

    async def _undo_until_done(
        self, route: Route, attempt: AttemptRecord, result: GatewayResult
    ) -> str:
        """Voids (an authorization) or refunds (a capture) until the processor confirms it;
        returns "voided" or "refunded". A refused undo is followed by a lookup, so a void that
        lost the race with a capture becomes a refund."""
        how = "refund" if result.outcome == "succeeded" else "void"
        reference = result.processor_reference
        refunds = 1
        backoff = timedelta(milliseconds=500)
        while True:
            key = f"{attempt.attempt_key}:{how}" + (f":{refunds}" if refunds > 1 else "")
            undone = await self._call_undo(route, how, key, reference)
            if undone.outcome == "canceled":
                return "voided" if how == "void" else "refunded"
            if how == "refund" and undone.decline_code == "refund_failed":
                refunds += 1  # that refund is final and failed: the next try needs a new key
            current = await self._look_up_once(route, attempt.attempt_key)
            if current.outcome in _RELEASED:
                # Released meanwhile (by this undo's earlier try, or by someone else).
                return "voided" if current.outcome == "canceled" else "refunded"
            if current.outcome in _DEFINITE:
                reference = current.processor_reference or reference
                how = "refund" if current.outcome == "succeeded" else "void"
            await self._pause(backoff)
            backoff = min(backoff * 2, _MAX_UNDO_BACKOFF)

    async def _release_challenge(
        self, route: Route, attempt: AttemptRecord, result: GatewayResult
    ) -> GatewayResult:
        """Voids a payment still waiting on its customer. Returns it canceled, or as it ended
        if the customer finished first (charged or declined): the caller decides what then."""
        backoff = timedelta(milliseconds=500)
        while True:
            voided = await self._call_undo(
                route, "void", f"{attempt.attempt_key}:void", result.processor_reference
            )
            if voided.outcome == "canceled":
                return voided
            current = await self._look_up_once(route, attempt.attempt_key)
            if current.outcome in _DEFINITE and current.outcome not in _WAITING:
                return current
            await self._pause(backoff)
            backoff = min(backoff * 2, _MAX_UNDO_BACKOFF)

    async def _call_undo(self, route: Route, how: str, key: str, reference: str) -> GatewayResult:
        method = (
            ProcessorActivities.void_payment
            if how == "void"
            else ProcessorActivities.refund_payment
        )
        return await workflow.execute_activity_method(
            method,
            UndoCall(route=route, key=key, processor_reference=reference),
            start_to_close_timeout=timedelta(milliseconds=route.deadline_ms * 2 + 1000),
            retry_policy=PROCESSOR_RETRY,
        )

    # -- unknown outcomes --------------------------------------------------------------------

    def _open_obligation(self, plan: RoutePlan, route: Route, attempt: AttemptRecord) -> None:
        # Counted here, synchronously, so `run` can never see the count before it rises.
        self._open_obligations += 1
        self._tasks.append(asyncio.create_task(self._settle_obligation(plan, route, attempt)))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        self._background += 1

        async def tracked() -> None:
            try:
                await work
            finally:
                self._background -= 1

        self._tasks.append(asyncio.create_task(tracked()))

    async def _settle_obligation(
        self, plan: RoutePlan, route: Route, attempt: AttemptRecord
    ) -> None:
        """Looks an unknown attempt up until the processor knows it, then makes it the payment
        (when nothing else won) or undoes it (when another attempt won). Started by
        `_open_obligation`; closes the obligation when done."""
        open_obligation = True
        try:
            await self._record(attempt=attempt)
            horizon = workflow.now() + timedelta(
                seconds=_HORIZON_BUDGETS * plan.resolution_budget_seconds
            )
            result = await self._look_up_until_known(route, attempt.attempt_key, horizon)
            if result.outcome == "not_found":
                # Past any request the processor could still be working on: never charged. The
                # order may be decided now; a charge that turns up after all is still undone.
                await self._record(
                    attempt=replace(
                        attempt,
                        outcome="failed",
                        decline_code="processor_unavailable",
                        decline_message="the processor never received this attempt",
                    )
                )
                self._in_background(self._watch_for_late_charge(route, attempt))
                self._open_obligations -= 1
                open_obligation = False
                return
            if result.outcome in _WAITING:
                # A challenge nobody was shown: release it (unless it ended meanwhile).
                result = await self._release_challenge(route, attempt, result)
            if result.outcome in _CHARGED:
                await self._claim_or_undo(route, attempt, result)
                return
            await self._record(attempt=_with_result(attempt, result))
        finally:
            if open_obligation:
                self._open_obligations -= 1

    async def _watch_for_late_charge(self, route: Route, attempt: AttemptRecord) -> None:
        """Looks up, less and less often, an attempt judged never to have arrived: a charge
        that turns up after all is undone (the order was decided without it)."""
        until = workflow.now() + LATE_CHARGE_WATCH
        poll = _FIRST_WATCH_POLL
        while workflow.now() < until:
            await self._pause(poll)
            poll = min(poll * 2, _MAX_WATCH_POLL)
            result = await self._look_up_once(route, attempt.attempt_key)
            if result.outcome in _WAITING:
                result = await self._release_challenge(route, attempt, result)
            if result.outcome in _CHARGED:
                await self._claim_or_undo(route, attempt, result)
                return
            if result.outcome in _DEFINITE:
                return

    async def _look_up_until_known(
        self, route: Route, key: str, horizon: datetime
    ) -> GatewayResult:
        """A definite answer about the attempt, or "not_found" once past the horizon."""
        backoff = timedelta(milliseconds=500)
        while True:
            result = await self._look_up_once(route, key)
            if result.outcome in _DEFINITE:
                return result
            if result.outcome == "not_found" and workflow.now() >= horizon:
                return result
            await self._pause(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _look_up_once(self, route: Route, key: str, deadline_ms: int = 0) -> GatewayResult:
        """GetPayment by attempt key; a transport failure is "unknown" (ask again later)."""
        deadline_ms = deadline_ms or route.deadline_ms
        try:
            return await workflow.execute_activity_method(
                ProcessorActivities.get_payment,
                LookupCall(route=route, attempt_key=key, deadline_ms=deadline_ms),
                start_to_close_timeout=timedelta(milliseconds=deadline_ms + 1000),
                retry_policy=ONCE,
            )
        except ActivityError:
            return GatewayResult(outcome="unknown")

    # -- the merchant's capture or cancel --------------------------------------------------

    def _cancel_requested(self) -> bool:
        return isinstance(self._action, CancelRequest)

    def _cancel_reason(self) -> str:
        return (
            self._action.reason
            if isinstance(self._action, CancelRequest)
            else "requested_by_merchant"
        )

    async def _cancel_order(self, reason: str) -> None:
        payment = self._payment
        await self._record(
            order=OrderUpdate(
                order_id=payment.order_id,
                status="canceled",
                cancellation_reason=reason,
                event=events.ORDER_CANCELED,
                event_key=f"{payment.order_id}:{events.ORDER_CANCELED}",
            )
        )
        if self._action is not None:
            self._action_result = LifecycleResult(status="canceled")

    async def _hold_authorization(self, plan: RoutePlan) -> None:
        """An authorization (manual capture) waits for the merchant's capture or cancel; one
        never captured is voided when it expires, so no hold outlives its use."""
        route, result, attempt = self._winning_route, self._winning_result, self._winner
        assert route is not None and result is not None and attempt is not None
        expires = workflow.now() + timedelta(seconds=plan.authorization_ttl_seconds)
        while self._status == "requires_capture":
            remaining = expires - workflow.now()
            try:
                await workflow.wait_condition(
                    lambda: self._action is not None, timeout=max(remaining, timedelta(seconds=1))
                )
            except TimeoutError:
                if self._action is None:
                    await self._void_authorization(route, attempt, result, "authorization_expired")
                    return
            action = self._action
            if isinstance(action, CancelRequest):
                await self._void_authorization(route, attempt, result, action.reason)
            elif isinstance(action, CaptureRequest):
                await self._capture(route, attempt, result, action.amount)

    async def _void_authorization(
        self, route: Route, attempt: AttemptRecord, result: GatewayResult, reason: str
    ) -> None:
        """Releases the held authorization until the processor confirms it (one captured
        meanwhile outside PayLoops is refunded: the merchant asked for no payment), then
        cancels the order."""
        await self._undo_until_done(route, attempt, result)
        released = _with_result(attempt, result)
        await self._record(attempt=replace(released, outcome="canceled"))
        await self._cancel_order(reason)

    async def _capture(
        self, route: Route, attempt: AttemptRecord, result: GatewayResult, amount: int
    ) -> None:
        payment = self._payment
        self._captures += 1
        captured = await workflow.execute_activity_method(
            ProcessorActivities.capture_payment,
            CaptureCall(
                route=route,
                key=f"{attempt.attempt_key}:capture:{self._captures}",
                processor_reference=result.processor_reference,
                amount=amount,
            ),
            start_to_close_timeout=timedelta(milliseconds=route.deadline_ms * 2 + 1000),
            retry_policy=PROCESSOR_RETRY,
        )
        if captured.outcome != "succeeded":
            # Refused (a partial capture the processor does not do, say): still authorized,
            # and the merchant may try again.
            self._action = None
            self._action_result = LifecycleResult(
                status=self._status,
                error=captured.decline_code or "capture_failed",
                message=captured.decline_message or "the processor refused the capture",
            )
            return
        received = amount or payment.amount
        await self._record(
            attempt=_with_result(attempt, captured),
            order=OrderUpdate(
                order_id=payment.order_id,
                status="succeeded",
                amount_received=received,
                event=events.ORDER_CAPTURED,
                event_key=f"{payment.order_id}:{events.ORDER_CAPTURED}",
            ),
        )
        self._action_result = LifecycleResult(status="succeeded")

    # -- 3-D Secure --------------------------------------------------------------------------

    async def _wait_for_challenge(
        self, plan: RoutePlan, route: Route, attempt: AttemptRecord, result: GatewayResult
    ) -> GatewayResult:
        """Polls the processor (or wakes on a gateway event) until the challenge is done. An
        abandoned challenge is voided so no authorization is left hanging; so is one that
        another attempt made moot by winning meanwhile."""
        deadline = workflow.now() + timedelta(seconds=plan.three_ds_timeout_seconds)
        poll = timedelta(seconds=plan.three_ds_poll_seconds)
        while result.outcome in _WAITING:
            remaining = deadline - workflow.now()
            if self._winner is not None or remaining <= timedelta(0) or self._cancel_requested():
                released = await self._release_challenge(route, attempt, result)
                if (
                    released.outcome != "canceled"
                    or self._winner is not None
                    or self._cancel_requested()
                ):
                    return released  # the customer finished just as it expired: keep it
                return replace(
                    result,
                    outcome="failed",
                    decline_code="three_d_secure_timeout",
                    decline_message="the 3-D Secure challenge was not completed in time",
                )
            await self._pause(
                min(poll, remaining),
                or_until=lambda: self._winner is not None or self._cancel_requested(),
            )
            looked_up = await self._look_up_once(route, attempt.attempt_key)
            if looked_up.outcome in _DEFINITE:
                result = replace(looked_up, latency_ms=result.latency_ms)
        return result

    async def _pause(
        self, duration: timedelta, or_until: Callable[[], bool] = lambda: False
    ) -> None:
        """Waits `duration`, or less if the gateway sends news about this payment (a webhook)
        or `or_until` comes true."""
        seen = self._gateway_events
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._gateway_events != seen or or_until(), timeout=duration
            )

    # -- the read model ----------------------------------------------------------------------

    async def _settle_attempt(self, attempt: AttemptRecord, result: GatewayResult) -> None:
        """Records an attempt that decides the order, and the order's status from it."""
        payment = self._payment
        status = {
            "succeeded": "succeeded",
            "authorized": "requires_capture",
            "requires_action": "requires_action",
            "pending": "processing",
        }.get(result.outcome, "failed")
        recorded = _with_result(attempt, result)
        if status == "failed" and self._open_obligations:
            # Decided once the open obligations are known (see run).
            await self._record(attempt=recorded)
            return
        event = _STATUS_EVENTS.get(status, "")
        ttl = self._plan.authorization_ttl_seconds if self._plan else 0
        await self._record(
            attempt=recorded,
            order=OrderUpdate(
                order_id=payment.order_id,
                status=status,
                failure_code=result.decline_code if status == "failed" else "",
                failure_message=result.decline_message if status == "failed" else "",
                next_action_url=result.redirect_url if status == "requires_action" else "",
                amount_capturable=payment.amount if status == "requires_capture" else 0,
                amount_received=payment.amount if status == "succeeded" else 0,
                capture_before=(workflow.now() + timedelta(seconds=ttl)).isoformat()
                if status == "requires_capture"
                else "",
                event=event,
                event_key=f"{payment.order_id}:{event}:{attempt.attempt_key}",
            ),
        )

    async def _record(
        self,
        attempt: AttemptRecord | None = None,
        order: OrderUpdate | None = None,
        through_server: bool = False,
    ) -> None:
        """One write to the read model: a local activity (no round trip through the server),
        or a regular one `through_server`, which ends the workflow task first."""
        progress = Progress(attempt=attempt, order=order, health=self._unreported_health)
        self._unreported_health = None
        if through_server:
            event_id = await workflow.execute_activity_method(
                OrderActivities.record_progress,
                progress,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=DB_RETRY,
            )
        else:
            event_id = await workflow.execute_local_activity_method(
                OrderActivities.record_progress,
                progress,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=DB_RETRY,
            )
        if order is not None:
            # The read model is written first, so whoever the `pay` update wakes reads this.
            self._status = order.status
        if event_id:
            self._in_background(self._dispatch(event_id))

    async def _dispatch(self, event_id: str) -> None:
        """Hands a recorded event to the webhook deliveries (the merchant is listening)."""
        await workflow.execute_activity(
            "dispatch_event",
            event_id,
            result_type=int,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )


# The event of each order status a payment settles in.
_STATUS_EVENTS = {
    "succeeded": events.ORDER_SUCCEEDED,
    "failed": events.ORDER_FAILED,
    "requires_action": events.ORDER_REQUIRES_ACTION,
    "requires_capture": events.ORDER_REQUIRES_CAPTURE,
}

# Outcomes only the workflow knows, as the read model shows them.
_RECORDED_OUTCOMES = {
    "unknown": "pending",
    "not_sent": "failed",
    "not_found": "failed",
    "refunded": "canceled",
}


def _with_result(attempt: AttemptRecord, result: GatewayResult) -> AttemptRecord:
    """The attempt as the processor's answer leaves it, as the read model shows it."""
    return replace(
        attempt,
        outcome=_RECORDED_OUTCOMES.get(result.outcome, result.outcome),
        decline_code=result.decline_code,
        decline_message=result.decline_message,
        processor_reference=result.processor_reference,
        latency_ms=result.latency_ms,
    )


def _bounded_ms(deadline_ms: int, remaining: timedelta) -> int:
    return max(1, min(deadline_ms, int(remaining.total_seconds() * 1000)))
