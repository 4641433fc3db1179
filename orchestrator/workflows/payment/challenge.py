"""The 3-D Secure wait: a payment whose processor asks the customer to prove who they are
waits for the challenge, within the merchant's time limit, and releases it when nobody will
finish it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

from orchestrator.workflows.payment import processor_calls
from orchestrator.workflows.payment.compensation import release_challenge
from orchestrator.workflows.payment.rules import DEFINITE, WAITING
from orchestrator.workflows.payment.state import PaymentState

with workflow.unsafe.imports_passed_through():
    from core.contracts.vocabulary import FailureCode, GatewayOutcome
    from orchestrator.activities.types import AttemptRecord, GatewayResult, Route, RoutePlan


async def wait_for_challenge(
    state: PaymentState,
    plan: RoutePlan,
    route: Route,
    attempt: AttemptRecord,
    result: GatewayResult,
) -> GatewayResult:
    """Polls the processor (or wakes on a gateway event) until the challenge is done. An
    abandoned challenge is voided so no authorization is left hanging; so is one that
    another attempt made moot by winning meanwhile, or that the merchant canceled."""
    deadline = workflow.now() + timedelta(seconds=plan.three_ds_timeout_seconds)
    poll = timedelta(seconds=plan.three_ds_poll_seconds)
    while result.outcome in WAITING:
        remaining = deadline - workflow.now()
        if state.winner is not None or remaining <= timedelta(0) or state.cancel_requested():
            released = await release_challenge(state, route, attempt, result)
            if (
                released.outcome != GatewayOutcome.CANCELED
                or state.winner is not None
                or state.cancel_requested()
            ):
                return released  # the customer finished just as it expired: keep it
            return replace(
                result,
                outcome=GatewayOutcome.FAILED,
                decline_code=FailureCode.THREE_D_SECURE_TIMEOUT,
                decline_message="the 3-D Secure challenge was not completed in time",
            )
        await state.pause(
            min(poll, remaining),
            or_until=lambda: state.winner is not None or state.cancel_requested(),
        )
        looked_up = await processor_calls.look_up(route, attempt.attempt_key)
        if looked_up.outcome in DEFINITE:
            result = replace(looked_up, latency_ms=result.latency_ms)
    return result
