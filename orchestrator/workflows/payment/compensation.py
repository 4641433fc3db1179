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
    undo_kind,
    undone,
    with_result,
)
from orchestrator.workflows.payment.state import Claim, PaymentState

with workflow.unsafe.imports_passed_through():
    from orchestrator.activities.types import AttemptRecord, GatewayResult, Route

# Undoing a charge never gives up; a processor that keeps refusing is asked less often.
_MAX_UNDO_BACKOFF = timedelta(minutes=5)


async def claim_or_undo(
    state: PaymentState, route: Route, attempt: AttemptRecord, result: GatewayResult
) -> None:
    """A charge: the order's payment if nothing else claimed the order (and it was not
    already failed), else undone."""
    if state.winner is None and state.status not in ("failed", "canceled"):
        state.winner = Claim(attempt, route, result)
        await settle_attempt(state, replace(attempt, failover_reason=""), result)
        return
    state.background += 1
    try:
        charged = with_result(attempt, result)
        await record(state, attempt=replace(charged, compensation="pending"))
        how = await undo_until_done(state, route, attempt, result)
        await record(state, attempt=replace(charged, outcome="canceled", compensation=how))
    finally:
        state.background -= 1


async def undo_until_done(
    state: PaymentState, route: Route, attempt: AttemptRecord, result: GatewayResult
) -> str:
    """Voids (an authorization) or refunds (a capture) until the processor confirms it;
    returns "voided" or "refunded". A refused undo is followed by a lookup, so a void that
    lost the race with a capture becomes a refund."""
    how = undo_kind(result.outcome)
    reference = result.processor_reference
    refunds = 1
    backoff = timedelta(milliseconds=500)
    while True:
        key = f"{attempt.attempt_key}:{how}" + (f":{refunds}" if refunds > 1 else "")
        done = await processor_calls.undo(route, how, key, reference)
        if done.outcome == "canceled":
            return undone(how)
        if how == "refund" and done.decline_code == "refund_failed":
            refunds += 1  # that refund is final and failed: the next try needs a new key
        current = await processor_calls.look_up(route, attempt.attempt_key)
        if current.outcome in RELEASED:
            # Released meanwhile (by this undo's earlier try, or by someone else).
            return "voided" if current.outcome == "canceled" else "refunded"
        if current.outcome in DEFINITE:
            reference = current.processor_reference or reference
            how = undo_kind(current.outcome)
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
            route, "void", f"{attempt.attempt_key}:void", result.processor_reference
        )
        if voided.outcome == "canceled":
            return voided
        current = await processor_calls.look_up(route, attempt.attempt_key)
        if current.outcome in DEFINITE and current.outcome not in WAITING:
            return current
        await state.pause(backoff)
        backoff = min(backoff * 2, _MAX_UNDO_BACKOFF)
