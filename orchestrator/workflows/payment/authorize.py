"""One try at a processor: its Authorize and, when the outcome is unknown, the resolution.
The processor may have charged, so it is asked again with the same key, and the attempt looked
up, before any other processor is charged. Only an answer about the payment itself settles
the try: a refused re-send or lookup proves nothing about the first request."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

from orchestrator.workflows.payment import processor_calls
from orchestrator.workflows.payment.processor_calls import MAX_BACKOFF, bounded_ms
from orchestrator.workflows.payment.rules import DEFINITE
from orchestrator.workflows.payment.state import PaymentState

with workflow.unsafe.imports_passed_through():
    from core.contracts.vocabulary import FailureCode, GatewayOutcome
    from orchestrator.activities.types import (
        AttemptRecord,
        AuthorizeCall,
        GatewayResult,
        HealthReport,
        Route,
        RoutePlan,
    )


async def authorize(
    state: PaymentState,
    plan: RoutePlan,
    route: Route,
    attempt: AttemptRecord,
    remaining: timedelta,
) -> GatewayResult:
    """The try's answer: the processor's, or UNKNOWN once the resolution budget is spent
    (never, under the merchant's "wait" policy)."""
    assert state.payment_method is not None
    call = AuthorizeCall(
        route=route,
        attempt_key=attempt.attempt_key,
        payment=state.payment,
        payment_method=state.payment_method,
        deadline_ms=bounded_ms(route.deadline_ms, remaining),
    )
    if attempt.seq == 1 and state.first_answer is not None:
        result, state.first_answer = state.first_answer, None  # sent by the routing step
    else:
        result = await processor_calls.authorize(call)
    state.unreported_health = HealthReport(
        route.processor,
        answered=result.outcome not in (GatewayOutcome.NOT_SENT, GatewayOutcome.UNKNOWN),
    )
    if result.outcome != GatewayOutcome.UNKNOWN:
        # A first answer, even a refusal or a call never sent, settles this try.
        return result
    return await _resolve(plan, route, call)


async def _resolve(plan: RoutePlan, route: Route, call: AuthorizeCall) -> GatewayResult:
    """Re-sends the Authorize under its key and looks the attempt up, alternately, until the
    processor says something about the payment or the resolution budget is spent."""
    resolve_until = workflow.now() + timedelta(seconds=plan.resolution_budget_seconds)
    forever = plan.unknown_outcome_policy == "wait"
    backoff = timedelta(milliseconds=200)
    while forever or workflow.now() < resolve_until:
        await workflow.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)
        left = resolve_until - workflow.now()
        if not forever and left <= timedelta(0):
            break
        retry = replace(
            call,
            deadline_ms=route.deadline_ms if forever else bounded_ms(route.deadline_ms, left),
        )
        result = await processor_calls.authorize(retry)
        if result.outcome in DEFINITE:
            return result
        # A refused or lost re-send proves nothing about the first request; the attempt
        # may still be found by its key (a gateway whose answers fail after charging).
        left = resolve_until - workflow.now()
        if not forever and left <= timedelta(0):
            break
        found = await processor_calls.look_up(
            route,
            call.attempt_key,
            deadline_ms=route.deadline_ms if forever else bounded_ms(route.deadline_ms, left),
        )
        if found.outcome in DEFINITE:
            return found
    return GatewayResult(
        outcome=GatewayOutcome.UNKNOWN,
        decline_code=FailureCode.PROCESSOR_UNAVAILABLE,
        decline_message="the processor did not say whether it charged",
    )
