"""Attempts whose outcome stayed unknown past the resolution budget, when the merchant's policy
let the payment move on. Each stays open as an obligation, in the background: it is looked up
until the processor knows it, then it becomes the payment (when nothing else won) or is undone
(when another attempt won). One judged never to have arrived is still watched for a while, and
a charge that turns up late is undone."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow

from orchestrator.workflows.payment import processor_calls
from orchestrator.workflows.payment.compensation import claim_or_undo, release_challenge
from orchestrator.workflows.payment.processor_calls import MAX_BACKOFF
from orchestrator.workflows.payment.progress import record
from orchestrator.workflows.payment.rules import CHARGED, DEFINITE, WAITING, with_result
from orchestrator.workflows.payment.state import PaymentState

with workflow.unsafe.imports_passed_through():
    from core.contracts.vocabulary import AttemptOutcome, FailureCode, GatewayOutcome
    from orchestrator.activities.types import AttemptRecord, GatewayResult, Route, RoutePlan

# After an unknown attempt is judged never to have reached the processor, it is still looked up
# now and then for this long, and a charge that turns up after all is undone.
LATE_CHARGE_WATCH = timedelta(hours=24)
_FIRST_WATCH_POLL = timedelta(seconds=5)
_MAX_WATCH_POLL = timedelta(minutes=10)
# How long an unknown attempt may stay not found before it is judged never to have arrived,
# in resolution budgets.
_HORIZON_BUDGETS = 10


def open_obligation(
    state: PaymentState, plan: RoutePlan, route: Route, attempt: AttemptRecord
) -> None:
    # Counted here, synchronously, so `run` can never see the count before it rises.
    state.open_obligations += 1
    state.tasks.append(asyncio.create_task(_settle_obligation(state, plan, route, attempt)))


async def _settle_obligation(
    state: PaymentState, plan: RoutePlan, route: Route, attempt: AttemptRecord
) -> None:
    """Looks an unknown attempt up until the processor knows it, then makes it the payment
    (when nothing else won) or undoes it (when another attempt won). Closes the obligation
    when done."""
    still_open = True
    try:
        await record(state, attempt=attempt)
        horizon = workflow.now() + timedelta(
            seconds=_HORIZON_BUDGETS * plan.resolution_budget_seconds
        )
        result = await _look_up_until_known(state, route, attempt.attempt_key, horizon)
        if result.outcome == GatewayOutcome.NOT_FOUND:
            # Past any request the processor could still be working on: never charged. The
            # order may be decided now; a charge that turns up after all is still undone.
            await record(
                state,
                attempt=replace(
                    attempt,
                    outcome=AttemptOutcome.FAILED,
                    decline_code=FailureCode.PROCESSOR_UNAVAILABLE,
                    decline_message="the processor never received this attempt",
                ),
            )
            state.in_background(_watch_for_late_charge(state, route, attempt))
            state.open_obligations -= 1
            still_open = False
            return
        if result.outcome in WAITING:
            # A challenge nobody was shown: release it (unless it ended meanwhile).
            result = await release_challenge(state, route, attempt, result)
        if result.outcome in CHARGED:
            await claim_or_undo(state, route, attempt, result)
            return
        await record(state, attempt=with_result(attempt, result))
    finally:
        if still_open:
            state.open_obligations -= 1


async def _watch_for_late_charge(state: PaymentState, route: Route, attempt: AttemptRecord) -> None:
    """Looks up, less and less often, an attempt judged never to have arrived: a charge
    that turns up after all is undone (the order was decided without it)."""
    until = workflow.now() + LATE_CHARGE_WATCH
    poll = _FIRST_WATCH_POLL
    while workflow.now() < until:
        await state.pause(poll)
        poll = min(poll * 2, _MAX_WATCH_POLL)
        result = await processor_calls.look_up(route, attempt.attempt_key)
        if result.outcome in WAITING:
            result = await release_challenge(state, route, attempt, result)
        if result.outcome in CHARGED:
            await claim_or_undo(state, route, attempt, result)
            return
        if result.outcome in DEFINITE:
            return


async def _look_up_until_known(
    state: PaymentState, route: Route, key: str, horizon: datetime
) -> GatewayResult:
    """A definite answer about the attempt, or NOT_FOUND once past the horizon."""
    backoff = timedelta(milliseconds=500)
    while True:
        result = await processor_calls.look_up(route, key)
        if result.outcome in DEFINITE:
            return result
        if result.outcome == GatewayOutcome.NOT_FOUND and workflow.now() >= horizon:
            return result
        await state.pause(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)
