"""The attempts: the plan's processors in order, each try under its own key, until one
settles the payment, the customer's own answer stops it, or the payment's time budget is
spent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

from orchestrator.workflows.payment.authorize import authorize
from orchestrator.workflows.payment.challenge import wait_for_challenge
from orchestrator.workflows.payment.compensation import claim_or_undo
from orchestrator.workflows.payment.lifecycle import cancel_order, refuse_late_cancel
from orchestrator.workflows.payment.obligations import open_obligation
from orchestrator.workflows.payment.progress import record, settle_attempt
from orchestrator.workflows.payment.rules import (
    CHARGED,
    WAITING,
    ends_payment,
    failover_reason,
    with_result,
)
from orchestrator.workflows.payment.state import PaymentState

with workflow.unsafe.imports_passed_through():
    from core.contracts.vocabulary import (
        AttemptOutcome,
        FailoverReason,
        FailureCode,
        GatewayOutcome,
    )
    from orchestrator.activities.types import AttemptRecord, GatewayResult, Route, RoutePlan
    from orchestrator.keys import attempt_key


async def try_processors(state: PaymentState, plan: RoutePlan) -> GatewayResult:
    """Tries the plan's processors in order; returns the last result."""
    # The first call is part of the budget (payments before the patch started it here).
    budget_end = (state.routed_at or workflow.now()) + timedelta(
        seconds=plan.payment_budget_seconds
    )
    routes = plan.routes[: plan.max_attempts]
    last = GatewayResult(
        outcome=GatewayOutcome.FAILED, decline_code=FailureCode.PAYMENT_BUDGET_SPENT
    )
    for seq, route in enumerate(routes, start=1):
        remaining = budget_end - workflow.now()
        # The routing step already sent the first call: its answer is used even when it
        # came at the end of the budget (it may be a charge).
        already_sent = seq == 1 and state.first_answer is not None
        if not already_sent and (state.winner is not None or remaining <= timedelta(0)):
            # An earlier unknown attempt turned out charged, or time is up.
            break
        attempt = _new_attempt(state, route, seq)
        if seq > 1:  # routing recorded the first one
            # Right after a local first call, through the server (first_step.py says why).
            await record(state, attempt=attempt, through_server=state.first_call_local)
        result = await authorize(state, plan, route, attempt, remaining)
        if result.outcome in WAITING:
            if state.winner is None:
                await settle_attempt(state, attempt, result)
            result = await wait_for_challenge(state, plan, route, attempt, result)
            if state.cancel_requested() and result.outcome not in CHARGED:
                # The merchant canceled while the customer was challenged: released.
                await record(state, attempt=with_result(attempt, result))
                await cancel_order(state, state.cancel_reason())
                return result
        if result.outcome in CHARGED:
            await claim_or_undo(state, route, attempt, result)
            refuse_late_cancel(state)
            return result
        last = result
        # The customer's own answer (hard decline, failed challenge) stops the payment...
        stop = ends_payment(result)
        if stop and state.winner is None:
            await settle_attempt(state, attempt, result)
            return result
        # ...as does another attempt's charge that turned up meanwhile (loop top).
        moving_on = not stop and state.winner is None and seq < len(routes)
        reason = failover_reason(result.outcome) if moving_on else FailoverReason.NONE
        if result.outcome == GatewayOutcome.UNKNOWN:
            open_obligation(state, plan, route, replace(attempt, failover_reason=reason))
        else:
            await record(
                state, attempt=replace(with_result(attempt, result), failover_reason=reason)
            )
    return last


def _new_attempt(state: PaymentState, route: Route, seq: int) -> AttemptRecord:
    order_id = state.payment.order_id
    return AttemptRecord(
        order_id=order_id,
        seq=seq,
        processor=route.processor,
        attempt_key=attempt_key(order_id, route.processor, seq),
        outcome=AttemptOutcome.PENDING,
        account_id=route.account_id,
    )
