"""Charges that must not survive. The first charge to claim the order is its payment; any other
is voided (an authorization) or refunded (a capture), and the undo is checked with the
processor until it holds. A challenge nobody will finish is voided the same way."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

from orchestrator.workflows.payment import processor_calls
from orchestrator.workflows.payment.progress import record, settle_attempt
from orchestrator.workflows.payment.rules import (
    DEFINITE,
    RELEASED,
    WAITING,
    undo_method,
    undone,
    with_result,
)
from orchestrator.workflows.payment.state import Claim, PaymentState

with workflow.unsafe.imports_passed_through():
    from core.contracts.vocabulary import (
        AttemptOutcome,
        Compensation,
        FailoverReason,
        FailureCode,
        GatewayOutcome,
        OrderStatus,
        UndoMethod,
    )
    from orchestrator.activities.types import AttemptRecord, GatewayResult, Route
    from orchestrator.keys import undo_key

# Undoing a charge never gives up; a processor that keeps refusing is asked less often.
_MAX_UNDO_BACKOFF = timedelta(minutes=5)


async def claim_or_undo(
    state: PaymentState, route: Route, attempt: AttemptRecord, result: GatewayResult
) -> None:
    """A charge: the order's payment if nothing else claimed the order (and it was not
    already failed), else undone."""
    if state.winner is None and state.status not in (OrderStatus.FAILED, OrderStatus.CANCELED):
        state.winner = Claim(attempt, route, result)
        await settle_attempt(state, replace(attempt, failover_reason=FailoverReason.NONE), result)
        return
    state.background += 1
    try:
        charged = with_result(attempt, result)
        await record(state, attempt=replace(charged, compensation=Compensation.PENDING))
        done = await undo_until_done(state, route, attempt, result)
        await record(
            state, attempt=replace(charged, outcome=AttemptOutcome.CANCELED, compensation=done)
        )
    finally:
        state.background -= 1


async def undo_until_done(
    state: PaymentState, route: Route, attempt: AttemptRecord, result: GatewayResult
) -> Compensation:
    """Voids (an authorization) or refunds (a capture) until the processor confirms it;
    returns VOIDED or REFUNDED. A refused undo is followed by a lookup, so a void that lost
    the race with a capture becomes a refund."""
    method = undo_method(result.outcome)
    reference = result.processor_reference
    undo_number = 1
    backoff = timedelta(milliseconds=500)
    while True:
        key = undo_key(attempt.attempt_key, method, undo_number)
        done = await processor_calls.undo(route, method, key, reference)
        if done.outcome == GatewayOutcome.CANCELED:
            return undone(method)
        if method == UndoMethod.REFUND and done.decline_code == FailureCode.REFUND_FAILED:
            undo_number += 1  # that refund is final and failed: the next try needs a new key
        current = await processor_calls.look_up(route, attempt.attempt_key)
        if current.outcome in RELEASED:
            # Released meanwhile (by this undo's earlier try, or by someone else).
            return (
                Compensation.VOIDED
                if current.outcome == GatewayOutcome.CANCELED
                else Compensation.REFUNDED
            )
        if current.outcome in DEFINITE:
            reference = current.processor_reference or reference
            method = undo_method(current.outcome)
        await state.pause(backoff)
        backoff = min(backoff * 2, _MAX_UNDO_BACKOFF)


async def release_challenge(
    state: PaymentState, route: Route, attempt: AttemptRecord, result: GatewayResult
) -> GatewayResult:
    """Voids a payment still waiting on its customer. Returns it canceled, or as it ended
    if the customer finished first (charged or declined): the caller decides what then."""
    backoff = timedelta(milliseconds=500)
    while True:
        voided = await processor_calls.undo(
            route,
            UndoMethod.VOID,
            undo_key(attempt.attempt_key, UndoMethod.VOID),
            result.processor_reference,
        )
        if voided.outcome == GatewayOutcome.CANCELED:
            return voided
        current = await processor_calls.look_up(route, attempt.attempt_key)
        if current.outcome in DEFINITE and current.outcome not in WAITING:
            return current
        await state.pause(backoff)
        backoff = min(backoff * 2, _MAX_UNDO_BACKOFF)
